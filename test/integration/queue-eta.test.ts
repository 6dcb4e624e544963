import type { GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobKind, JobStatus } from '../../src/entities';
import type { AtelierEvent, EventPublisher } from '../../src/kernel/events';
import { systemClock } from '../../src/kernel/clock';
import { WorkerPresence, type RunningJob } from '../../src/observability/worker-registry';
import { publishQueuePositions } from '../../src/services/queue-positions';
import { buildAppSchema } from '../../src/schema/build';
import type { Viewer } from '../../src/services/auth';
import { signUp } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { executeAs, seedPendingJobs, setStepCost } from '../support/library';

/*
 * Queue ETAs count the jobs the workers run and how many workers there are
 * (docs/architecture.md, "Queue ETAs"), from the workers' heartbeats in
 * Redis. The API runs alone here (nothing starts the seeded jobs); the
 * workers are heartbeats written as a worker writes them.
 */
let app: TestApp;
let schema: GraphQLSchema;
let viewer: Viewer;
let waiting: string[];
let modelId: string;
const workers: WorkerPresence[] = [];

beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
  schema = await buildAppSchema();
  await setStepCost(app.db, app.redis, app.config.redisPrefix, 100); // 100 ms per one-megapixel step
  const user = await signUp(app.url);
  viewer = (await app.services.auth.authenticate(`Bearer ${user.token}`)) as Viewer;
  waiting = await seedPendingJobs(app.db, user.id, [5, 5, 5]);
  // Each waiting job: 30 steps of one megapixel, 3,000 ms of work.
  await app.db.query('UPDATE jobs SET width = 1000, height = 1000, steps = 30 WHERE id = ANY($1)', [waiting]);
  [{ model_id: modelId }] = await app.db.query('SELECT model_id FROM jobs WHERE id = $1', [waiting[0]]);
});
afterAll(async () => {
  await stopWorkers();
  await app?.close();
});

/** A worker's heartbeat, running `running` (each started `startedAt`, now unless told). */
async function workerRunning(running: Omit<RunningJob, 'startedAt'>[], startedAt = Date.now()): Promise<void> {
  const presence = new WorkerPresence(app.redis, app.config.redisPrefix, () => ({
    executionProvider: 'cpu', configuredProviders: ['cpu'], concurrency: 1, activeJobs: running.length,
    runningJobs: running.map((job) => ({ ...job, startedAt })), loadedModels: [],
  }));
  await presence.beat();
  workers.push(presence);
}

async function stopWorkers(): Promise<void> {
  for (const presence of workers.splice(0)) await presence.stop();
}

/** 20 steps of one megapixel: 2,000 ms of work. */
const running = (): Omit<RunningJob, 'startedAt'> => ({
  jobId: crypto.randomUUID(), modelId, kind: JobKind.IMAGE, width: 1000, height: 1000, steps: 20, count: 1, videoFrames: null,
});

async function etas(): Promise<number[]> {
  const result = await executeAs(schema, app.services, viewer, '{ jobs(first: 10) { edges { node { id status queuePosition etaSeconds } } } }');
  expect(result.errors).toBeUndefined();
  const byId = new Map((result.data as any).jobs.edges.map((e: any) => [e.node.id, e.node]));
  return waiting.map((id) => {
    const node = byId.get(id) as { status: string; queuePosition: number; etaSeconds: number };
    expect(node.status).toBe(JobStatus.PENDING);
    return node.etaSeconds;
  });
}

/**
 * What a read counted: exactly `ms` for a job whose ETA does not hang on a
 * running job's progress; for one that does (`upTo`), that less the time the
 * running job ran since the heartbeat was written (at most `elapsed` ms, the
 * time from then to the read's end). In seconds, as `etaSeconds` rounds up.
 */
