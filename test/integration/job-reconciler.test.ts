import { UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERATION_QUEUE, type GenerationJobData } from '../../src/kernel/queues';
import { collect, gqlData, signUp, waitFor, wsClient } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { seedPendingJobs } from '../support/library';

/*
 * Rows and queue entries that disagree (docs/operations.md, "Outages of PostgreSQL or Redis"): a worker
 * that spent a job's attempts while the database was down left the entry
 * `failed` and the row PENDING. The reconciler (every second here) repairs it.
 * A stand-in worker plays the one that gave up: it fails every entry it takes
 * without touching the rows, while the real worker is paused.
 */
let app: TestApp;
const CREATE = 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id queuePosition } }';
const SMALL = { prompt: 'stranded', width: 64, height: 64, steps: 2 };
const FEED = 'subscription($id:ID!){ jobUpdated(jobId:$id) { type error { code } } }';

beforeAll(async () => {
  app = await startTestApp({ ATELIER_RECONCILE_SECONDS: '1' });
});
afterAll(() => app?.close());

/** A worker that fails every entry it takes, as one did during the outage. */
function givingUpWorker(): Worker<GenerationJobData, void> {
  return new Worker<GenerationJobData, void>(GENERATION_QUEUE, async () => {
    throw new UnrecoverableError('database unreachable');
  }, { connection: { url: app.env.REDIS_URL, maxRetriesPerRequest: null }, prefix: `${app.config.redisPrefix}:bull` });
}

const openSlots = (userId: string) => app.redis.zcard(`${app.config.redisPrefix}:quota:open:${userId}`);
const row = async (id: string) => (await app.db.query('SELECT status, error_code FROM jobs WHERE id = $1', [id]))[0];

describe('job reconciler', () => {
  it('a PENDING row whose queue entry was moved to failed is enqueued again and completes; its subscriber hears the end', async () => {
    const user = await signUp(app.url);
    await app.worker!.bullWorker.pause();
    const stranding = givingUpWorker();
    const { id } = (await gqlData<any>(app.url, CREATE, { input: SMALL }, user.token)).createGeneration;
    await waitFor(async () => (await app.queue.getJobState(id)) === 'failed', 10_000, 20);
    await stranding.close();
    expect((await row(id)).status).toBe('PENDING');

    const client = wsClient(app.url, user.token);
    const feed = collect<any>(client, FEED, { id });
    app.worker!.bullWorker.resume();
    await waitFor(async () => (await row(id)).status === 'COMPLETED', 20_000);
    await feed.done;
    await client.dispose();
    expect(feed.items.at(-1).jobUpdated.type).toBe('COMPLETED');
    expect(await openSlots(user.id)).toBe(0);
  });

  it('a waiting job past its start deadline is failed with DEADLINE_EXCEEDED and frees its slot before a worker reaches it', async () => {
    const user = await signUp(app.url);
    await app.worker!.bullWorker.pause();
    try {
      const { id } = (await gqlData<any>(app.url, CREATE, { input: { ...SMALL, deadlineSeconds: 1 } }, user.token)).createGeneration;
      const client = wsClient(app.url, user.token);
      const feed = collect<any>(client, FEED, { id });
      expect(await openSlots(user.id)).toBe(1);
      await waitFor(async () => (await row(id)).status === 'FAILED', 10_000);
      await feed.done;
      await client.dispose();
      expect(await row(id)).toEqual({ status: 'FAILED', error_code: 'DEADLINE_EXCEEDED' });
      expect(feed.items.at(-1).jobUpdated).toEqual({ type: 'FAILED', error: { code: 'DEADLINE_EXCEEDED' } });
      expect(await openSlots(user.id)).toBe(0);
      expect(await app.queue.getJobState(id)).toBe('unknown');
      const usage = await gqlData<any>(app.url, '{ usage { openJobs imagesToday } }', {}, user.token);
      expect(usage.usage).toMatchObject({ openJobs: 0, imagesToday: 0 });
    } finally {
      app.worker!.bullWorker.resume();
    }
  });

  it('a PENDING row without a queue entry (a crash between its commit and the add) is enqueued again', async () => {
    const user = await signUp(app.url);
    await app.worker!.bullWorker.pause();
    const { id } = (await gqlData<any>(app.url, CREATE, { input: SMALL }, user.token)).createGeneration;
    await app.queue.remove(id);
    expect(await app.queue.getJobState(id)).toBe('unknown');
    await waitFor(async () => (await app.queue.getJobState(id)) !== 'unknown', 10_000, 50);
    app.worker!.bullWorker.resume();
    await waitFor(async () => (await row(id)).status === 'COMPLETED', 20_000);
    expect(await openSlots(user.id)).toBe(0);
  });

  it('a PENDING row the API never announced (it died after the commit) is enqueued and announced: QUEUED, then STARTED, then COMPLETED', async () => {
    const user = await signUp(app.url);
    const [id] = await seedPendingJobs(app.db, user.id, [1]);
    await waitFor(async () => (await app.queue.getJobState(id)) !== 'unknown', 15_000, 50);
    // COMPLETED is announced after the row commits (images first): wait for the event, not the row.
    const types = async () => (await app.events.read('job', id, null)).map((e) => e.type).filter((t) => t !== 'POSITION' && t !== 'PROGRESS');
    await waitFor(async () => (await types()).includes('COMPLETED'), 20_000);
    expect(await types()).toEqual(['QUEUED', 'STARTED', 'COMPLETED']);
    expect((await row(id)).status).toBe('COMPLETED');
  });

  it('a job lost more often than it is retried fails with a code: slot released, FAILED published, no longer ahead in line', async () => {
    const user = await signUp(app.url);
    await app.worker!.bullWorker.pause();
    const stranding = givingUpWorker();
    try {
      const { id } = (await gqlData<any>(app.url, CREATE, { input: SMALL }, user.token)).createGeneration;
      const client = wsClient(app.url, user.token);
      const feed = collect<any>(client, FEED, { id });
      await feed.done;
      await client.dispose();
      expect(feed.items.at(-1).jobUpdated).toEqual({ type: 'FAILED', error: { code: 'WORKER_ERROR' } });
      expect(await row(id)).toEqual({ status: 'FAILED', error_code: 'WORKER_ERROR' });
      expect(await openSlots(user.id)).toBe(0);
    } finally {
      await stranding.close();
    }
    const next = (await gqlData<any>(app.url, CREATE, { input: SMALL }, user.token)).createGeneration;
    expect(next.queuePosition).toBe(0);
    app.worker!.bullWorker.resume();
    await waitFor(async () => (await row(next.id)).status === 'COMPLETED', 20_000);
  });

  it('recomputes quota slots from the rows: a lost release is freed, a lost admission restored', async () => {
    const user = await signUp(app.url);
    const key = `${app.config.redisPrefix}:quota:open:${user.id}`;
    await app.worker!.bullWorker.pause();
    const { id } = (await gqlData<any>(app.url, CREATE, { input: SMALL }, user.token)).createGeneration;
    // Redis lost the admission of a job still waiting, and kept the slot of one long gone.
    await app.redis.zrem(key, id);
    await app.redis.zadd(key, Date.now() - 120_000, '00000000-0000-4000-8000-000000000000');
    await waitFor(async () => {
      const members = await app.redis.zrange(key, 0, -1);
      return members.length === 1 && members[0] === id;
    }, 10_000);
    app.worker!.bullWorker.resume();
    await waitFor(async () => (await row(id)).status === 'COMPLETED', 20_000);
    expect(await openSlots(user.id)).toBe(0);
  });
});
