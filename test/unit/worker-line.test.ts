import { describe, expect, it } from 'vitest';
import { WorkerLine } from '../../src/services/queue-positions';

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
    for (const free of [[0], [0, 0, 0], [5000, 0], [40, 7000, 3, 900], [1e6, 1, 2]]) {
      for (const count of [0, 1, 2, 5, 17, 1000]) {
        for (const ms of [1, 250, 3000]) {
          const line = new WorkerLine(free);
          line.takeAlike(count, ms);
          expect(line.take(ms), `free ${free}, ${count} × ${ms} ms`).toBe(oneByOne(free, count, ms));
        }
      }
    }
  });
});
