import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bookkeeping } from '../../src/services/job-lifecycle';
import { collect, gqlData, signUp, waitFor, wsClient } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { forgottenEnds } from '../support/owed-ends';
import { createLogger } from '../../src/observability/logger';
import { OwedEnds, OwedEndsLedger } from '../../src/services/owed-ends';
import type { Job } from '../../src/entities';
import { startOutageRedis, type OutageRedis } from '../support/outage-redis';

/*
 * A redis-server of this file's own, stopped as a job's last step goes out and
 * kept down past the workers' bookkeeping retries (ATELIER_OUTAGE_RETRY_SECONDS,
 * 1 s here instead of 60): the row commits COMPLETED, but the job's quota
 * release and COMPLETED (and its batch's count) cannot be written. Once Redis
 * is back, every subscriber hears the end: one watching since before the
 * outage and one that arrives after it; the job's log holds exactly one
 * COMPLETED, its slot is free and its batch is finished. Then the same state
 * made by hand while no worker can take the entry: a new subscriber is told
 * the end from the row, and the worker that takes the entry later adds no
 * second one (docs/operations.md, "Outages of PostgreSQL or Redis").
 */
const RETRY_SECONDS = 1;
let redis: OutageRedis;
let app: TestApp;

beforeAll(async () => {
  redis = await startOutageRedis('final-event-outage');
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hooks.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  app = await startTestApp({
    // A lock that lapsed during the outage is found by the stalled check within seconds of Redis's return.
    REDIS_URL: redis.url, ATELIER_OUTAGE_RETRY_SECONDS: String(RETRY_SECONDS), ATELIER_WORKER_LOCK_SECONDS: '5',
    // Webhooks may reach this file's receiver, on this machine.
    ATELIER_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32', ATELIER_WEBHOOK_BACKOFF_MS: '50',
  });
});
afterAll(async () => {
  await redis?.dispose(async () => app?.close());
  await new Promise((resolve) => receiver?.close(resolve));
});

