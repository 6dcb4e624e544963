import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, gql, gqlData, waitFor, wsClient } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.close());

const BATCH_FIELDS = 'id name kind total completed failed cancelled progress status completedAt grid { url width height } axes { rowLabels columnLabels }';
const CREATE = `mutation($input: BatchInput!, $key: String) { createBatch(input: $input, idempotencyKey: $key) { ${BATCH_FIELDS} } }`;
const BATCH = `query($id: ID!) { batch(id: $id) { ${BATCH_FIELDS} jobs(first: 100) { edges { node { id prompt seed steps guidanceScale status batchIndex } } } } }`;
const UPDATES = 'subscription($id: ID!, $after: String) { batchUpdated(batchId: $id, after: $after) { eventId type jobId batchId counts { total completed failed cancelled progress status } } }';
const small = { width: 64, height: 64, steps: 2 };

const batchOf = async (id: string, token: string) => (await gqlData<any>(app.url, BATCH, { id }, token)).batch;
const finished = (id: string, token: string) => waitFor(async () => {
  const batch = await batchOf(id, token);
  return batch.status !== 'RUNNING' && batch;
}, 60_000);

/** A job that keeps the single worker busy until it is cancelled, so what is queued behind it stays PENDING. */
async function holdWorker(): Promise<{ release: () => Promise<void> }> {
  const holder = await factory.user(app, { tier: 'ENTERPRISE', prefix: 'holder' });
  const { createGeneration: job } = await gqlData<any>(app.url, 'mutation($i: GenerationInput!) { createGeneration(input: $i) { id } }',
    { i: { prompt: 'hold the worker', width: 2048, height: 2048, steps: 150 } }, holder.token);
  await waitFor(async () => (await gqlData<any>(app.url, 'query($id:ID!){ job(id:$id){ status } }', { id: job.id }, holder.token)).job.status === 'PROCESSING');
  return { release: async () => void await gqlData(app.url, 'mutation($id:ID!){ cancelJob(id:$id){ status } }', { id: job.id }, holder.token) };
}

async function rowsOf(ownerId: string): Promise<{ batches: number; jobs: number }> {
  const [{ batches }] = await app.db.query('SELECT count(*)::int AS batches FROM batches WHERE owner_id = $1', [ownerId]);
  const [{ jobs }] = await app.db.query('SELECT count(*)::int AS jobs FROM jobs WHERE owner_id = $1', [ownerId]);
  return { batches, jobs };
}

