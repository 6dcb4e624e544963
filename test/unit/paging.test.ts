import { describe, expect, it } from 'vitest';
import { decodeKeysetCursor, decodePositionCursor, encodeKeysetCursor, encodePositionCursor } from '../../src/kernel/paging';

const id = '2b7e1516-28ae-4d2a-abf7-158809cf4f3c';
const cursor = (text: string) => Buffer.from(text).toString('base64url');
const refusal = (decode: () => unknown) => { try { decode(); } catch (e) { return e; } return null; };

describe('keyset cursors', () => {
  it('round-trip to the microsecond, across the years PostgreSQL\'s timestamptz holds', () => {
    for (const at of ['2026-01-01T00:00:00.123456Z', '0001-01-01T00:00:00.000000Z', '9999-12-31T23:59:59.999999Z']) {
      expect(decodeKeysetCursor('jobs', encodeKeysetCursor('jobs', at, id))).toEqual({ at, id });
    }
    // Cursors from before they kept microseconds carried toISOString's milliseconds.
    expect(decodeKeysetCursor('jobs', cursor(`jobs:2026-01-01T00:00:00.123Z|${id}`))).toEqual({ at: '2026-01-01T00:00:00.123000Z', id });
    expect(decodeKeysetCursor('jobs', cursor(`2026-01-01T00:00:00Z|${id}`))).toEqual({ at: '2026-01-01T00:00:00.000000Z', id });
  });

  it('refuse a forged id or time as BAD_USER_INPUT on the field, before any query sees it', () => {
    const forged = [
      `2026-01-01T00:00:00Z|not-uuid`, `2026-01-01T00:00:00Z|${'-'.repeat(36)}`, `2026-01-01T00:00:00Z|${id.replace(/-/g, 'x')}`,
      `+275760-09-13T00:00:00.000Z|${id}`, `+010000-01-01T00:00:00.000Z|${id}`, `0000-06-01T00:00:00.000Z|${id}`, `-000001-01-01T00:00:00.000Z|${id}`,
      `not a time|${id}`, `2026-01-01T00:00:00Z|${id}|more`, `2026-01-01T00:00:00Z|`, 'nope', 'jobs:', `jobs:not a time|${id}`,
      `2026-02-30T00:00:00Z|${id}`, `2026-01-01T24:00:00Z|${id}`, `2026-01-01T00:00:00.1234567Z|${id}`, `2026-01-01 00:00:00Z|${id}`, `Jan 1 2026|${id}`,
    ];
    for (const text of forged) {
      expect(refusal(() => decodeKeysetCursor('jobs', cursor(text))), text).toMatchObject({ code: 'BAD_USER_INPUT', message: 'Invalid cursor', extensions: { field: 'after' } });
    }
    expect(refusal(() => decodeKeysetCursor('jobs', cursor('nope'), 'before'))).toMatchObject({ extensions: { field: 'before' } });
  });

  it('name their list: another list refuses them; a cursor from before lists were named is read as then', () => {
    const time = '2026-01-01T00:00:00.123Z';
    for (const other of ['albums', 'batches', 'favorites', 'datasets', 'trainingRuns'] as const) {
      expect(refusal(() => decodeKeysetCursor(other, encodeKeysetCursor('jobs', time, id))), other)
        .toMatchObject({ code: 'BAD_USER_INPUT', message: 'Invalid cursor: it is from another list', extensions: { field: 'after' } });
    }
    expect(refusal(() => decodeKeysetCursor('jobs', cursor(`zzz:${time}|${id}`)))).toMatchObject({ message: 'Invalid cursor: it is from another list' });
    expect(decodeKeysetCursor('albums', cursor(`${time}|${id}`))).toEqual({ at: '2026-01-01T00:00:00.123000Z', id });
  });
});

describe('position cursors', () => {
  it('round-trip, and refuse anything else', () => {
    expect(decodePositionCursor('Batch.jobs', encodePositionCursor('Batch.jobs', 0))).toBe(0);
    expect(decodePositionCursor('Batch.jobs', encodePositionCursor('Batch.jobs', 999_999_999))).toBe(999_999_999);
    expect(decodePositionCursor('Batch.jobs', cursor('p7'))).toBe(7);
    for (const text of ['p-1', 'p1.5', 'p9999999999', 'p', '1', 'Batch.jobs:', 'jobs:p1']) {
      expect(refusal(() => decodePositionCursor('Batch.jobs', cursor(text))), text).toMatchObject({ code: 'BAD_USER_INPUT', extensions: { field: 'after' } });
    }
    expect(refusal(() => decodeKeysetCursor('jobs', encodePositionCursor('Batch.jobs', 3)))).toMatchObject({ message: 'Invalid cursor: it is from another list' });
  });
});
