import { Client as PgClient } from 'pg';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectToDatabase, createScratchDatabase, testEnv } from '../support/app';
import * as factory from '../support/factories';
import { collect, gqlData, waitFor, wsClient } from '../support/graphql';
import { spawnAtelier, type AtelierProcess } from '../support/processes';

/*
 * A job that goes back to the queue after it started says so on its streams
 * (docs/architecture.md, "Back in the queue"): a QUEUED with why and its place,
 * after its last PROGRESS and before its next STARTED, live and in replay, on
 * `jobUpdated` and on its session's feed. Real processes on one PostgreSQL
 * database: a worker killed with SIGKILL (found stalled by the next worker's
 * check, 2 s locks) and a worker stopped with SIGTERM out of grace (it hands
 * the job back).
 */
const serverUrl = inject('sharedDatabaseUrl');
const procs: AtelierProcess[] = [];
let env: Record<string, string>;
let drop: () => Promise<void>;
let api: AtelierProcess;
let pg: PgClient;
let db: DataSource;
let redis: Redis;
let user: factory.TestUser;

const EVENT = 'eventId type step queuePosition requeueReason';
const JOB_FEED = `subscription($id: ID!) { jobUpdated(jobId: $id) { ${EVENT} } }`;
const SESSION_FEED = `subscription($id: ID!, $after: String) { sessionEvents(sessionId: $id, after: $after) { jobId ${EVENT} } }`;
const CREATE = 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id } }';

interface Event { eventId: string; type: string; step: number | null; queuePosition: number | null; requeueReason: string | null; jobId?: string }

beforeAll(async () => {
  if (!serverUrl) throw new Error('No PostgreSQL server: set DATABASE_URL or install PostgreSQL (apt-get install postgresql)');
  const scratch = await createScratchDatabase(serverUrl);
  drop = scratch.drop;
  env = testEnv({ DATABASE_URL: scratch.url, LOG_LEVEL: 'info', ATELIER_WORKER_LOCK_SECONDS: '2', ATELIER_SHUTDOWN_GRACE_SECONDS: '1' });
  api = await spawnAtelier('api', env);
  procs.push(api);
  pg = new PgClient({ connectionString: env.DATABASE_URL });
  await pg.connect();
  db = await connectToDatabase(env.DATABASE_URL);
  redis = new Redis(env.REDIS_URL);
  user = await factory.user({ url: api.url!, db }, { tier: 'ENTERPRISE' });
});

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  redis?.disconnect();
  await pg?.end();
  await db?.destroy();
  await drop?.();
});

async function worker(extra: Record<string, string> = {}): Promise<AtelierProcess> {
  const proc = await spawnAtelier('worker', { ...env, ...extra });
  procs.push(proc);
  return proc;
}

const status = async (id: string): Promise<string> => (await pg.query('SELECT status FROM jobs WHERE id = $1', [id])).rows[0].status;

/** The job's events in order, without the line's POSITION updates (they may come at any time while it waits). */
const story = (events: Event[]) => events.filter((e) => e.type !== 'POSITION');

/** One requeue QUEUED with `reason`, after a PROGRESS past step 2, and the next event of the job a STARTED at step 0. */
function expectToldBackInQueue(events: Event[], reason: string): void {
  const told = story(events);
  const requeued = told.filter((e) => e.type === 'QUEUED' && e.requeueReason);
  expect(requeued, JSON.stringify(told.map((e) => e.type))).toHaveLength(1);
  expect(requeued[0]).toMatchObject({ requeueReason: reason, step: 0 });
  expect(requeued[0].queuePosition).toEqual(expect.any(Number));
  const at = told.indexOf(requeued[0]);
  expect(told[at - 1]).toMatchObject({ type: 'PROGRESS' });
  expect(told[at - 1].step).toBeGreaterThanOrEqual(3);
  expect(told[at + 1]).toMatchObject({ type: 'STARTED', step: 0 });
  expect(told.at(-1)!.type).toBe('COMPLETED');
  // The first QUEUED is the submission's, with no reason.
  expect(told[0]).toMatchObject({ type: 'QUEUED', requeueReason: null });
}

