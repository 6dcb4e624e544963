import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/observability/logger';
import { Housekeeping, HOUSEKEEPING_QUEUE } from '../../src/services/housekeeping';

const prefix = `t${randomBytes(5).toString('hex')}`;
const connection = { url: inject('redisUrl'), maxRetriesPerRequest: null };
const logger = createLogger({ level: 'silent' });

afterAll(async () => {
  const queue = new Queue(HOUSEKEEPING_QUEUE, { connection, prefix: `${prefix}:bull` });
  await queue.obliterate({ force: true });
  await queue.close();
});

describe('housekeeping', () => {
  it('runs once per period across two replicas, whichever takes it, and a failing task does not stop the others', async () => {
    const PERIOD_MS = 500;
    const runs: { replica: string; at: number }[] = [];
    const replicas = ['api-1', 'api-2'].map((replica) => new Housekeeping({
      connection, prefix, logger, everyMs: PERIOD_MS,
      tasks: {
        broken: async () => { throw new Error('database away'); },
        counted: async () => runs.push({ replica, at: Date.now() }),
      },
    }));
    const started = Date.now();
    await Promise.all(replicas.map((r) => r.start()));
    await new Promise((r) => setTimeout(r, 3200));
    await Promise.all(replicas.map((r) => r.close()));
    const periods = (Date.now() - started) / PERIOD_MS;
    // One run at start, then one per period: a timer per replica would make twice as many.
    expect(runs.length).toBeGreaterThanOrEqual(Math.floor(periods) - 1);
    expect(runs.length).toBeLessThanOrEqual(Math.ceil(periods) + 1);
    const gaps = runs.slice(1).map((run, i) => run.at - runs[i].at);
    expect(Math.min(...gaps)).toBeGreaterThan(PERIOD_MS / 2);
  });
});