function expectCounted(actual: number[], expected: (number | { upTo: number })[], elapsed: number, inSeconds: boolean): void {
  const show = inSeconds ? (ms: number) => Math.ceil(ms / 1000) : (ms: number) => ms;
  expected.forEach((want, i) => {
    if (typeof want === 'number') return void expect(actual[i], `job ${i}`).toBe(show(want));
    expect(actual[i], `job ${i}`).toBeLessThanOrEqual(show(want.upTo));
    // Rounded to the ms: half a ms under.
    expect(actual[i], `job ${i}`).toBeGreaterThanOrEqual(show(want.upTo - elapsed) - (inSeconds ? 0 : 1));
  });
}

/** Runs `read` and says how long since `since` it ended. */
async function timed<T>(since: number, read: () => Promise<T>): Promise<[T, number]> {
  const value = await read();
  return [value, Date.now() - since];
}

async function positionEtas(): Promise<number[]> {
  const published: AtelierEvent[] = [];
  const events: EventPublisher = { publish: async (event) => (published.push(event), {}), publishAll: async () => undefined };
  await publishQueuePositions({ db: app.db, events, clock: systemClock, redis: app.redis, prefix: app.config.redisPrefix });
  return waiting.map((id) => (published.find((e) => e.jobId === id) as { etaMs: number }).etaMs);
}

describe('queue ETAs', () => {
  it('count the rest of the work of the job a worker runs before the first waiting job starts', async () => {
    // No worker online: the line is one idle worker's, each job waiting for the work ahead of it.
    expect(await etas()).toEqual([3, 6, 9]);
    expect(await positionEtas()).toEqual([3000, 6000, 9000]);
    const since = Date.now();
    await workerRunning([running()], since);
    try {
      // 2,000 ms left of the running job (less what it did since it started), then 3,000 ms per job.
      const ahead = [5000, 8000, 11_000].map((upTo) => ({ upTo }));
      const [seconds, elapsed] = await timed(since, etas);
      expectCounted(seconds, ahead, elapsed, true);
      const [pushed, pushedAfter] = await timed(since, positionEtas);
      expectCounted(pushed, ahead, pushedAfter, false);
    } finally {
      await stopWorkers();
    }
  });

  it('count the time a running job has run: one started 1.2 s ago has 0.8 s left', async () => {
    const since = Date.now();
    await workerRunning([running()], since - 1200);
    try {
      const ahead = [3800, 6800, 9800].map((upTo) => ({ upTo }));
      const [seconds, elapsed] = await timed(since, etas);
      expectCounted(seconds, ahead, elapsed, true);
      const [pushed, pushedAfter] = await timed(since, positionEtas);
      expectCounted(pushed, ahead, pushedAfter, false);
    } finally {
      await stopWorkers();
    }
    // One that ran past its model's pace counts as ending now: the line is the idle worker's.
    await workerRunning([running()], Date.now() - 60_000);
    try {
      expect(await etas()).toEqual([3, 6, 9]);
      expect(await positionEtas()).toEqual([3000, 6000, 9000]);
    } finally {
      await stopWorkers();
    }
  });

  it('count the workers: with a second, idle one the line moves twice as fast, the busy one taking the second job', async () => {
    const since = Date.now();
    await workerRunning([running()], since);
    await workerRunning([]);
    try {
      // The idle worker takes the first job (ends at 3 s), the busy one the second (2 s + 3 s), the idle one the third (3 s + 3 s).
      const line = [3000, { upTo: 5000 }, 6000];
      const [seconds, elapsed] = await timed(since, etas);
      expectCounted(seconds, line, elapsed, true);
      const [pushed, pushedAfter] = await timed(since, positionEtas);
      expectCounted(pushed, line, pushedAfter, false);
    } finally {
      await stopWorkers();
    }
  });

  it('a worker running two jobs (concurrency 2) renders them one after the other', async () => {
    const since = Date.now();
    await workerRunning([running(), running()], since);
    try {
      const [seconds, elapsed] = await timed(since, etas);
      expectCounted(seconds, [7000, 10_000, 13_000].map((upTo) => ({ upTo })), elapsed, true);
    } finally {
      await stopWorkers();
    }
  });
});
