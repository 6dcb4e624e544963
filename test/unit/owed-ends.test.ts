import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/observability/logger';
import { OwedEnds } from '../../src/services/owed-ends';

/** Rows by id: `final` ones are found by `finalAmong`; `down` makes every call fail, as during an outage. */
function ends(final: string[]) {
  const state = { down: true, told: [] as string[], reads: 0 };
  const owed = new OwedEnds<{ id: string }>({
    what: 'job',
    finalAmong: async (ids) => {
      state.reads += 1;
      if (state.down) throw new Error('connect ECONNREFUSED');
      return ids.filter((id) => final.includes(id)).map((id) => ({ id }));
    },
    announceEnd: async (row) => {
      if (state.down) throw new Error('connect ECONNREFUSED');
      state.told.push(row.id);
    },
    logger: createLogger({ level: 'silent' }),
  });
  return { owed, state };
}

describe('OwedEnds', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('tries after 1 s, then at doubling waits while the outage lasts, and tells each final row once it is over', async () => {
    const { owed, state } = ends(['a', 'b']);
    owed.owe('a');
    owed.owe('b');
    owed.owe('a');
    expect(owed.size).toBe(2);
    await vi.advanceTimersByTimeAsync(999);
    expect(state.reads).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(state.reads).toBe(1);
    // 2 s, then 4 s.
    await vi.advanceTimersByTimeAsync(2000);
    expect(state.reads).toBe(2);
    await vi.advanceTimersByTimeAsync(3999);
    expect(state.reads).toBe(2);
    state.down = false;
    await vi.advanceTimersByTimeAsync(1);
    expect(state.told).toEqual(['a', 'b']);
    expect(owed.size).toBe(0);
    // Nothing owed: no more reads.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(state.reads).toBe(3);
  });

  it('waits at most 30 s between tries, and starts again from 1 s after a success', async () => {
    const { owed, state } = ends(['a', 'b']);
    owed.owe('a');
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 4000 + 8000 + 16_000);
    expect(state.reads).toBe(5);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(state.reads).toBe(5);
    state.down = false;
    await vi.advanceTimersByTimeAsync(1);
    expect(state.told).toEqual(['a']);
    owed.owe('b');
    await vi.advanceTimersByTimeAsync(1000);
    expect(state.told).toEqual(['a', 'b']);
  });

  it('owes nothing for a row that is not final (or is gone), and nothing more once stopped', async () => {
    const { owed, state } = ends(['a']);
    state.down = false;
    owed.owe('gone');
    owed.owe('a');
    await vi.advanceTimersByTimeAsync(1000);
    expect(state.told).toEqual(['a']);
    expect(owed.size).toBe(0);
    owed.stop();
    owed.owe('a');
    expect(owed.size).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(state.reads).toBe(1);
  });
});

describe('OwedEnds with a ledger', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** An in-memory ledger: ids with the time they were written down. */
  function ledger() {
    const rows = new Map<string, number>();
    return {
      rows,
      write: async (id: string) => void (rows.has(id) || rows.set(id, Date.now())),
      erase: async (ids: string[]) => void ids.forEach((id) => rows.delete(id)),
      older: async (ms: number, limit: number) => [...rows].filter(([, at]) => at < Date.now() - ms).map(([id]) => id).slice(0, limit),
    };
  }

  it('writes an owed end down, erases it once told, and a process that dies leaves it for another to take over', async () => {
    const book = ledger();
    const told: string[] = [];
    const make = (finalRows: string[]) => new OwedEnds<{ id: string }>({
      what: 'job',
      finalAmong: async (ids) => ids.filter((id) => finalRows.includes(id)).map((id) => ({ id })),
      announceEnd: async (row) => void told.push(row.id),
      logger: createLogger({ level: 'silent' }),
      ledger: book,
    });
    const dying = make(['a']);
    const other = make(['a']);
    dying.owe('a');
    await vi.advanceTimersByTimeAsync(0);
    expect([...book.rows.keys()]).toEqual(['a']);
    // The owing process dies before its first try.
    dying.stop();
    // The other process's sweep runs every minute and takes over what is older than 30 s.
    expect(await other.adopt()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(other.size).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(told).toEqual(['a']);
    expect(other.size).toBe(0);
    expect(book.rows.size).toBe(0);
    other.stop();
  });

  it('erases a row that is not final, or gone, without telling it', async () => {
    const book = ledger();
    await book.write('gone');
    const told: string[] = [];
    const owed = new OwedEnds<{ id: string }>({
      what: 'job', finalAmong: async () => [], announceEnd: async (row) => void told.push(row.id),
      logger: createLogger({ level: 'silent' }), ledger: book,
    });
    await vi.advanceTimersByTimeAsync(31_000);
    expect(await owed.adopt()).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(told).toEqual([]);
    expect(book.rows.size).toBe(0);
    owed.stop();
  });
});