describe('batches', () => {
  it('a batch of prompts completes with its counts; batchUpdated streams the job events and the counts after each', async () => {
    const owner = await factory.user(app, { tier: 'ENTERPRISE', prefix: 'prompts' });
    const prompts = ['a red fox', 'a blue whale', 'a green frog'];
    const { createBatch } = await gqlData<any>(app.url, CREATE, { input: { ...small, prompts, name: 'Animals' } }, owner.token);
    expect(createBatch).toMatchObject({ name: 'Animals', kind: 'PROMPTS', total: 3, completed: 0, progress: 0, status: 'RUNNING', grid: null });

    const ws = wsClient(app.url, owner.token);
    const feed = collect<any>(ws, UPDATES, { id: createBatch.id });
    await feed.done;
    await ws.dispose();
    expect(feed.errors).toEqual([]);
    const events = feed.items.map((i) => i.batchUpdated);
    const counts = events.filter((e) => e.type === 'BATCH_PROGRESS').map((e) => e.counts);
    expect(counts[0]).toMatchObject({ total: 3, completed: 0, status: 'RUNNING' });
    expect(counts.at(-1)).toEqual({ total: 3, completed: 3, failed: 0, cancelled: 0, progress: 1, status: 'COMPLETED' });
    // Counts only grow, and each job's COMPLETED is followed by counts that include it.
    counts.slice(1).forEach((c, i) => expect(c.completed).toBeGreaterThanOrEqual(counts[i].completed));
    const completions = events.flatMap((e, i) => (e.type === 'COMPLETED' ? [i] : []));
    expect(completions).toHaveLength(3);
    completions.forEach((at, n) => {
      const after = events.slice(at).find((e) => e.type === 'BATCH_PROGRESS');
      expect(after.counts.completed).toBeGreaterThanOrEqual(n + 1);
    });
    expect(events.every((e) => e.batchId === createBatch.id)).toBe(true);

    // A client that reconnects resumes after the last event it has: the rest, once, to the final counts.
    const again = wsClient(app.url, owner.token);
    const middle = Math.floor(events.length / 2);
    const resumed = collect<any>(again, UPDATES, { id: createBatch.id, after: events[middle].eventId });
    await resumed.done;
    expect(resumed.items.map((i) => i.batchUpdated.eventId)).toEqual(events.slice(middle + 1).map((e) => e.eventId));
    const badAfter = collect<any>(again, UPDATES, { id: createBatch.id, after: 'not-an-event-id' });
    await badAfter.done;
    expect(badAfter.errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'after' } });
    await again.dispose();

    const batch = await batchOf(createBatch.id, owner.token);
    expect(batch).toMatchObject({ total: 3, completed: 3, failed: 0, cancelled: 0, progress: 1, status: 'COMPLETED', grid: null });
    expect(batch.completedAt).not.toBeNull();
    expect(batch.jobs.edges.map((e: any) => [e.node.prompt, e.node.batchIndex, e.node.status])).toEqual(
      prompts.map((p, i) => [p, i, 'COMPLETED']));

    // Paging through the batch's jobs and through the caller's batches (Relay).
    const page = (await gqlData<any>(app.url, 'query($id:ID!){ batch(id:$id){ jobs(first: 2) { edges { node { batchIndex } } pageInfo { hasNextPage endCursor } } } }', { id: batch.id }, owner.token)).batch.jobs;
    expect(page.pageInfo.hasNextPage).toBe(true);
    const rest = (await gqlData<any>(app.url, 'query($id:ID!, $a:String){ batch(id:$id){ jobs(first: 2, after: $a) { edges { node { batchIndex } } pageInfo { hasNextPage } } } }', { id: batch.id, a: page.pageInfo.endCursor }, owner.token)).batch.jobs;
    expect(rest.edges.map((e: any) => e.node.batchIndex)).toEqual([2]);
    const list = (await gqlData<any>(app.url, '{ batches(first: 5) { edges { node { id } } pageInfo { hasNextPage } } }', {}, owner.token)).batches;
    expect(list.edges.map((e: any) => e.node.id)).toEqual([batch.id]);

    // Someone else neither sees nor watches it.
    const stranger = await factory.user(app, { prefix: 'stranger' });
    expect((await gqlData<any>(app.url, BATCH, { id: batch.id }, stranger.token)).batch).toBeNull();
    const strangerWs = wsClient(app.url, stranger.token);
    const refused = collect<any>(strangerWs, UPDATES, { id: batch.id });
    await refused.done;
    // NOT_FOUND, as batch(id) reads null: the same answer as for a batch that does not exist.
    expect(refused.errors.flat()).toMatchObject([{ message: 'Batch not found', extensions: { code: 'NOT_FOUND' } }]);
    const unknown = collect<any>(strangerWs, UPDATES, { id: '00000000-0000-4000-8000-000000000000' });
    await unknown.done;
    expect(unknown.errors.flat()).toEqual(refused.errors.flat());
    // Not an id at all: the argument is named, as everywhere else.
    const malformed = collect<any>(strangerWs, UPDATES, { id: 'nope' });
    await malformed.done;
    await strangerWs.dispose();
    expect(JSON.stringify(malformed.errors)).toContain('"code":"BAD_USER_INPUT"');
    expect(JSON.stringify(malformed.errors)).toContain('"field":"batchId"');
  });

  it('a matrix (prompts × seeds) runs every cell and finishes with a labelled grid PNG; a swept parameter sets each column', async () => {
    const owner = await factory.user(app, { tier: 'ENTERPRISE', prefix: 'matrix' });
    const matrix = { prompts: ['a castle', 'a lighthouse'], seeds: [7, 8, 9] };
    const { createBatch } = await gqlData<any>(app.url, CREATE, { input: { ...small, matrix } }, owner.token);
    expect(createBatch).toMatchObject({ kind: 'MATRIX', total: 6, name: 'a castle' });
    const batch = await finished(createBatch.id, owner.token);
    expect(batch).toMatchObject({ status: 'COMPLETED', completed: 6 });
    expect(batch.jobs.edges.map((e: any) => [e.node.prompt, e.node.seed])).toEqual([
      ['a castle', 7], ['a castle', 8], ['a castle', 9], ['a lighthouse', 7], ['a lighthouse', 8], ['a lighthouse', 9],
    ]);
    expect(batch.axes).toEqual({ rowLabels: matrix.prompts, columnLabels: ['seed 7', 'seed 8', 'seed 9'] });
    expect(createBatch.axes).toEqual(batch.axes);
    const res = await fetch(batch.grid.url);
    expect(res.status).toBe(200);
    const png = Buffer.from(await res.arrayBuffer());
    const meta = await sharp(png).metadata();
    expect(meta).toMatchObject({ format: 'png', width: batch.grid.width, height: batch.grid.height });
    // Three 64 px columns beside the label column, two rows under the header.
    expect(batch.grid.width).toBeGreaterThan(3 * 64);
    expect(batch.grid.height).toBeGreaterThan(2 * 64);
    // The label column has dark (text) pixels: the labels were rendered.
    const { data, info } = await sharp(png).extract({ left: 0, top: 28, width: batch.grid.width - 3 * 64, height: 2 * 64 }).greyscale().raw().toBuffer({ resolveWithObject: true });
    expect(data.filter((v) => v < 128).length, `dark pixels in ${info.width}×${info.height} labels`).toBeGreaterThan(20);

    const swept = (await gqlData<any>(app.url, CREATE, {
      input: { width: 64, height: 64, seed: 3, matrix: { prompts: ['a bridge'], parameter: 'STEPS', values: [1, 3] } },
    }, owner.token)).createBatch;
    const sweptDone = await finished(swept.id, owner.token);
    expect(sweptDone.jobs.edges.map((e: any) => [e.node.steps, e.node.seed])).toEqual([[1, 3], [3, 3]]);
    expect(sweptDone.axes.columnLabels).toEqual(['steps 1', 'steps 3']);
  });

  it('bad input is BAD_USER_INPUT with the field, and creates nothing', async () => {
    const owner = await factory.user(app, { tier: 'ENTERPRISE', prefix: 'bad' });
    const cases: [Record<string, unknown>, string][] = [
      [{ prompts: [] }, 'prompts'],
      [{ prompts: Array.from({ length: 101 }, (_, i) => `p${i}`) }, 'prompts'],
      [{ prompts: ['fine', '   '] }, 'prompts[1]'],
      [{ prompts: ['fine', '\u200b'] }, 'prompts[1]'],
      [{}, 'prompts'],
      [{ prompts: ['a'], matrix: { prompts: ['a'], seeds: [1] } }, 'prompts'],
      [{ matrix: { prompts: ['a'], seeds: [1], parameter: 'STEPS', values: [2] } }, 'matrix'],
      [{ matrix: { prompts: ['a'] } }, 'matrix'],
      [{ matrix: { prompts: ['a'], parameter: 'STEPS' } }, 'matrix.values'],
      [{ matrix: { prompts: ['a', 'b'], seeds: [] } }, 'matrix.seeds'],
      [{ matrix: { prompts: ['a', 'b'], seeds: [1, -5] } }, 'matrix.seeds[1]'],
      [{ matrix: { prompts: ['a'], parameter: 'GUIDANCE_SCALE', values: [7, 500] } }, 'matrix.values[1]'],
      [{ matrix: { prompts: Array.from({ length: 11 }, (_, i) => `p${i}`), seeds: Array.from({ length: 10 }, (_, i) => i) } }, 'matrix'],
      [{ prompts: ['a'], width: 63 }, 'width'],
      [{ prompts: ['a'], name: '' }, 'name'],
    ];
    for (const [input, field] of cases) {
      const res = await gql<any>(app.url, CREATE, { input: { steps: 2, ...input } }, owner.token);
      expect(res.errors?.[0].extensions, JSON.stringify(input).slice(0, 80)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    expect(await rowsOf(owner.id)).toEqual({ batches: 0, jobs: 0 });
  });

  it('20 concurrent createBatch calls that together exceed the quota admit whole batches only', async () => {
    const hold = await holdWorker();
    const owner = await factory.user(app, { tier: 'PRO', prefix: 'race' }); // 5 jobs queued or running at once
    const sizes = Array.from({ length: 20 }, (_, i) => 1 + (i % 4));
    const results = await Promise.all(sizes.map((size, i) =>
      gql<any>(app.url, CREATE, { input: { ...small, prompts: Array.from({ length: size }, (_, k) => `race ${i}.${k}`) } }, owner.token)));
    const admitted = results.flatMap((r, i) => (r.data?.createBatch ? [{ id: r.data.createBatch.id as string, size: sizes[i] }] : []));
    const refused = results.filter((r) => r.errors);
    refused.forEach((r) => expect(r.errors?.[0].extensions?.code).toBe('QUOTA_EXCEEDED'));
    const perBatch = await app.db.query(
      'SELECT b.id, b.total, count(j.id)::int AS jobs FROM batches b LEFT JOIN jobs j ON j.batch_id = b.id WHERE b.owner_id = $1 GROUP BY b.id, b.total', [owner.id]);
    console.log(`[batches] 20 concurrent createBatch, sizes ${sizes.join(',')}, PRO limit 5 open jobs: admitted ${admitted.length} `
      + `(jobs per batch: ${perBatch.map((b: any) => b.jobs).join(', ')}), refused ${refused.length}`);
    expect(admitted.length + refused.length).toBe(20);
    expect(admitted.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    // Every admitted batch has all its jobs; nothing else was written; the admitted total fits the limit.
    expect(perBatch.map((b: any) => [b.id, b.jobs]).sort()).toEqual(admitted.map((a) => [a.id, a.size]).sort());
    perBatch.forEach((b: any) => expect(b.jobs).toBe(b.total));
    const { jobs } = await rowsOf(owner.id);
    expect(jobs).toBe(admitted.reduce((sum, a) => sum + a.size, 0));
    expect(jobs).toBeLessThanOrEqual(5);
    expect(await app.redis.zcard(`${app.env.ATELIER_REDIS_PREFIX}:quota:open:${owner.id}`)).toBe(jobs);
    await hold.release();
    for (const { id } of admitted) await finished(id, owner.token);
  });

  it('when the queue refuses the entries, the rows and the quota are given back: nothing is left behind', async () => {
    const owner = await factory.user(app, { tier: 'ENTERPRISE', prefix: 'queuefail' });
    const addBulk = app.queue.addBulk.bind(app.queue);
    app.queue.addBulk = async () => {
      throw new Error('queue unavailable');
    };
    try {
      const res = await gql<any>(app.url, CREATE, { input: { ...small, prompts: ['lost', 'in', 'queue'] }, key: 'q-1' }, owner.token);
      expect(res.errors?.[0].extensions?.code).toBe('INTERNAL');
    } finally {
      app.queue.addBulk = addBulk;
    }
    expect(await rowsOf(owner.id)).toEqual({ batches: 0, jobs: 0 });
    const prefix = app.env.ATELIER_REDIS_PREFIX;
    expect(await app.redis.zcard(`${prefix}:quota:open:${owner.id}`)).toBe(0);
    expect(await app.redis.zcard(`${prefix}:quota:batches:${owner.id}`)).toBe(0);
    // The idempotency key was given up too: the same call now succeeds.
    const again = await gqlData<any>(app.url, CREATE, { input: { ...small, prompts: ['lost', 'in', 'queue'] }, key: 'q-1' }, owner.token);
    expect((await finished(again.createBatch.id, owner.token)).completed).toBe(3);
  });

  it('the same idempotencyKey returns the same batch, also when the calls race', async () => {
    const owner = await factory.user(app, { tier: 'ENTERPRISE', prefix: 'idem' });
    const input = { ...small, prompts: ['once', 'only'] };
    const [a, b] = await Promise.all([1, 2].map(() => gqlData<any>(app.url, CREATE, { input, key: 'k-1' }, owner.token)));
    expect(b.createBatch.id).toBe(a.createBatch.id);
    const again = await gqlData<any>(app.url, CREATE, { input, key: 'k-1' }, owner.token);
    expect(again.createBatch.id).toBe(a.createBatch.id);
    expect(await rowsOf(owner.id)).toEqual({ batches: 1, jobs: 2 });
    const other = await gqlData<any>(app.url, CREATE, { input, key: 'k-2' }, owner.token);
    expect(other.createBatch.id).not.toBe(a.createBatch.id);
    // The key names its request: other prompts with it are refused, and make nothing.
    const reused = await gql<any>(app.url, CREATE, { input: { ...input, prompts: ['once', 'again'] }, key: 'k-1' }, owner.token);
    expect(reused.errors?.[0].extensions).toEqual({ code: 'CONFLICT', field: 'idempotencyKey' });
    const bad = await gql<any>(app.url, CREATE, { input, key: '' }, owner.token);
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'idempotencyKey' });
    for (const id of [a.createBatch.id, other.createBatch.id]) await finished(id, owner.token);
  });

  it('cancelBatch withdraws waiting jobs at once and stops a running one at its next step', async () => {
    const owner = await factory.user(app, { tier: 'ENTERPRISE', prefix: 'cancel' });
    // The first job is slow enough to be caught running, also on a loaded machine (at 512², 120 steps one once
    // finished before the cancel reached it); the others wait behind it.
    const { createBatch } = await gqlData<any>(app.url, CREATE, { input: { width: 1024, height: 1024, steps: 150, prompts: ['slow a', 'slow b', 'slow c', 'slow d'] } }, owner.token);
    const ws = wsClient(app.url, owner.token);
    const feed = collect<any>(ws, UPDATES, { id: createBatch.id });
    await waitFor(async () => (await batchOf(createBatch.id, owner.token)).jobs.edges[0].node.status === 'PROCESSING');
    const { cancelBatch } = await gqlData<any>(app.url, 'mutation($id:ID!){ cancelBatch(id:$id){ id cancelled status } }', { id: createBatch.id }, owner.token);
    expect(cancelBatch.cancelled).toBeGreaterThanOrEqual(3);
    await feed.done;
    await ws.dispose();
    const batch = await finished(createBatch.id, owner.token);
    expect(batch).toMatchObject({ status: 'CANCELLED', cancelled: 4, completed: 0, progress: 1 });
    const [{ step }] = await app.db.query('SELECT step FROM jobs WHERE batch_id = $1 AND batch_index = 0', [createBatch.id]);
    expect(step).toBeLessThan(150);
    expect(feed.items.at(-1).batchUpdated.counts).toMatchObject({ cancelled: 4, status: 'CANCELLED' });
    // Slots went back: the owner's open-job set is empty.
    expect(await app.redis.zcard(`${app.env.ATELIER_REDIS_PREFIX}:quota:open:${owner.id}`)).toBe(0);
    const again = await gql<any>(app.url, 'mutation($id:ID!){ cancelBatch(id:$id){ id } }', { id: createBatch.id }, owner.token);
    expect(again.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'id' });
  });

  it('a batch created in a session appears live there: its counts and its jobs\' events reach a member', async () => {
    const owner = await factory.user(app, { tier: 'ENTERPRISE', prefix: 'sess' });
    const teammate = await factory.user(app, { prefix: 'mate' });
    const { createSession } = await gqlData<any>(app.url, 'mutation { createSession(name: "Batch room") { id } }', {}, owner.token);
    const { createSessionInvite } = await gqlData<any>(app.url, 'mutation($s:ID!){ createSessionInvite(sessionId:$s, role: WATCHER) { token } }', { s: createSession.id }, owner.token);
    await gqlData(app.url, 'mutation($t:String!){ joinSession(token:$t) { id } }', { t: createSessionInvite.token }, teammate.token);
    const ws = wsClient(app.url, teammate.token);
    const feed = collect<any>(ws, 'subscription($s:ID!){ sessionEvents(sessionId:$s) { type batchId jobId counts { completed total status } } }', { s: createSession.id },
      (items) => items.some((i) => i.sessionEvents.type === 'BATCH_PROGRESS' && i.sessionEvents.counts.status === 'COMPLETED'));
    await new Promise((r) => setTimeout(r, 300));
    const { createBatch } = await gqlData<any>(app.url, CREATE, { input: { ...small, sessionId: createSession.id, prompts: ['x', 'y'] } }, owner.token);
    await feed.done;
    await ws.dispose();
    const events = feed.items.map((i) => i.sessionEvents).filter((e) => e.batchId === createBatch.id);
    expect(events[0]).toMatchObject({ type: 'BATCH_PROGRESS', counts: { completed: 0, total: 2, status: 'RUNNING' } });
    expect(events.filter((e) => e.type === 'COMPLETED')).toHaveLength(2);
    expect(events.at(-1).counts).toEqual({ completed: 2, total: 2, status: 'COMPLETED' });
    // The teammate may also read and watch it.
    expect((await batchOf(createBatch.id, teammate.token)).status).toBe('COMPLETED');
  });

  it('a batch larger than the tier\'s open-job limit is refused whole, saying waiting will not help', async () => {
    const owner = await factory.user(app, { prefix: 'oversize' }); // FREE: 2 jobs queued or running at once
    const refused = await gql<any>(app.url, CREATE, { input: { ...small, prompts: ['a', 'b', 'c'] } }, owner.token);
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', field: 'batch', limit: 2, retryAfterSeconds: null });
    expect(refused.errors?.[0].message).toMatch(/allows 2 jobs at once.*higher tier/);
    expect(await rowsOf(owner.id)).toEqual({ batches: 0, jobs: 0 });
  });

  it('batches per hour are counted by tier (admin-editable); a refused batch leaves nothing', async () => {
    const admin = await factory.user(app, { role: 'ADMIN', prefix: 'admin' });
    const setLimit = (n: number) => gqlData(app.url, 'mutation($n:Int!){ updateTierPolicy(tier: PRO, input: { batchesPerHour: $n }) { batchesPerHour } }', { n }, admin.token);
    await setLimit(2);
    try {
      const owner = await factory.user(app, { tier: 'PRO', prefix: 'hourly' });
      for (let i = 0; i < 2; i += 1) {
        const { createBatch } = await gqlData<any>(app.url, CREATE, { input: { ...small, prompts: [`hour ${i}`] } }, owner.token);
        await finished(createBatch.id, owner.token);
      }
      const third = await gql<any>(app.url, CREATE, { input: { ...small, prompts: ['one too many'] } }, owner.token);
      expect(third.errors?.[0].extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', field: 'batch', limit: 2 });
      expect(await rowsOf(owner.id)).toEqual({ batches: 2, jobs: 2 });
    } finally {
      await setLimit(30);
    }
  });
});