/** What the webhook receiver got, in order. */
let receiver: http.Server;
const hooks: { type: string; data?: { job?: { id: string; status: string } } }[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FINAL = ['COMPLETED', 'FAILED', 'CANCELLED'];
const JOB_UPDATES = 'subscription($id: ID!) { jobUpdated(jobId: $id) { type step imageIds } }';
const BATCH_UPDATES = 'subscription($id: ID!) { batchUpdated(batchId: $id) { type jobId counts { completed status } } }';
/** Few steps, then a long decode and encode (about 1.5 s at 2048² on 2 cores): Redis is stopped in between. */
const input = { width: 2048, height: 2048, steps: 3, count: 2 };

type Feed = ReturnType<typeof collect<any>>;
/** Resolves when every feed has ended, or after `ms`: a subscriber that never hears the end must not hang the test. */
const ended = (feeds: Feed[], ms: number) => Promise.race([Promise.all(feeds.map((f) => f.done)), sleep(ms)]);
const lastOf = (feed: Feed) => feed.items.at(-1)?.jobUpdated;
const log = () => app.events;

/**
 * Stops Redis once `feed` (the job's jobUpdated) has its last step, waits
 * until the row says COMPLETED and past the bookkeeping retries, then starts
 * Redis again on the same port.
 */
async function completeDuringOutage(jobId: string, feed: Feed): Promise<void> {
  await waitFor(async () => feed.items.some((i) => i.jobUpdated.type === 'PROGRESS' && i.jobUpdated.step === input.steps), 60_000, 5);
  await redis.stop();
  const status = async () => (await app.db.query('SELECT status FROM jobs WHERE id = $1', [jobId]))[0].status as string;
  // Still decoding or encoding when Redis went: the completion is written during the outage.
  expect(await status()).toBe('PROCESSING');
  await waitFor(async () => (await status()) === 'COMPLETED', 60_000, 50);
  // Past the bookkeeping retries: the quota release, and COMPLETED after it, have been given up.
  await sleep(RETRY_SECONDS * 1000 + 3000);
  await redis.start();
  await waitFor(async () => (await fetch(`${app.url}/readyz`)).status === 200, 20_000);
}

/** Once the workers are done with the job's entry again, its log holds one final event, COMPLETED, at its end. */
async function expectOneCompleted(jobId: string): Promise<void> {
  await waitFor(async () => ['completed', 'unknown'].includes(await app.queue.getJobState(jobId)), 30_000, 100);
  const types = (await log().read('job', jobId, null)).map((e) => e.type);
  expect(types.filter((t) => FINAL.includes(t))).toEqual(['COMPLETED']);
  expect(types.at(-1)).toBe('COMPLETED');
}

describe('Redis down longer than the workers retry their bookkeeping, while a job completes', () => {
  it('the job log ends with its one COMPLETED once Redis is back: live and late subscribers hear the end, the slot is free', async () => {
    const user = await signUp(app.url);
    await app.db.query(`UPDATE users SET tier = 'ENTERPRISE' WHERE id = $1`, [user.id]);
    const { createGeneration: job } = await gqlData<any>(app.url,
      'mutation($input: GenerationInput!) { createGeneration(input: $input) { id } }', { input: { ...input, prompt: 'a lone lighthouse', seed: 1 } }, user.token);
    const ws = wsClient(app.url, user.token);
    const live = collect<any>(ws, JOB_UPDATES, { id: job.id });
    await completeDuringOutage(job.id, live);
    const late = collect<any>(wsClient(app.url, user.token), JOB_UPDATES, { id: job.id });
    await ended([live, late], 30_000);

    const { images } = (await gqlData<any>(app.url, 'query($id: ID!) { job(id: $id) { images { id } } }', { id: job.id }, user.token)).job;
    console.log(`live subscriber: ${live.items.length} events, the last ${JSON.stringify(lastOf(live))}; late: ${late.items.length}`);
    expect(lastOf(live)).toEqual({ type: 'COMPLETED', step: input.steps, imageIds: images.map((i: { id: string }) => i.id) });
    expect(images).toHaveLength(input.count);
    expect(late.items.map((i) => i.jobUpdated.type)).toEqual(expect.arrayContaining(['QUEUED', 'STARTED']));
    expect(lastOf(late)).toEqual(lastOf(live));
    expect([...live.errors, ...late.errors]).toEqual([]);
    await ws.dispose();
    await expectOneCompleted(job.id);
    expect(await app.redis.zcard(`${app.config.redisPrefix}:quota:open:${user.id}`)).toBe(0);
  }, 90_000);

  it('a batch job: its COMPLETED and the batch\'s final counts reach jobUpdated and batchUpdated once Redis is back', async () => {
    const user = await signUp(app.url);
    await app.db.query(`UPDATE users SET tier = 'ENTERPRISE' WHERE id = $1`, [user.id]);
    const { createBatch: batch } = await gqlData<any>(app.url,
      'mutation($input: BatchInput!) { createBatch(input: $input) { id jobs(first: 1) { edges { node { id } } } } }',
      { input: { ...input, prompts: ['a batch of one lighthouse'] } }, user.token);
    const jobId: string = batch.jobs.edges[0].node.id;
    const ws = wsClient(app.url, user.token);
    const live = collect<any>(ws, JOB_UPDATES, { id: jobId });
    const liveBatch = collect<any>(ws, BATCH_UPDATES, { id: batch.id });
    await completeDuringOutage(jobId, live);
    await ended([live, liveBatch], 30_000);

    expect(lastOf(live)).toMatchObject({ type: 'COMPLETED', step: input.steps });
    expect(liveBatch.items.at(-1)?.batchUpdated).toMatchObject({ type: 'BATCH_PROGRESS', counts: { completed: 1, status: 'COMPLETED' } });
    expect([...live.errors, ...liveBatch.errors]).toEqual([]);
    await ws.dispose();
    await expectOneCompleted(jobId);
    const batchLog = (await log().read('batch', batch.id, null)).map((e) => e.type);
    expect(batchLog.filter((t) => FINAL.includes(t))).toEqual(['COMPLETED']);
    const [row] = await app.db.query('SELECT status, completed FROM batches WHERE id = $1', [batch.id]);
    expect(row).toEqual({ status: 'COMPLETED', completed: 1 });
    expect(await app.redis.zcard(`${app.config.redisPrefix}:quota:open:${user.id}`)).toBe(0);
  }, 90_000);

  it('a subscriber of a final job whose log has no end gets it from the row while no worker holds the entry; the worker adds none', async () => {
    const user = await signUp(app.url);
    // Nobody takes the entry until the queue resumes.
    await app.queue.pause();
    let jobId = '';
    try {
      const { createGeneration: created } = await gqlData<any>(app.url, 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id } }',
        { input: { prompt: 'started and ended by hand', width: 64, height: 64, steps: 2 } }, user.token);
      jobId = created.id;
      const lifecycle = app.services.lifecycle;
      const job = (await lifecycle.transitions.find(jobId))!;
      expect(await lifecycle.start(job, 'cpu')).toBe(true);
      // What an outage past the retries leaves, without one: the completion commits, then Redis "cannot be reached".
      let steps = 0;
      const unreachable: Bookkeeping = async (step) => {
        steps += 1;
        if (steps > 1) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
        return step();
      };
      // By a worker that dies before telling the end (ends it owes are forgotten): only a subscriber or the next worker can.
      await expect(lifecycle.withBookkeeping(unreachable, undefined, forgottenEnds()).complete(job, [])).rejects.toThrow('ECONNREFUSED');
      expect((await app.db.query('SELECT status FROM jobs WHERE id = $1', [jobId]))[0].status).toBe('COMPLETED');
      expect((await log().read('job', jobId, null)).map((e) => e.type)).toEqual(['QUEUED', 'STARTED']);

      const late = collect<any>(wsClient(app.url, user.token), JOB_UPDATES, { id: jobId });
      await ended([late], 20_000);
      expect(late.items.map((i) => i.jobUpdated.type)).toEqual(['QUEUED', 'STARTED', 'COMPLETED']);
      expect(lastOf(late)).toEqual({ type: 'COMPLETED', step: 2, imageIds: [] });
      expect(late.errors).toEqual([]);
      // Told by the subscription, not by a worker: the entry still waits, and the slot is free.
      expect(['waiting', 'prioritized', 'paused']).toContain(await app.queue.getJobState(jobId));
      expect(await app.redis.zcard(`${app.config.redisPrefix}:quota:open:${user.id}`)).toBe(0);
    } finally {
      await app.queue.resume();
    }
    await expectOneCompleted(jobId);
  }, 60_000);
});

