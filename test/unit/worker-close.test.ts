import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/observability/logger';
import { closeWorker } from '../../src/redis/worker-close';

/** A stand-in for a BullMQ worker: its close finishes when `finishClose` is called (or on disconnect, if `closesOnDisconnect`). */
function fakeWorker(options: { closesOnDisconnect: boolean }) {
  let finishClose = () => {};
  const calls: string[] = [];
  const worker = {
    close: () => { calls.push('close'); return new Promise<void>((resolve) => { finishClose = resolve; }); },
    disconnect: async () => { calls.push('disconnect'); if (options.closesOnDisconnect) finishClose(); },
  };
  return { worker, calls, finishClose: () => finishClose() };
}

describe('closeWorker', () => {
  const lines: { level: number; msg: string }[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  beforeEach(() => { vi.useFakeTimers(); lines.length = 0; });
  afterEach(() => vi.useRealTimers());

  it('returns as soon as the close finishes, and lets a running job finish within the grace', async () => {
    const { worker, calls, finishClose } = fakeWorker({ closesOnDisconnect: true });
    let running = 1;
    const handBack = vi.fn();
    let done = false;
    void closeWorker(worker, { graceMs: 30_000, running: () => running, handBack, logger }).then(() => { done = true; });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(done).toBe(false);
    running = 0;
    finishClose();
    await vi.advanceTimersByTimeAsync(100);
    expect(done).toBe(true);
    expect(handBack).not.toHaveBeenCalled();
    expect(calls).toEqual(['close']);
  });

  it('hands running jobs back after the grace, then drops the connections of a close left waiting on Redis', async () => {
    const { worker, calls } = fakeWorker({ closesOnDisconnect: true });
    let running = 2;
    const handBack = vi.fn(() => { running = 0; });
    let done = false;
    void closeWorker(worker, { graceMs: 30_000, running: () => running, handBack, logger }).then(() => { done = true; });
    await vi.advanceTimersByTimeAsync(29_900);
    expect(handBack).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(200);
    expect(handBack).toHaveBeenCalledOnce();
    expect(calls).toEqual(['close']);
    await vi.advanceTimersByTimeAsync(5100);
    expect(calls).toEqual(['close', 'disconnect']);
    await vi.advanceTimersByTimeAsync(100);
    expect(done).toBe(true);
    expect(lines.map((l) => l.msg)).toEqual([
      'jobs still running after the shutdown grace: handing them back',
      'worker close is waiting on Redis: dropping its connections',
    ]);
  });

  it('gives up on a close that never finishes, in bounded time, and says so', async () => {
    const { worker, calls } = fakeWorker({ closesOnDisconnect: false });
    let done = false;
    void closeWorker(worker, { graceMs: 30_000, running: () => 0, logger }).then(() => { done = true; });
    await vi.advanceTimersByTimeAsync(15_500);
    expect(done).toBe(true);
    expect(calls).toEqual(['close', 'disconnect']);
    expect(lines.at(-1)).toMatchObject({ level: 50, msg: 'worker did not close; leaving its jobs to the stalled check' });
  });

  it('drops the connections at once when a job handed back does not stop (its bookkeeping waits on a server that does not answer)', async () => {
    const { worker, calls } = fakeWorker({ closesOnDisconnect: false });
    const handBack = vi.fn();
    let done = false;
    void closeWorker(worker, { graceMs: 1000, running: () => 1, handBack, logger }).then(() => { done = true; });
    await vi.advanceTimersByTimeAsync(1100);
    expect(handBack).toHaveBeenCalledOnce();
    await vi.advanceTimersByTimeAsync(4800);
    expect(calls).toEqual(['close']);
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toEqual(['close', 'disconnect']);
    // One second for the close to finish once the connections are gone: the job holds it, so it does not.
    await vi.advanceTimersByTimeAsync(1100);
    expect(done).toBe(true);
    expect(lines.map((l) => l.msg)).toEqual([
      'jobs still running after the shutdown grace: handing them back',
      "jobs handed back did not stop (PostgreSQL or Redis does not answer): dropping the worker's connections",
      'worker did not close; leaving its jobs to the stalled check',
    ]);
  });
});
