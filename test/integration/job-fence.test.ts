import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { collect, gqlData, waitFor, wsClient } from '../support/graphql';

/*
 * A generation job is fenced by its attempt (docs/architecture.md, "A job
 * fenced by its attempt"): each start counts one, and only the run that
 * started the job last may record its step, its completion, a failure or a
 * hand-back. Here the job is started again behind its worker's back (the
 * row's `attempts` raised, as another worker's start does), the way a worker
 * that missed its lock's loss finds itself: it must stop at its next step
 * record and write nothing more. Its entry is then left for the stalled
 * check (a 2 s lock here), and a later attempt renders the job to its end,
 * once. Before the fence, the first worker rendered on to the end beside the
 * later one, streaming its steps into the same job's events.
 */
let app: TestApp;
const lines: { msg: string; jobId?: string }[] = [];

beforeAll(async () => {
  app = await startTestApp(
    { ATELIER_WORKER_LOCK_SECONDS: '2' },
    { logger: createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } }) },
  );
});
afterAll(() => app?.close());

describe('a render whose attempt no longer holds its job', () => {
  it('stops at its next step record, writes nothing more, and the job is rendered to its end once by a later attempt', async () => {
    const u = await factory.user(app, { tier: 'ENTERPRISE' });
    // Several seconds of render on 2 cores: the step is recorded every 500 ms meanwhile.
    const { createGeneration: job } = await gqlData<any>(app.url, 'mutation($i: GenerationInput!) { createGeneration(input: $i) { id } }',
      { i: { prompt: 'a lighthouse started twice', width: 2048, height: 2048, steps: 100, count: 1, seed: 11 } }, u.token);
    const ws = wsClient(app.url, u.token);
    const feed = collect<{ jobUpdated: { type: string; step: number | null; requeueReason: string | null } }>(ws,
      'subscription($id: ID!) { jobUpdated(jobId: $id) { type step requeueReason } }', { id: job.id });
    const row = async () => (await app.db.query('SELECT status, step, attempts FROM jobs WHERE id = $1', [job.id]))[0];
    const about = () => lines.filter((l) => l.jobId === job.id).map((l) => l.msg);
    await waitFor(async () => (await row()).step > 0, 60_000, 20);

    // Another worker's start, as JobTransitions.start makes it.
    await app.db.query('UPDATE jobs SET attempts = attempts + 1 WHERE id = $1', [job.id]);
    const taken = await row();
    expect(taken).toMatchObject({ status: 'PROCESSING', attempts: 2 });
    await waitFor(async () => about().includes('job taken from this worker (started again elsewhere, or ended): it stops here'), 10_000, 10);
    // Nothing the first run rendered after that reached the row.
    const stopped = await row();
    expect({ step: stopped.step, attempts: stopped.attempts }).toEqual({ step: taken.step, attempts: 2 });

    // The row commits before the worker logs its completion.
    await waitFor(async () => (await row()).status === 'COMPLETED' && about().includes('job completed'), 120_000, 100);
    await feed.done;
    await ws.dispose();
    expect((await row()).attempts).toBe(3);
    const msgs = about();
    console.log(`what the worker logged about the job: ${[...new Set(msgs)].join(' | ')}`);
    expect(msgs.filter((m) => m === 'job completed')).toHaveLength(1);
    expect(msgs.filter((m) => m.startsWith('job was finished elsewhere'))).toEqual([]);
    // The stream: the first run, its return to the queue (the stalled check), then one whole run to COMPLETED.
    const events = feed.items.map((i) => i.jobUpdated);
    const requeued = events.findIndex((e) => e.type === 'QUEUED' && e.requeueReason === 'WORKER_LOST');
    expect(requeued).toBeGreaterThan(0);
    const after = events.slice(requeued + 1);
    expect(after[0].type).toBe('STARTED');
    const steps = after.filter((e) => e.type === 'PROGRESS').map((e) => e.step!);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(after.at(-1)!.type).toBe('COMPLETED');
    const { images } = (await gqlData<any>(app.url, 'query($id: ID!) { job(id: $id) { images { id } } }', { id: job.id }, u.token)).job;
    expect(images).toHaveLength(1);
  }, 180_000);

  it('one whose render ends before its next step record is refused at its completion: it stops there and leaves the later run its files', async () => {
    const u = await factory.user(app, { tier: 'ENTERPRISE' });
    const submit = async (seed: number) => (await gqlData<any>(app.url, 'mutation($i: GenerationInput!) { createGeneration(input: $i) { id } }',
      // A render of a few hundred milliseconds: under the 500 ms between step records, so none is written.
      { i: { prompt: 'a lighthouse completed twice', width: 768, height: 768, steps: 20, count: 1, seed } }, u.token)).createGeneration.id as string;
    const row = async (id: string) => (await app.db.query('SELECT status, attempts FROM jobs WHERE id = $1', [id]))[0];
    const waiters = async () => (await app.db.query(
      `SELECT query FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)) as { query: string }[];
    /**
     * The row held while the job renders, until its completion waits for it; then another worker's start, in the
     * same transaction. False when the render got past the hold (it completed first, or a slow one's step record
     * came first): the job then ends as usual and another is tried.
     */
    const takenAtCompletion = async (id: string): Promise<boolean> => {
      await waitFor(async () => (await row(id)).status !== 'PENDING', 30_000, 2);
      const holder = app.db.createQueryRunner();
      await holder.connect();
      await holder.startTransaction();
      let taken = false;
      try {
        const [locked] = await holder.query(`SELECT status FROM jobs WHERE id = $1 FOR UPDATE`, [id]);
        if (locked.status !== 'PROCESSING') return false;
        await waitFor(async () => (await waiters()).length > 0, 10_000, 5);
        if (!(await waiters()).some((w) => w.query.includes("'COMPLETED'"))) return false;
        await holder.query('UPDATE jobs SET attempts = attempts + 1 WHERE id = $1', [id]);
        taken = true;
      } finally {
        await holder.commitTransaction();
        await holder.release();
        if (!taken) await waitFor(async () => (await row(id)).status === 'COMPLETED', 30_000, 20);
      }
      return taken;
    };
    let id = '';
    for (let seed = 12; !id; seed += 1) {
      const candidate = await submit(seed);
      if (await takenAtCompletion(candidate)) id = candidate;
      else if (seed >= 16) throw new Error('the render got past the hold five times');
    }
    const about = () => lines.filter((l) => l.jobId === id).map((l) => l.msg);
    await waitFor(async () => about().includes('job taken from this worker (started again elsewhere, or ended): it stops here'), 10_000, 10);
    await waitFor(async () => (await row(id)).status === 'COMPLETED' && about().includes('job completed'), 60_000, 50);
    const msgs = about();
    console.log(`what the worker logged about the job: ${[...new Set(msgs)].join(' | ')}`);
    expect(msgs.filter((m) => m === 'job completed')).toHaveLength(1);
    expect(msgs.filter((m) => m.startsWith('job was finished elsewhere'))).toEqual([]);
    expect((await row(id)).attempts).toBe(3);
    // The refused run removed nothing: the image the later run recorded is there.
    const images: { storage_key: string }[] = await app.db.query('SELECT storage_key FROM images WHERE job_id = $1', [id]);
    expect(images).toHaveLength(1);
    expect(await app.services.store.exists(images[0].storage_key)).toBe(true);
  }, 180_000);
});
