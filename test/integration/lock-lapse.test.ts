import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/observability/logger';
import { createScratchDatabase, startTestApp, testEnv, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { collect, gqlData, signUp, waitFor, wsClient } from '../support/graphql';
import { startOutageRedis, type OutageRedis } from '../support/outage-redis';
import { paletteDataset } from '../support/training';

/*
 * Two workers (one in the API's process, one on its own) on one PostgreSQL and
 * a Redis of this file's own, with a queue lock of 2 s instead of 30. Redis
 * goes away for longer than the lock while a job renders: when it is back, the
 * lock has lapsed, BullMQ's stalled check gives the entry to the free worker,
 * and the worker that rendered must stop (`lockRenewalFailed`) instead of
 * rendering beside it. Before, both rendered the job to the end and one of them
 * threw its images away: "job was finished elsewhere meanwhile".
 */
let redis: OutageRedis;
let api: TestApp;
let worker: TestApp;
let drop: () => Promise<void>;
const lines: { msg: string; jobId?: string; runId?: string }[] = [];
const logger = () => createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });

beforeAll(async () => {
  const db = await createScratchDatabase(inject('sharedDatabaseUrl'));
  drop = db.drop;
  redis = await startOutageRedis('lock-lapse');
  const shared = testEnv({ DATABASE_URL: db.url, REDIS_URL: redis.url, ATELIER_WORKER_LOCK_SECONDS: '2', ATELIER_OUTAGE_RETRY_SECONDS: '30' });
  api = await startTestApp({ ...shared, ATELIER_TRAINER_ENCODING_ITERATIONS: '10' }, { logger: logger() });
  worker = await startTestApp({ ...shared, ATELIER_ROLE: 'worker', ATELIER_TRAINER_ENCODING_ITERATIONS: '10' }, { logger: logger() });
});
afterAll(() => redis?.dispose(async () => {
  await worker?.close();
  await api?.close();
  await drop?.();
}));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Redis away for longer than the 2 s lock. */
async function outageLongerThanTheLock(): Promise<void> {
  await redis.stop();
  await sleep(3500);
  await redis.start();
}

