import { describe, expect, it, vi } from 'vitest';
import { JobKind } from '../../src/entities';
import type { RunningJob } from '../../src/observability/worker-registry';
import { freeInMs, WorkerLine } from '../../src/services/queue-positions';

/** What `takeAlike` must equal: one job at a time to the worker free first. */
function oneByOne(free: number[], count: number, ms: number): number {
  const line = new WorkerLine(free);
  for (let i = 0; i < count; i += 1) line.take(ms);
  return line.take(ms);
}

describe('WorkerLine', () => {
  it('gives each job to the worker free first', () => {
    const line = new WorkerLine([2000, 0]);
    expect([line.take(3000), line.take(3000), line.take(3000)]).toEqual([3000, 5000, 6000]);
  });

  it('counts no worker as one idle worker', () => {
    const line = new WorkerLine([]);
    expect([line.take(100), line.take(100)]).toEqual([100, 200]);
  });

  it('takes a long line of like jobs a round at a time, ending where one job at a time ends', () => {
    for (const free of [[0], [0, 0, 0], [5000, 0], [40, 7000, 3, 900], [1e6, 1, 2], [3000, 3000, 0, 6000], [250, 500, 750, 0], [0, 0, 1e6], [0, 1, 2, 5e5, 5e5, 9e5]]) {
      for (const count of [0, 1, 2, 3, 5, 17, 1000, 5000]) {
        for (const ms of [1, 250, 3000]) {
          const line = new WorkerLine(free);
          line.takeAlike(count, ms);
          expect(line.take(ms), `free ${free}, ${count} × ${ms} ms`).toBe(oneByOne(free, count, ms));
        }
      }
    }
  });

  it('costs a step per worker, not per job, for a short job behind a long one (no job at a time)', () => {
    // Two idle workers and one busy for 10⁹ ms; a million 1 ms jobs ahead: the idle two take them, half each.
    const line = new WorkerLine([0, 0, 1e9]);
    const take = vi.spyOn(line, 'take');
    line.takeAlike(1e6, 1);
    expect(take.mock.calls.length).toBeLessThan(3);
    expect(line.take(1)).toBe(5e5 + 1);
  });
});

describe('freeInMs', () => {
  const now = 1_000_000;
  const costs = new Map([['m', { fixedMs: 0, msPerMp: 100 }]]);
  /** 20 steps of one megapixel: 2,000 ms of work, started `ago` ms before now. */
  const job = (ago: number, modelId = 'm'): RunningJob => ({
    jobId: `j${ago}`, modelId, kind: JobKind.IMAGE, width: 1000, height: 1000, steps: 20, count: 1, videoFrames: null, startedAt: now - ago,
  });

  it('counts the time since a running job started as done', () => {
    expect(freeInMs([job(0)], costs, now)).toBe(2000);
    expect(freeInMs([job(500)], costs, now)).toBe(1500);
    expect(freeInMs([job(1999)], costs, now)).toBe(1);
  });

  it('counts a job already late, and a worker running nothing, as free now', () => {
    expect(freeInMs([job(5000)], costs, now)).toBe(0);
    expect(freeInMs([], costs, now)).toBe(0);
  });

  it('runs a worker\'s jobs one after another from the first one\'s start', () => {
    // Both started 500 ms ago: the second waits for the first (2,000 ms), then takes its own 2,000.
    expect(freeInMs([job(500), job(500)], costs, now)).toBe(3500);
    // The first ended before the second started: the second alone counts.
    expect(freeInMs([job(5000), job(300)], costs, now)).toBe(1700);
  });

  it('counts a job of a model with no known cost as done', () => {
    expect(freeInMs([job(0, 'unknown')], costs, now)).toBe(0);
    expect(freeInMs([job(500, 'unknown'), job(500)], costs, now)).toBe(1500);
  });

  it('names the same end however late it is read, while the jobs run at their pace', () => {
    const running = [job(0), job(0)];
    expect([0, 100, 1000, 2500, 3999, 4000].map((later) => freeInMs(running, costs, now + later) + later)).toEqual(Array(6).fill(4000));
  });
});
