import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FairScheduler } from '../../src/services/scheduling';

/*
 * The scheduler against real Redis and a real BullMQ queue, with a band of 8
 * priorities so that a few rounds use more tags than the band holds.
 */
const BAND_SIZE = 8;
const prefix = `t${randomBytes(5).toString('hex')}`;
const connection = { url: inject('redisUrl'), maxRetriesPerRequest: null };
let redis: Redis;
let queue: Queue;
let scheduler: FairScheduler;

beforeAll(async () => {
  redis = new Redis(inject('redisUrl'));
  queue = new Queue('fair', { connection, prefix: `${prefix}:bull` });
  scheduler = new FairScheduler(redis, prefix, { prioritizedKey: queue.keys.prioritized, bandSize: BAND_SIZE });
});
afterAll(async () => {
  await queue?.obliterate({ force: true });
  await queue?.close();
  redis?.disconnect();
});

async function enqueue(band: number, user: string, name: string): Promise<void> {
  await queue.add(name, { user }, { priority: await scheduler.priorityFor(band, user) });
}

/** Runs everything waiting through one worker, one at a time, and returns the job names in start order. */
async function drain(expected: number): Promise<string[]> {
  const order: string[] = [];
  let done: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const worker = new Worker('fair', async (job) => {
    await scheduler.started(job.priority);
    order.push(job.name);
    if (order.length === expected) done();
  }, { connection, prefix: `${prefix}:bull`, concurrency: 1 });
  await finished;
  await worker.close();
  return order;
}

describe('fair scheduler', () => {
  it('keeps round-robin between two users after more jobs than the band holds', async () => {
    for (let round = 0; round < 5; round += 1) {
      for (let i = 0; i < 4; i += 1) await enqueue(1, 'alice', `a${round}.${i}`);
      await enqueue(1, 'bob', `b${round}`);
      const order = await drain(5);
      // Bob's one job is among the first two to start, every round: not behind Alice's batch.
      expect(order.indexOf(`b${round}`), `round ${round}: ${order.join(' ')}`).toBeLessThanOrEqual(1);
    }
  });

  it('interleaves two backlogs while the line never empties', async () => {
    for (let i = 0; i < 3; i += 1) await enqueue(2, 'carol', `c${i}`);
    for (let i = 0; i < 3; i += 1) await enqueue(2, 'dave', `d${i}`);
    expect(await drain(6)).toEqual(['c0', 'd0', 'c1', 'd1', 'c2', 'd2']);
  });

  it('restarts tags when a band has nothing waiting, and keeps bands apart', async () => {
    expect(await scheduler.priorityFor(3, 'erin')).toBe(2 * BAND_SIZE + 1);
    expect(await scheduler.priorityFor(1, 'erin')).toBe(1);
  });
});