describe('an ending the API makes, which loses its end to Redis going away', () => {
  /** Bookkeeping that reaches the database (the row's transition) and then finds Redis gone: what the API's fail-fast side effects meet mid-outage. */
  const redisGoneAfterRow = (): Bookkeeping => {
    let steps = 0;
    return async (step) => {
      steps += 1;
      if (steps > 1) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
      return step();
    };
  };

  /**
   * A waiting job (nobody takes entries while `run` runs) watched from its start, withdrawn with its end lost by
   * a replica that dies before telling it (the ends it owes are forgotten).
   */
  async function withdrawnWithoutItsEnd(run: (job: { id: string; token: string; live: Feed; userId: string }) => Promise<void>): Promise<void> {
    const user = await signUp(app.url);
    await app.queue.pause();
    try {
      const { createGeneration: created } = await gqlData<any>(app.url, 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id } }',
        { input: { prompt: 'withdrawn as Redis went', width: 64, height: 64, steps: 2 } }, user.token);
      const ws = wsClient(app.url, user.token);
      const live = collect<any>(ws, JOB_UPDATES, { id: created.id });
      await waitFor(async () => live.items.length === 1, 10_000, 10);
      const lifecycle = app.services.lifecycle;
      const job = (await lifecycle.transitions.find(created.id))!;
      await expect(lifecycle.withBookkeeping(redisGoneAfterRow(), undefined, forgottenEnds()).withdraw(job, user.id)).rejects.toThrow('ECONNREFUSED');
      expect((await app.db.query('SELECT status FROM jobs WHERE id = $1', [created.id]))[0].status).toBe('CANCELLED');
      expect((await log().read('job', created.id, null)).map((e) => e.type)).toEqual(['QUEUED']);
      await run({ id: created.id, token: user.token, live, userId: user.id });
      await ended([live], 20_000);
      expect(live.items.map((i) => i.jobUpdated.type)).toEqual(['QUEUED', 'CANCELLED']);
      expect(live.errors).toEqual([]);
      expect((await log().read('job', created.id, null)).map((e) => e.type)).toEqual(['QUEUED', 'CANCELLED']);
      expect(await app.redis.zcard(`${app.config.redisPrefix}:quota:open:${user.id}`)).toBe(0);
      await ws.dispose();
    } finally {
      await app.queue.resume();
    }
  }

  it('its live subscriber hears the end once Redis is back: the rows of watched jobs are read after the reconnection', async () => {
    await withdrawnWithoutItsEnd(async ({ live }) => {
      // No worker holds an entry for it and nobody asks again: only the reconnection can tell the end.
      await sleep(300);
      expect(live.items).toHaveLength(1);
      await redis.stop();
      await redis.start();
      await waitFor(async () => (await fetch(`${app.url}/readyz`)).status === 200, 20_000);
    });
  }, 60_000);

  /**
   * A waiting job (the queue is paused by the caller) submitted with an API key that has a webhook on this
   * file's receiver, into a session whose feed is watched; its own jobUpdated has no subscriber. Resolves once
   * the feed heard its QUEUED.
   */
  async function unwatchedSessionJob(prompt: string) {
    const user = await signUp(app.url);
    const { createApiKey } = await gqlData<any>(app.url, 'mutation { createApiKey(name: "hooks") { secret apiKey { id } } }', {}, user.token);
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    await gqlData<any>(app.url, 'mutation($id: ID!, $url: String!) { setApiKeyWebhook(apiKeyId: $id, url: $url) { secret } }',
      { id: createApiKey.apiKey.id, url }, user.token);
    const { createSession } = await gqlData<any>(app.url, 'mutation { createSession(name: "outage room") { id } }', {}, user.token);
    const ws = wsClient(app.url, user.token);
    const feed = collect<any>(ws, 'subscription($s: ID!) { sessionEvents(sessionId: $s) { type jobId } }', { s: createSession.id });
    // The feed is live once it announced its viewer's presence: a QUEUED published before that would reach nobody.
    await waitFor(async () => feed.items.some((i) => i.sessionEvents.type === 'PRESENCE'), 10_000, 10);
    const { createGeneration: created } = await gqlData<any>(app.url, 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id } }',
      { input: { prompt, width: 64, height: 64, steps: 2, sessionId: createSession.id } }, createApiKey.secret);
    const ofJob = (): string[] => feed.items.map((i) => i.sessionEvents).filter((e) => e.jobId === created.id).map((e) => e.type);
    await waitFor(async () => ofJob().includes('QUEUED'), 10_000, 10);
    return { user, created: created as { id: string }, ofJob, ws };
  }

  it('with nobody watching the job: the process that made the ending tells it once Redis is back (session feed, webhook, log, slot)', async () => {
    await app.queue.pause();
    try {
      const { user, created, ofJob, ws } = await unwatchedSessionJob('withdrawn as Redis went, unwatched');
      const lifecycle = app.services.lifecycle;
      const job = (await lifecycle.transitions.find(created.id))!;
      await expect(lifecycle.withBookkeeping(redisGoneAfterRow()).withdraw(job, user.id)).rejects.toThrow('ECONNREFUSED');
      expect(lifecycle.owedEnds.size).toBe(1);
      // Redis goes away for a few of the owed end's tries.
      await redis.stop();
      await sleep(3500);
      expect(lifecycle.owedEnds.size).toBe(1);
      const owedNow = async () => (await app.metrics.registry.getSingleMetric('atelier_ends_owed')!.get()).values.find((v) => v.labels.kind === 'job')?.value;
      expect(await owedNow()).toBe(1);
      await redis.start();
      await waitFor(async () => ofJob().includes('CANCELLED'), 40_000, 50);
      expect(ofJob()).toEqual(['QUEUED', 'CANCELLED']);
      const cancelled = () => hooks.filter((h) => h.data?.job?.id === created.id && h.type === 'job.cancelled');
      await waitFor(async () => cancelled().length > 0, 20_000, 50);
      expect(cancelled().map((h) => h.data?.job?.status)).toEqual(['CANCELLED']);
      expect((await log().read('job', created.id, null)).map((e) => e.type)).toEqual(['QUEUED', 'CANCELLED']);
      expect(await app.redis.zcard(`${app.config.redisPrefix}:quota:open:${user.id}`)).toBe(0);
      expect(lifecycle.owedEnds.size).toBe(0);
      expect(await owedNow()).toBe(0);
      await ws.dispose();
    } finally {
      await app.queue.resume();
    }
  }, 90_000);

  it('with the process that made the ending gone before telling it: another process takes it over from the ledger', async () => {
    await app.queue.pause();
    try {
      const { user, created, ofJob, ws } = await unwatchedSessionJob('withdrawn by a replica that died');
      // The replica that withdraws it writes the owed end down, then dies before its first try.
      const dying = new OwedEnds<Job>({
        what: 'job', finalAmong: async () => [], announceEnd: async () => undefined, logger: createLogger({ level: 'silent' }),
        ledger: new OwedEndsLedger(app.db, 'job'),
      });
      const lifecycle = app.services.lifecycle;
      const job = (await lifecycle.transitions.find(created.id))!;
      await expect(lifecycle.withBookkeeping(redisGoneAfterRow(), undefined, dying).withdraw(job, user.id)).rejects.toThrow('ECONNREFUSED');
      dying.stop();
      const ledger = () => app.db.query('SELECT kind FROM owed_ends WHERE id = $1', [created.id]);
      await waitFor(async () => (await ledger()).length === 1, 5_000, 10);
      expect(lifecycle.owedEnds.size).toBe(0);
      // Written down less than 30 s ago: its own process may still be telling it.
      expect(await lifecycle.owedEnds.adopt()).toBe(0);
      // As the sweep finds it a minute later.
      await app.db.query("UPDATE owed_ends SET owed_at = now() - interval '1 minute' WHERE id = $1", [created.id]);
      expect(await lifecycle.owedEnds.adopt()).toBe(1);
      await waitFor(async () => ofJob().includes('CANCELLED'), 10_000, 50);
      expect(ofJob()).toEqual(['QUEUED', 'CANCELLED']);
      const cancelled = () => hooks.filter((h) => h.data?.job?.id === created.id && h.type === 'job.cancelled');
      await waitFor(async () => cancelled().length > 0, 20_000, 50);
      expect(cancelled()).toHaveLength(1);
      expect((await log().read('job', created.id, null)).map((e) => e.type)).toEqual(['QUEUED', 'CANCELLED']);
      expect(await app.redis.zcard(`${app.config.redisPrefix}:quota:open:${user.id}`)).toBe(0);
      await waitFor(async () => (await ledger()).length === 0, 5_000, 10);
      expect(lifecycle.owedEnds.size).toBe(0);
      await ws.dispose();
    } finally {
      await app.queue.resume();
    }
  }, 60_000);

  it('a cancel asked again (the first answered SERVICE_UNAVAILABLE) tells the end it lost', async () => {
    await withdrawnWithoutItsEnd(async ({ id, token }) => {
      const again = await gqlData<any>(app.url, 'mutation($id: ID!) { cancelJob(id: $id) { status } }', { id }, token);
      expect(again.cancelJob.status).toBe('CANCELLED');
    });
  }, 60_000);
});
