import { randomUUID } from 'node:crypto';
import { Worker } from 'bullmq';
import { describe, expect, inject, it } from 'vitest';
import { REDIS_WORKER_SOCKET_TIMEOUT_MS, useAtelierRedisInBullmq, workerConnection } from '../../src/redis/connection';

/**
 * How long past its block BullMQ's watchdog lets a BZPOPMIN wait before it
 * abandons it (`RedisQueueBackend.waitForJob`: the block plus 1 s).
 */
const WATCHDOG_PAST_BLOCK_MS = 1000;

/*
 * A worker's blocking connection receives nothing while its BZPOPMIN waits,
 * so the workers' socket timeout must outlast the longest wait BullMQ gives
 * it, or an idle worker's blocking connection is destroyed and made again at
 * every long block (docs/operations.md, "A Redis connection that never
 * answers again"). That wait is BullMQ's to choose (its drain delay while the
 * queue is empty, its cap while a delayed job is due later): a BullMQ that
 * blocks longer fails here, not in production.
 */
describe("the BullMQ workers' socket timeout", () => {
  it("outlasts the longest a worker's BZPOPMIN may wait in the BullMQ installed", async () => {
    useAtelierRedisInBullmq();
    // As the app's workers are made: its worker connection options, BullMQ's defaults for the block.
    const worker = new Worker(`socket-timeout-${randomUUID()}`, async () => undefined, {
      connection: workerConnection(inject('redisUrl')), prefix: `socket-timeout-${randomUUID()}`, autorun: false,
    });
    try {
      const longestBlockMs = 1000 * Math.max(worker.opts.drainDelay ?? Infinity, worker.maximumBlockTimeout);
      expect(longestBlockMs + WATCHDOG_PAST_BLOCK_MS).toBeLessThan(REDIS_WORKER_SOCKET_TIMEOUT_MS);
    } finally {
      await worker.close();
    }
  });
});
