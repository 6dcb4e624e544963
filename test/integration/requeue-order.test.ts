import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/entities';
import type { JobLifecycle } from '../../src/services/job-lifecycle';
import { gqlData, signUp } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { seedPendingJobs } from '../support/library';

/*
 * Who tells a started job is back in the queue, and when (docs/architecture.md,
 * "Back in the queue"), with the moments between a stalled check's steps made
 * by hand: the API runs alone (no worker takes the entries), the stalled check
 * is `foundStalled` on a lifecycle whose bookkeeping (a worker's retries
 * through an outage) lets something happen before one of its steps. The job's
 * stream never hears QUEUED after its final event, and hears it once, before
 * the next STARTED, even when the check that moved the row is slow to tell it.
 */
let app: TestApp;
let ownerId: string;
let token: string;

beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
  const user = await signUp(app.url);
  ownerId = user.id;
  token = user.token;
  await app.db.query(`UPDATE users SET tier = 'ENTERPRISE' WHERE id = $1`, [user.id]);
});
afterAll(async () => {
  await app?.close();
});

const lifecycle = (): JobLifecycle => app.services.lifecycle;
const find = async (id: string): Promise<Job> => (await lifecycle().transitions.find(id))!;
const status = async (id: string): Promise<string> => (await find(id)).status;

/** A stream's job events in order, a requeue's QUEUED with its reason, without the line's POSITION updates. */
async function story(kind: 'job' | 'batch', id: string, jobId = id): Promise<string[]> {
  const events = await app.events.read(kind, id, null);
  return events.filter((e) => e.jobId === jobId && e.type !== 'POSITION')
    .map((e) => (e.type === 'QUEUED' && e.requeueReason ? `QUEUED:${e.requeueReason}` : e.type));
}

/** A job announced and started once (its first run), as a worker starts it. */
async function started(job: Job): Promise<Job> {
  await lifecycle().queued(job, ownerId, 0, false);
  expect(await lifecycle().start(job, 'cpu')).toBe(true);
  return job;
}

async function startedJob(): Promise<Job> {
  const [id] = await seedPendingJobs(app.db, ownerId, [5]);
  return started(await find(id));
}

/** A batch of two, submitted through the API (its jobs announced), its first job started. */
async function startedBatchJob(): Promise<{ job: Job; batchId: string }> {
  const { createBatch } = await gqlData<any>(app.url, 'mutation($i: BatchInput!) { createBatch(input: $i) { id jobs(first: 1) { edges { node { id } } } } }',
    { i: { prompts: ['one', 'two'], width: 64, height: 64, steps: 2 } }, token);
  const job = await find(createBatch.jobs.edges[0].node.id);
  expect(await lifecycle().start(job, 'cpu')).toBe(true);
  return { job, batchId: createBatch.id };
}

/** The stalled check as a worker runs it, with `meanwhile` done before its `step`-th bookkeeping step. */
function stalledCheck(step: number, meanwhile: () => Promise<unknown>): JobLifecycle {
  let steps = 0;
  return lifecycle().withBookkeeping(async (run) => {
    steps += 1;
    if (steps === step) await meanwhile();
    return run();
  });
}

describe('a stalled check racing the job', () => {
  // Its steps: read the row; read the entry's state; then the row back to PENDING and the QUEUED (one step each).
  for (const step of [2, 3, 4]) {
    it(`a job cancelled before the check's step ${step} is not told back in the queue after its end`, async () => {
      const job = await startedJob();
      await stalledCheck(step, async () => expect(await lifecycle().cancel(await find(job.id), ownerId)).toBe(true)).foundStalled(job.id);
      expect(await status(job.id)).toBe('CANCELLED');
      const told = await story('job', job.id);
      expect(told.at(-1), told.join(' ')).toBe('CANCELLED');
      expect(told.filter((t) => t === 'CANCELLED')).toHaveLength(1);
    });
  }

  it('a batch job that ends before the check tells it: neither its stream nor the batch\'s hears it back in the queue', async () => {
    const { job, batchId } = await startedBatchJob();
    await stalledCheck(4, async () => expect(await lifecycle().cancel(await find(job.id), ownerId)).toBe(true)).foundStalled(job.id);
    expect(await story('job', job.id)).toEqual(['QUEUED', 'STARTED', 'CANCELLED']);
    expect(await story('batch', batchId, job.id)).toEqual(['QUEUED', 'STARTED', 'CANCELLED']);
  });

  it('a job started again before the check tells it hears it once, before the new STARTED', async () => {
    const job = await startedJob();
    // The check has set the row back to PENDING (its third step); another worker takes the entry and starts it.
    await stalledCheck(4, async () => expect(await lifecycle().start(await find(job.id), 'cpu')).toBe(true)).foundStalled(job.id);
    expect(await story('job', job.id)).toEqual(['QUEUED', 'STARTED', 'QUEUED:WORKER_LOST', 'STARTED']);
    expect(await status(job.id)).toBe('PROCESSING');
  });
});

describe('the next start of a job whose return to the queue was never told', () => {
  // The row went back to PENDING and whoever did so never told it (a stalled check in a process that died).
  it('tells it before its STARTED (a worker that read the row)', async () => {
    const job = await startedJob();
    expect(await lifecycle().transitions.requeue(job.id, job.attempts)).toBe(true);
    expect(await lifecycle().start(await find(job.id), 'cpu')).toBe(true);
    expect(await story('job', job.id)).toEqual(['QUEUED', 'STARTED', 'QUEUED:WORKER_LOST', 'STARTED']);
  });

  it('tells it before its STARTED (a worker that starts by id), once per run that did not end', async () => {
    const job = await startedJob();
    for (let run = 1; run <= 2; run += 1) {
      expect(await lifecycle().transitions.requeue(job.id, run)).toBe(true);
      const begun = await lifecycle().beginById(job.id, job.modelId, 'cpu');
      await begun!.announced;
    }
    expect(await story('job', job.id)).toEqual(['QUEUED', 'STARTED', 'QUEUED:WORKER_LOST', 'STARTED', 'QUEUED:WORKER_LOST', 'STARTED']);
  });
});
