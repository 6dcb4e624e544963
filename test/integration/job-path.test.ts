import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/entities';
import type { NewImage } from '../../src/services/job-transitions';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { gqlData, waitFor } from '../support/graphql';

/**
 * The worker's side of a job, driven through the lifecycle directly (an API
 * process, no worker): the start and the completion are one statement each,
 * and back-to-back starts share their queue-position announcements.
 */
let app: TestApp;
let user: factory.TestUser;

beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
  user = await factory.user(app, { tier: 'ENTERPRISE' });
});
afterAll(() => app?.close());

async function row(id: string): Promise<Job> {
  return (await app.services.lifecycle.transitions.find(id))!;
}

async function events(jobId: string): Promise<{ type: string; queuePosition?: number }[]> {
  const entries = (await app.redis.xrange(`${app.config.redisPrefix}:events:job:${jobId}`, '-', '+')) as [string, string[]][];
  return entries.map(([, fields]) => JSON.parse(fields[1]));
}

function image(job: Job, index: number): NewImage {
  return {
    jobId: job.id, ownerId: job.ownerId, index, seed: job.seed + index, width: job.width, height: job.height,
    storageKey: `images/${job.id}/${index}.png`, sha256: 'ab'.repeat(32), bytes: 10, parameters: { prompt: job.prompt },
  };
}