describe('a queue lock that lapses while a job renders (Redis away longer than the lock)', () => {
  it('the worker that rendered lets the job go; it is rendered again by one worker and completed once', async () => {
    const user = await signUp(api.url);
    await api.db.query(`UPDATE users SET tier = 'ENTERPRISE' WHERE id = $1`, [user.id]);
    // About 9 s of render on 2 cores: long enough that the entry is taken again while it runs.
    const { createGeneration: job } = await gqlData<any>(api.url, 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id } }',
      { input: { prompt: 'a lighthouse held past its lock', width: 2048, height: 2048, steps: 100, count: 2, seed: 3 } }, user.token);
    const ws = wsClient(api.url, user.token);
    const feed = collect<any>(ws, 'subscription($id: ID!) { jobUpdated(jobId: $id) { type step } }', { id: job.id });
    await waitFor(async () => feed.items.some((i) => i.jobUpdated.type === 'PROGRESS'), 30_000, 20);

    await outageLongerThanTheLock();

    const status = async () => (await api.db.query('SELECT status FROM jobs WHERE id = $1', [job.id]))[0].status as string;
    await waitFor(async () => (await status()) === 'COMPLETED', 120_000, 100);
    // Until neither worker runs anything: a render that went on beside the one that completed reaches its end too.
    await waitFor(async () => [api, worker].every((app) => app.worker!.describe().activeJobs === 0), 60_000, 50);
    await ws.dispose();
    const about = lines.filter((l) => l.jobId === job.id).map((l) => l.msg);
    console.log(`what the workers logged about the job: ${[...new Set(about)].join(' | ')}`);
    expect(about.filter((m) => m === 'job completed')).toHaveLength(1);
    expect(about.filter((m) => m.startsWith('job was finished elsewhere'))).toEqual([]);
    // Told by its lock's renewal, or by the job's row should another worker have started it first (a render that
    // reached its completion then is refused there: docs/architecture.md, "A job fenced by its attempt").
    expect(about.filter((m) => m === 'queue lock lost (held past its expiry): the job is left to whichever worker takes it next'
      || m === 'job taken from this worker (started again elsewhere, or ended): it stops here').length).toBeGreaterThanOrEqual(1);
    const { images } = (await gqlData<any>(api.url, 'query($id: ID!) { job(id: $id) { images { id } } }', { id: job.id }, user.token)).job;
    expect(images).toHaveLength(2);
  }, 180_000);

  it('a training run: the worker that trained lets it go, and it resumes from its checkpoint on one worker, with one LoRA', async () => {
    const u = await factory.user(api, { tier: 'PRO' });
    const datasetId = await paletteDataset(api.url, u.token, { name: 'lock-lapse', rgb: [200, 60, 30], caption: 'red' });
    // The outage starts past the first save point (200) and lasts until the trainer waits at the next one for
    // Redis to announce its checkpoint: it still holds the run when the lock has lapsed.
    const { startTraining: run } = await gqlData<any>(api.url, 'mutation($i:TrainingInput!){ startTraining(input:$i){ id } }', {
      i: { datasetId, loraName: 'held-past-its-lock', steps: 1500, saveEvery: 200, batchSize: 1, seed: 8 },
    }, u.token);
    const row = async () => (await api.db.query('SELECT status, checkpoint_step, lora_id FROM training_runs WHERE id = $1', [run.id]))[0];
    await waitFor(async () => (await row()).checkpoint_step >= 200, 120_000, 20);
    const before = (await row()).checkpoint_step as number;
    expect(before).toBeLessThan(800);
    const away = Date.now();
    await redis.stop();
    await waitFor(async () => (await row()).checkpoint_step > before, 120_000, 20);
    await sleep(away + 3500 - Date.now());

    // The run's row is held while Redis comes back: the trainer's next write (its step, a checkpoint, its completion)
    // waits for it, and so does the start of the worker that the lapsed lock gives the run to. However fast this
    // machine trains, the first trainer cannot finish the run before that start: a fast one did, in 0.5 s, before
    // either notice reached it. Let go once that start waits beside the trainer's write, or once the trainer heard
    // of its lock's loss and stopped without one.
    const holder = api.db.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    await holder.query('SELECT 1 FROM training_runs WHERE id = $1 FOR UPDATE', [run.id]);
    try {
      await redis.start();
      const waiting = async () => (await api.db.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      ))[0].n as number;
      const stoppedUnheld = () => lines.some((l) => l.runId === run.id && l.msg.startsWith('queue lock lost'));
      await waitFor(async () => { const n = await waiting(); return n >= 2 || (n >= 1 && stoppedUnheld()); }, 60_000, 20);
    } finally {
      await holder.commitTransaction();
      await holder.release();
    }

    await waitFor(async () => ['COMPLETED', 'FAILED', 'CANCELLED'].includes((await row()).status), 240_000, 200);
    // Until every trainer that started on the run has ended: one that went on beside the one that completed
    // reaches its end too.
    const trainers = () => {
      const msgs = lines.filter((l) => l.runId === run.id).map((l) => l.msg);
      const started = msgs.filter((m) => m === 'training started' || m === 'training resumed').length;
      const ended = msgs.filter((m) => /^(training completed|run was finished elsewhere|queue lock lost|run taken from this worker|training failed)|put back in the queue$/.test(m)).length;
      return { started, ended };
    };
    await waitFor(async () => trainers().started === trainers().ended, 120_000, 50);
    const about = lines.filter((l) => l.runId === run.id).map((l) => l.msg);
    console.log(`what the workers logged about the run: ${[...new Set(about)].join(' | ')}`);
    expect(await row()).toMatchObject({ status: 'COMPLETED' });
    expect(about.filter((m) => m === 'training completed')).toHaveLength(1);
    expect(about.filter((m) => m.startsWith('run was finished elsewhere'))).toEqual([]);
    // Told by its lock's renewal, or by the run's row should another worker have started the run first.
    expect(about.filter((m) => m === 'queue lock lost (held past its expiry): the run is left to whichever worker takes it next'
      || m === 'run taken from this worker (started again elsewhere, or ended): it stops here').length).toBeGreaterThanOrEqual(1);
    expect(about).toContain('training resumed');
    const loras = await api.db.query('SELECT id FROM loras WHERE training_run_id = $1', [run.id]);
    expect(loras).toEqual([{ id: (await row()).lora_id }]);
  }, 360_000);
});