describe('a started job back in the queue', () => {
  it('a worker killed mid-job: jobUpdated and the session feed hear QUEUED (WORKER_LOST) before the next STARTED, live and in replay', async () => {
    const { createSession: session } = await gqlData<any>(api.url!, 'mutation { createSession(name: "requeue room") { id } }', {}, user.token);
    const ws = wsClient(api.url!, user.token);
    const feed = collect<{ sessionEvents: Event }>(ws, SESSION_FEED, { id: session.id });
    const first = await worker();
    const { createGeneration: job } = await gqlData<any>(api.url!, CREATE, {
      input: { prompt: 'lost and found', width: 768, height: 768, steps: 120, seed: 5, sessionId: session.id },
    }, user.token);
    const live = collect<{ jobUpdated: Event }>(ws, JOB_FEED, { id: job.id });
    await waitFor(async () => live.items.some((i) => i.jobUpdated.type === 'PROGRESS' && i.jobUpdated.step! >= 3), 60_000, 20);
    // The worker's heartbeat names the job it runs (what queue ETAs count).
    const beats = Object.values(await redis.hgetall(`${env.ATELIER_REDIS_PREFIX}:workers`)).map((raw) => JSON.parse(raw));
    expect(beats.flatMap((b) => b.runningJobs ?? []).map((r: { jobId: string }) => r.jobId)).toEqual([job.id]);
    await first.kill('SIGKILL');
    expect(await status(job.id)).toBe('PROCESSING');

    const second = await worker();
    await live.done;
    expect(live.errors).toEqual([]);
    expect(await status(job.id)).toBe('COMPLETED');
    expectToldBackInQueue(live.items.map((i) => i.jobUpdated), 'WORKER_LOST');

    await waitFor(async () => feed.items.some((i) => i.sessionEvents.jobId === job.id && i.sessionEvents.type === 'COMPLETED'), 10_000, 20);
    feed.dispose();
    expectToldBackInQueue(feed.items.map((i) => i.sessionEvents).filter((e) => e.jobId === job.id), 'WORKER_LOST');

    // Replay: a subscriber who comes after the end hears the same story, and so does the session's feed from its start.
    const replay = collect<{ jobUpdated: Event }>(ws, JOB_FEED, { id: job.id });
    await replay.done;
    expect(story(replay.items.map((i) => i.jobUpdated))).toEqual(story(live.items.map((i) => i.jobUpdated)));
    const late = collect<{ sessionEvents: Event }>(ws, SESSION_FEED, { id: session.id, after: '0-0' },
      (items) => items.some((i) => i.sessionEvents.jobId === job.id && i.sessionEvents.type === 'COMPLETED'));
    await late.done;
    expectToldBackInQueue(late.items.map((i) => i.sessionEvents).filter((e) => e.jobId === job.id), 'WORKER_LOST');
    await ws.dispose();
    expect(await second.kill('SIGTERM')).toBe(0);
  }, 180_000);

  it('a worker stopped out of grace hands the job back: QUEUED (HANDED_BACK) with its place, and its log names the step it reached', async () => {
    // No grace: the job is handed back at its next step, however fast this machine renders the rest of it
    // (with a grace of 1 s an idle machine finished it before the grace was over).
    const first = await worker({ ATELIER_SHUTDOWN_GRACE_SECONDS: '0' });
    const { createGeneration: job } = await gqlData<any>(api.url!, CREATE, {
      input: { prompt: 'handed back', width: 768, height: 768, steps: 150, seed: 9 },
    }, user.token);
    const ws = wsClient(api.url!, user.token);
    const live = collect<{ jobUpdated: Event }>(ws, JOB_FEED, { id: job.id });
    await waitFor(async () => live.items.some((i) => i.jobUpdated.type === 'PROGRESS' && i.jobUpdated.step! >= 3), 60_000, 20);
    expect(await first.kill('SIGTERM')).toBe(0);
    expect(await status(job.id)).toBe('PENDING');

    const line = first.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
      .find((l) => l.msg === 'worker shutting down: job handed back to the queue');
    const reached = story(live.items.map((i) => i.jobUpdated)).filter((e) => e.type === 'PROGRESS').at(-1)!.step!;
    expect(line.step).toBeGreaterThanOrEqual(3);
    expect(line.step).toBeGreaterThanOrEqual(reached);

    await worker();
    await live.done;
    expect(live.errors).toEqual([]);
    expectToldBackInQueue(live.items.map((i) => i.jobUpdated), 'HANDED_BACK');
    await ws.dispose();
  }, 180_000);
});