describe('the job path', () => {
  it('back-to-back starts announce the line once at once and once half a second later, with the final places', async () => {
    const ids = [];
    for (let k = 0; k < 4; k += 1) ids.push((await factory.job(app, user, { prompt: `line ${k}` })).id);
    const waiting = ids[3];
    for (const id of ids.slice(0, 3)) expect(await app.services.lifecycle.start(await row(id), 'cpu')).toBe(true);
    await new Promise((r) => setTimeout(r, 1200));
    const positions = (await events(waiting)).filter((e) => e.type === 'POSITION');
    // One announcement per start before: three here.
    expect(positions.length).toBeGreaterThanOrEqual(1);
    expect(positions.length).toBeLessThanOrEqual(2);
    expect(positions.at(-1)!.queuePosition).toBe(0);

    const started = await row(ids[0]);
    expect(started).toMatchObject({ status: 'PROCESSING', attempts: 1, executionProvider: 'cpu', step: 0 });
    expect(started.startedAt).toBeInstanceOf(Date);
    // Picked up again (a crashed worker's job): the attempt counts, the first start time stays.
    const again = await row(ids[0]);
    expect(await app.services.lifecycle.start(again, 'cpu')).toBe(true);
    expect(await row(ids[0])).toMatchObject({ attempts: 2, startedAt: started.startedAt });
  });

  it('a job started right after the one ahead of it still hears that it moved to the front', async () => {
    // A quiet half second: the next start announces the line at once.
    await new Promise((r) => setTimeout(r, 600));
    const [front, next] = [await factory.job(app, user, { prompt: 'front' }), await factory.job(app, user, { prompt: 'next' })];
    const [frontRow, nextRow] = [await row(front.id), await row(next.id)];
    const lifecycle = app.services.lifecycle;
    await lifecycle.begin(frontRow, 'cpu');
    // As a worker does when the front job's render is short: the next start comes at once.
    const started = await lifecycle.begin(nextRow, 'cpu');
    await started!.announced;
    await waitFor(async () => (await events(next.id)).some((e) => e.type === 'POSITION'), 2_000, 20);
  });

  it('a start by id returns the whole row, and starts nothing that is final, of another model, past its deadline or gone', async () => {
    const transitions = app.services.lifecycle.transitions;
    const now = () => new Date();
    const job = await factory.job(app, user, { prompt: 'by id' });
    const pending = await row(job.id);
    const started = await transitions.startById(job.id, pending.modelId, 'cpu', now());
    // Exactly what a read after the start returns, every column converted the same way.
    expect(started).toEqual(await row(job.id));
    expect(started).toMatchObject({ status: 'PROCESSING', attempts: 1, executionProvider: 'cpu', prompt: 'by id' });
    // Picked up again (a crashed worker's job): the attempt counts (the start then tells the run before went back, JobLifecycle).
    expect(await transitions.startById(job.id, pending.modelId, 'cpu', now())).toMatchObject({ attempts: 2, startedAt: started!.startedAt });

    const otherModel = await factory.job(app, user);
    expect(await transitions.startById(otherModel.id, randomUUID(), 'cpu', now())).toBeNull();
    expect(await row(otherModel.id)).toMatchObject({ status: 'PENDING', attempts: 0 });

    const late = await factory.job(app, user, { deadlineSeconds: 1 });
    const lateRow = await row(late.id);
    expect(await transitions.startById(late.id, lateRow.modelId, 'cpu', new Date(Date.now() + 2000))).toBeNull();
    expect(await row(late.id)).toMatchObject({ status: 'PENDING', attempts: 0 });
    // Before its deadline it starts.
    expect(await transitions.startById(late.id, lateRow.modelId, 'cpu', now())).toMatchObject({ status: 'PROCESSING' });

    const cancelled = await factory.job(app, user);
    const cancelledRow = await row(cancelled.id);
    expect(await app.services.lifecycle.cancel(cancelledRow, user.id)).toBe(true);
    expect(await transitions.startById(cancelled.id, cancelledRow.modelId, 'cpu', now())).toBeNull();
    expect(await transitions.startById(randomUUID(), cancelledRow.modelId, 'cpu', now())).toBeNull();
  });

  it('completes with images, usage and the images already written, in one go; a cancelled job gets nothing', async () => {
    const [done, cancelled] = [await factory.job(app, user, { count: 2 }), await factory.job(app, user)];
    const lifecycle = app.services.lifecycle;
    const job = await row(done.id);
    await lifecycle.start(job, 'cpu');
    // A row of this job written before (the unique (job, index) index keeps it single).
    const [{ id: earlier }] = await app.db.query(
      `INSERT INTO images (id, job_id, owner_id, "index", seed, width, height, storage_key, sha256, bytes)
       VALUES (gen_random_uuid(), $1, $2, 0, 1, 64, 64, 'k', 's', 1) RETURNING id`, [job.id, job.ownerId]);
    const stored = await lifecycle.complete(job, [image(job, 0), image(job, 1)]);
    expect(stored!.map((i) => i.index)).toEqual([0, 1]);
    expect(stored![0].id).toBe(earlier);
    expect(await row(done.id)).toMatchObject({ status: 'COMPLETED', step: job.steps });
    const [usage] = await app.db.query('SELECT images FROM usage_records WHERE job_id = $1', [job.id]);
    expect(usage.images).toBe(2);
    const completed = (await events(job.id)).find((e) => e.type === 'COMPLETED') as { imageIds?: string[] } | undefined;
    expect(completed?.imageIds).toEqual(stored!.map((i) => i.id));
    expect(await lifecycle.complete(job, [image(job, 0)])).toBeNull();

    const other = await row(cancelled.id);
    expect(await lifecycle.cancel(other, user.id)).toBe(true);
    expect(await lifecycle.complete(other, [image(other, 0)])).toBeNull();
    expect(await row(cancelled.id)).toMatchObject({ status: 'CANCELLED' });
    const [{ images, usage: usageRows }] = await app.db.query(
      'SELECT (SELECT count(*)::int FROM images WHERE job_id = $1) AS images, (SELECT count(*)::int FROM usage_records WHERE job_id = $1) AS usage',
      [other.id]);
    expect([images, usageRows]).toEqual([0, 0]);
  });

  it('a run that a later start took the job from records no step, completion, failure or hand-back', async () => {
    const lifecycle = app.services.lifecycle;
    const first = await row((await factory.job(app, user)).id);
    expect(await lifecycle.start(first, 'cpu')).toBe(true);
    expect(await lifecycle.recordStep(first, 1)).toBe(true);
    // Another worker starts it again (its lock lapsed); `first` is the run that missed it.
    const second = await row(first.id);
    expect(await lifecycle.start(second, 'cpu')).toBe(true);
    expect([first.attempts, second.attempts]).toEqual([1, 2]);
    expect(await lifecycle.recordStep(first, 7)).toBe(false);
    expect(await lifecycle.complete(first, [image(first, 0)])).toBeNull();
    expect(await lifecycle.fail(first, { code: 'WORKER_ERROR', message: 'stale' })).toBe(false);
    expect(await lifecycle.requeue(first, 'HANDED_BACK')).toBe(false);
    expect(await row(first.id)).toMatchObject({ status: 'PROCESSING', step: 0, attempts: 2 });
    const [{ images }] = await app.db.query('SELECT count(*)::int AS images FROM images WHERE job_id = $1', [first.id]);
    expect(images).toBe(0);
    // The run that holds it writes all of them.
    expect(await lifecycle.recordStep(second, 3)).toBe(true);
    expect(await lifecycle.complete(second, [image(second, 0)])).toHaveLength(1);
    expect(await row(first.id)).toMatchObject({ status: 'COMPLETED', attempts: 2 });
  });

  it("a run's steps published after its return to the queue was told are dropped; the next run's go in", async () => {
    const lifecycle = app.services.lifecycle;
    const job = await row((await factory.job(app, user)).id);
    expect(await lifecycle.start(job, 'cpu')).toBe(true);
    const step = (n: number) => ({ step: n, elapsedMs: n, etaMs: 0 });
    await lifecycle.progress(job, [step(1)]);
    // The stalled check tells it back in the queue while its worker (lock lapsed, not yet noticed) still renders.
    const lost = { ...job };
    expect(await lifecycle.requeue(lost as Job, 'WORKER_LOST')).toBe(true);
    await lifecycle.progress(job, [step(2), step(3)]);
    const next = await row(job.id);
    expect(await lifecycle.start(next, 'cpu')).toBe(true);
    await lifecycle.progress(next, [step(1)]);
    const told = (await events(job.id)).filter((e) => e.type !== 'POSITION').map((e: any) => `${e.type} ${e.requeueReason ?? e.step}`);
    expect(told).toEqual(['QUEUED 0', 'STARTED 0', 'PROGRESS 1', 'QUEUED WORKER_LOST', 'STARTED 0', 'PROGRESS 1']);
  });

  it("a batch's jobs ending at once: its counts never go back, a start publishes none, and the final BATCH_PROGRESS is last", async () => {
    const { createBatch } = await gqlData<any>(app.url, 'mutation($i: BatchInput!) { createBatch(input: $i) { id } }',
      { i: { prompts: ['one', 'two', 'three'], width: 64, height: 64, steps: 2 } }, user.token);
    const ids: { id: string }[] = await app.db.query('SELECT id FROM jobs WHERE batch_id = $1 ORDER BY batch_index', [createBatch.id]);
    const jobs = await Promise.all(ids.map(({ id }) => row(id)));
    for (const job of jobs) expect(await app.services.lifecycle.start(job, 'cpu')).toBe(true);
    // As on three workers: the completions race, and so do their recounts and the batch's finish.
    await Promise.all(jobs.map((job) => app.services.lifecycle.complete(job, [image(job, 0)])));
    const entries = (await app.redis.xrange(`${app.config.redisPrefix}:events:batch:${createBatch.id}`, '-', '+')) as [string, string[]][];
    const counts = entries.map(([, fields]) => JSON.parse(fields[1])).filter((e) => e.type === 'BATCH_PROGRESS').map((e) => e.counts);
    const finished = counts.map((c) => c.completed + c.failed + c.cancelled);
    expect(counts[0]).toMatchObject({ completed: 0, status: 'RUNNING' });
    // Strictly growing: no repeat for a start, none read before another job ended and published after it.
    finished.slice(1).forEach((n, i) => expect(n >= finished[i]).toBe(true));
    expect(counts.filter((c) => c.status !== 'RUNNING')).toHaveLength(1);
    expect(counts.at(-1)).toMatchObject({ completed: 3, status: 'COMPLETED' });
    expect(new Set(counts.map((c) => JSON.stringify(c))).size).toBe(counts.length);
  });
});
