import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, gqlData, signUp } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { jobImageKey } from '../../src/storage/job-files';

let app: TestApp;
let user: factory.TestUser;
const CREATE = 'mutation($input: GenerationInput!, $key: String) { createGeneration(input: $input, idempotencyKey: $key) { id status seed width height steps guidanceScale count prompt } }';

beforeAll(async () => {
  // API only: jobs stay PENDING, so queue entries can be counted.
  app = await startTestApp({ ATELIER_ROLE: 'api' });
  user = await factory.user(app, { tier: 'ENTERPRISE' });
});
afterAll(() => app?.close());

async function jobsAndQueue(): Promise<{ rows: number; queued: number }> {
  const [{ count }] = await app.db.query('SELECT count(*)::int AS count FROM jobs');
  const counts = await app.queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed');
  return { rows: count, queued: Object.values(counts).reduce((a, b) => a + b, 0) };
}

describe('createGeneration input validation', () => {
  const invalid: [string, Record<string, unknown>, string][] = [
    ['empty prompt', { prompt: '   ' }, 'prompt'],
    ['prompt of zero-width characters only', { prompt: ' \u200b\u200d\u2060\ufeff ' }, 'prompt'],
    ['5,000-character prompt', { prompt: 'x'.repeat(5000) }, 'prompt'],
    ['width not a multiple of 8', { prompt: 'cat', width: 250 }, 'width'],
    ['height too small', { prompt: 'cat', height: 32 }, 'height'],
    ['steps 0', { prompt: 'cat', steps: 0 }, 'steps'],
    ['steps 151', { prompt: 'cat', steps: 151 }, 'steps'],
    ['negative seed', { prompt: 'cat', seed: -1 }, 'seed'],
    ['guidance 99', { prompt: 'cat', guidanceScale: 99 }, 'guidanceScale'],
    ['guidance 0.5', { prompt: 'cat', guidanceScale: 0.5 }, 'guidanceScale'],
    ['count 0', { prompt: 'cat', count: 0 }, 'count'],
    ['LoRA weight 3', { prompt: 'cat', loras: [{ loraId: '00000000-0000-4000-8000-000000000000', weight: 3 }] }, 'loras[0].weight'],
    ['model id not a UUID', { prompt: 'cat', modelId: 'nope' }, 'modelId'],
    ['unknown model', { prompt: 'cat', modelId: '00000000-0000-4000-8000-000000000000' }, 'modelId'],
    ['deadline 0', { prompt: 'cat', deadlineSeconds: 0 }, 'deadlineSeconds'],
  ];
  it.each(invalid)('%s → BAD_USER_INPUT on %s, nothing written', async (_name, input, field) => {
    const before = await jobsAndQueue();
    const res = await gql(app.url, CREATE, { input }, user.token);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(res.data).toBeNull();
    expect(await jobsAndQueue()).toEqual(before);
  });

  it('accepts a valid request, applies defaults and records the chosen seed', async () => {
    const before = await jobsAndQueue();
    const res = await gqlData<any>(app.url, CREATE, { input: { prompt: '  a lighthouse at dusk  ' } }, user.token);
    expect(res.createGeneration).toMatchObject({ status: 'PENDING', width: 512, height: 512, steps: 20, guidanceScale: 7.5, count: 1, prompt: 'a lighthouse at dusk' });
    expect(res.createGeneration.seed).toBeGreaterThanOrEqual(0);
    const after = await jobsAndQueue();
    expect(after.rows).toBe(before.rows + 1);
    expect(after.queued).toBe(before.queued + 1);
    const queued = await app.queue.getJob(res.createGeneration.id);
    expect(queued?.data.jobId).toBe(res.createGeneration.id);
  });

  it('twenty concurrent calls with one idempotencyKey give one job', async () => {
    const before = await jobsAndQueue();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => gqlData<any>(app.url, CREATE, { input: { prompt: 'same thing', seed: 7 }, key: 'order-42' }, user.token)),
    );
    const ids = new Set(results.map((r) => r.createGeneration.id));
    expect(ids.size).toBe(1);
    expect(await jobsAndQueue()).toEqual({ rows: before.rows + 1, queued: before.queued + 1 });
    const other = await factory.user(app, { tier: 'ENTERPRISE' });
    const theirs = await gqlData<any>(app.url, CREATE, { input: { prompt: 'same thing' }, key: 'order-42' }, other.token);
    expect(ids.has(theirs.createGeneration.id)).toBe(false);
    // The same input with its fields in another order is the same request.
    const reordered = await gqlData<any>(app.url, CREATE, { input: { seed: 7, prompt: 'same thing' }, key: 'order-42' }, user.token);
    expect(ids.has(reordered.createGeneration.id)).toBe(true);
  });

  it('an idempotencyKey names one request: other input, or a clip, with it is refused with CONFLICT and makes nothing', async () => {
    const first = await gqlData<any>(app.url, CREATE, { input: { prompt: 'a harbour at dawn', seed: 3 }, key: 'order-43' }, user.token);
    const before = await jobsAndQueue();
    const otherPrompt = await gql<any>(app.url, CREATE, { input: { prompt: 'a harbour at dusk', seed: 3 }, key: 'order-43' }, user.token);
    expect(otherPrompt.errors?.[0].extensions).toEqual({ code: 'CONFLICT', field: 'idempotencyKey' });
    expect(otherPrompt.errors?.[0].message).toMatch(/different request/);
    const clip = await gql<any>(app.url, 'mutation($input: VideoInput!, $key: String) { createVideo(input: $input, idempotencyKey: $key) { id kind } }',
      { input: { prompt: 'a harbour at dawn', seed: 3, durationSeconds: 0.5, fps: 2 }, key: 'order-43' }, user.token);
    expect(clip.errors?.[0].extensions).toEqual({ code: 'CONFLICT', field: 'idempotencyKey' });
    expect(await jobsAndQueue()).toEqual(before);
    // The first request again still gets its job, with its prompt spaced as the service stores it or not.
    const again = await gqlData<any>(app.url, CREATE, { input: { prompt: 'a harbour at dawn', seed: 3 }, key: 'order-43' }, user.token);
    expect(again.createGeneration.id).toBe(first.createGeneration.id);
    const spaced = await gqlData<any>(app.url, CREATE, { input: { prompt: '  a harbour at dawn ', seed: 3 }, key: 'order-43' }, user.token);
    expect(spaced.createGeneration.id).toBe(first.createGeneration.id);
    expect(await jobsAndQueue()).toEqual(before);
  });

  it('cancels a pending job: CANCELLED, removed from the queue', async () => {
    const job = (await gqlData<any>(app.url, CREATE, { input: { prompt: 'to cancel' } }, user.token)).createGeneration;
    const res = await gqlData<any>(app.url, 'mutation($id:ID!){ cancelJob(id:$id) { status } }', { id: job.id }, user.token);
    expect(res.cancelJob.status).toBe('CANCELLED');
    expect(await app.queue.getJob(job.id)).toBeUndefined();
  });

  it('a job that ends cancelled leaves no files behind from a run cut short before it recorded them', async () => {
    const job = (await gqlData<any>(app.url, CREATE, { input: { prompt: 'cut short', count: 2 } }, user.token)).createGeneration;
    // What a worker killed between storing its PNGs and recording them leaves, the job back in the queue.
    for (const index of [0, 1]) await app.services.store.put(jobImageKey(job.id, index), Buffer.from('png'), 'image/png');
    await gqlData(app.url, 'mutation($id:ID!){ cancelJob(id:$id) { status } }', { id: job.id }, user.token);
    expect(await Promise.all([0, 1].map((index) => app.services.store.exists(jobImageKey(job.id, index))))).toEqual([false, false]);
  });

  it('a job whose state does not allow the change is CONFLICT on id, and nothing changes', async () => {
    const job = (await gqlData<any>(app.url, CREATE, { input: { prompt: 'in the way' } }, user.token)).createGeneration;
    const answer = async (mutation: string) => {
      const res = await gql<any>(app.url, `mutation($id:ID!){ ${mutation}(id:$id) ${mutation === 'deleteJob' ? '' : '{ id }'} }`, { id: job.id }, user.token);
      return { extensions: res.errors?.[0].extensions, status: (await app.db.query('SELECT status FROM jobs WHERE id = $1', [job.id]))[0].status };
    };
    expect(await answer('retryJob')).toEqual({ extensions: { code: 'CONFLICT', field: 'id' }, status: 'PENDING' });
    expect(await answer('deleteJob')).toEqual({ extensions: { code: 'CONFLICT', field: 'id' }, status: 'PENDING' });
    await app.db.query(`UPDATE jobs SET status = 'COMPLETED' WHERE id = $1`, [job.id]);
    expect(await answer('cancelJob')).toEqual({ extensions: { code: 'CONFLICT', field: 'id' }, status: 'COMPLETED' });
  });

  it('lists my jobs as a Relay connection with filters and cursors', async () => {
    const page1 = await gqlData<any>(app.url, '{ jobs(first: 2) { edges { cursor node { id createdAt } } pageInfo { hasNextPage endCursor } } }', {}, user.token);
    expect(page1.jobs.edges).toHaveLength(2);
    expect(page1.jobs.pageInfo.hasNextPage).toBe(true);
    const page2 = await gqlData<any>(app.url, 'query($a:String){ jobs(first: 2, after: $a) { edges { node { id } } } }', { a: page1.jobs.pageInfo.endCursor }, user.token);
    const firstIds = page1.jobs.edges.map((e: any) => e.node.id);
    for (const edge of page2.jobs.edges) expect(firstIds).not.toContain(edge.node.id);
    const cancelled = await gqlData<any>(app.url, '{ jobs(status: CANCELLED) { edges { node { status } } } }', {}, user.token);
    expect(cancelled.jobs.edges.length).toBeGreaterThan(0);
    expect(cancelled.jobs.edges.every((e: any) => e.node.status === 'CANCELLED')).toBe(true);
  });

  it('another user cannot see or cancel my job', async () => {
    const job = (await gqlData<any>(app.url, CREATE, { input: { prompt: 'private' } }, user.token)).createGeneration;
    const other = await signUp(app.url);
    expect((await gqlData<any>(app.url, 'query($id:ID!){ job(id:$id) { id } }', { id: job.id }, other.token)).job).toBeNull();
    const cancel = await gql(app.url, 'mutation($id:ID!){ cancelJob(id:$id) { id } }', { id: job.id }, other.token);
    expect(cancel.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });
});

describe('presets in createGeneration', () => {
  it('a preset larger than the tier allows is scaled down to fit; explicit fields still win', async () => {
    const free = await signUp(app.url, 'free-preset');
    const { presets } = await gqlData<any>(app.url, '{ presets(category: IMAGE) { id name } }', {}, free.token);
    const cinematic = presets.find((p: any) => p.name === 'Cinematic Portrait');
    const job = (await gqlData<any>(app.url, 'mutation($p:ID!){ createGeneration(input:{ prompt:"woman in garden", presetId:$p }) { width height steps guidanceScale prompt } }', { p: cinematic.id }, free.token)).createGeneration;
    expect(job).toMatchObject({ width: 576, height: 768, steps: 30, guidanceScale: 7.5 });
    expect(job.prompt.startsWith('woman in garden, cinematic lighting')).toBe(true);
    const explicit = await gql(app.url, 'mutation($p:ID!){ createGeneration(input:{ prompt:"x", presetId:$p, width: 1024 }) { id } }', { p: cinematic.id }, free.token);
    expect(explicit.errors?.[0].extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', field: 'width' });
  });
});
