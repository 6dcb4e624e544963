import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as factory from '../support/factories';
import { startFleet, type Fleet } from '../support/fleet';
import { startLatencyProxy, type TcpProxy } from '../support/latency-proxy';
import type { AtelierProcess } from '../support/processes';

/*
 * A worker process (`node dist/src/main.js worker`) told to stop (SIGTERM)
 * while a job renders and the network between it and Redis, or it and
 * PostgreSQL, is cut off: every connection stops forwarding and stays open,
 * as a partition does (test/support/latency-proxy.ts). The worker must exit
 * in bounded time without an unhandled error, and the job must not be lost:
 * once the partition heals, another worker completes it exactly once
 * (docs/operations.md, "Stopping during a partition").
 */
const proxies: TcpProxy[] = [];
let fleet: Fleet;

/** The lock is short so that, once the partition heals, BullMQ's stalled check gives the job back within seconds. */
const LOCK_SECONDS = 4;

beforeAll(async () => {
  fleet = await startFleet({ LOG_LEVEL: 'info', ATELIER_SHUTDOWN_GRACE_SECONDS: '1', ATELIER_WORKER_LOCK_SECONDS: String(LOCK_SECONDS) });
}, 120_000);

afterAll(async () => {
  for (const proxy of proxies) proxy.heal();
  await fleet?.close();
  for (const proxy of proxies) await proxy.close();
});

/** Runs a job on a worker reaching `through` by a proxy, cuts the proxy off mid-render and stops the worker. */
async function stopDuringPartition(through: 'REDIS_URL' | 'DATABASE_URL', prompt: string): Promise<{ jobId: string; worker: AtelierProcess; exit: number | null; took: number }> {
  const proxy = await startLatencyProxy(fleet.env[through]!, 0);
  proxies.push(proxy);
  const worker = await fleet.spawn('worker', { [through]: proxy.url });
  const { id: jobId } = await factory.job({ url: fleet.api.url! }, fleet.user, { prompt, width: 1024, height: 1024, steps: 150, seed: 5 });
  await fleet.running(jobId, 60_000);

  proxy.partition();
  const started = Date.now();
  const exit = await worker.kill('SIGTERM');
  const took = Date.now() - started;
  console.log(`worker cut off from ${through === 'REDIS_URL' ? 'Redis' : 'PostgreSQL'} stopped in ${took} ms with code ${exit}`);
  proxy.heal();
  return { jobId, worker, exit, took };
}

/** Once the partition is over, the job is completed once, with one image and one usage record (a worker with a clear line is there to run it). */
async function completedElsewhere(jobId: string): Promise<void> {
  const second = await fleet.spawn('worker');
  // Usually by a second attempt; by the first when its render had ended before the grace did and its completion
  // was committed (the row is PostgreSQL's, its events Redis's: docs/operations.md, "A job that ends during a
  // longer outage").
  await fleet.completed(jobId, 90_000);
  const { rows: images } = await fleet.pg.query('SELECT index, seed FROM images WHERE job_id = $1 ORDER BY index', [jobId]);
  expect(images).toEqual([{ index: 0, seed: 5 }]);
  const { rows: usage } = await fleet.pg.query('SELECT images FROM usage_records WHERE job_id = $1', [jobId]);
  expect(usage).toEqual([{ images: 1 }]);
  expect(await second.kill('SIGTERM')).toBe(0);
}

function printedUnhandled(proc: AtelierProcess): string[] {
  return proc.output().split('\n').filter((line) => /Unhandled (error event|rejection)|uncaught/i.test(line));
}

describe('a worker stopped during a partition', () => {
  it.each([
    // The grace (1 s), 5 s for the hand-back (its events wait on Redis), the connections dropped, 1 s more, and
    // the queues' closes (3 s): before, 24 s, most of it a command timeout for each step queued behind the first.
    { from: 'Redis', through: 'REDIS_URL', withinMs: 16_000 },
    // The grace (1 s), 5 s for the hand-back (its statement gets no answer), then 1 s once the connections are
    // dropped: before, 21 s.
    { from: 'PostgreSQL', through: 'DATABASE_URL', withinMs: 12_000 },
  ] as const)('from $from: exits in bounded time, and the job is completed once after the partition', async ({ from, through, withinMs }) => {
    const { jobId, worker, exit, took } = await stopDuringPartition(through, `stopped while cut off from ${from}`);
    expect(took).toBeLessThan(withinMs);
    expect(exit).toBe(0);
    expect(printedUnhandled(worker)).toEqual([]);
    await completedElsewhere(jobId);
  }, 180_000);
});
