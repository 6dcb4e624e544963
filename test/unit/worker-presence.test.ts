import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { WorkerPresence } from '../../src/observability/worker-registry';

/*
 * A worker beats when a job begins or ends there (docs/architecture.md, "Queue ETAs"); at a high concurrency
 * many do at once, and each beat rewrites its whole list of running jobs: a burst is two writes, the last
 * saying the latest.
 */
describe('WorkerPresence.beatSoon', () => {
  it('makes a burst of changes one write now and one after it, the last with what holds then', async () => {
    const writes: { activeJobs: number }[] = [];
    let answer: () => void = () => undefined;
    const redis = {
      hset: (_key: string, _field: string, value: string) => {
        writes.push(JSON.parse(value));
        return new Promise<number>((resolve) => { answer = () => resolve(1); });
      },
    } as unknown as Redis;
    let active = 0;
    const presence = new WorkerPresence(redis, 'test', () => ({
      executionProvider: null, configuredProviders: [], concurrency: 64, activeJobs: active, runningJobs: [], loadedModels: [],
    }));
    for (let i = 0; i < 64; i += 1) {
      active += 1;
      presence.beatSoon();
    }
    expect(writes.map((w) => w.activeJobs)).toEqual([1]);
    answer();
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes.map((w) => w.activeJobs)).toEqual([1, 64]);
    answer();
    await new Promise((resolve) => setImmediate(resolve));
    // Nothing changed since: no third write.
    expect(writes).toHaveLength(2);
    active = 63;
    presence.beatSoon();
    expect(writes.map((w) => w.activeJobs)).toEqual([1, 64, 63]);
    answer();
  });

  it('writes nothing once stopped: the removed entry stays removed', async () => {
    const calls: string[] = [];
    const redis = {
      status: 'ready',
      hset: async () => { calls.push('hset'); return 1; },
      hdel: async () => { calls.push('hdel'); return 1; },
    } as unknown as Redis;
    const presence = new WorkerPresence(redis, 'test', () => ({
      executionProvider: null, configuredProviders: [], concurrency: 1, activeJobs: 0, runningJobs: [], loadedModels: [],
    }));
    presence.beatSoon();
    presence.beatSoon();
    await presence.stop();
    presence.beatSoon();
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual(['hset', 'hdel']);
  });
});
