import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/kernel/clock';
import { recordStepCost } from '../../src/services/queue-positions';
import { gql, gqlData, signUp } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';

/*
 * What a QUOTA_EXCEEDED says (docs/limits.md, "Refusals"): the input field or
 * the scope it counts, what is left, and a retryAfterSeconds that is when the
 * limit lifts (or null), since the SDK, CLI and MCP server wait that long and
 * try again. Its own file: an injected clock (one embedded database per process).
 */
let app: TestApp;
let admin: factory.TestUser;
// A fraction of a second past the hour: the reset time must still be midnight exactly.
const clock = new ManualClock(new Date('2026-03-01T10:00:00.418Z'));
const CREATE = 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id } }';
const BATCH = 'mutation($input: BatchInput!) { createBatch(input: $input) { id } }';
const small = { width: 64, height: 64, steps: 2 };

beforeAll(async () => {
  // API only: admitted jobs stay PENDING, holding their slots.
  app = await startTestApp({ ATELIER_ROLE: 'api' }, { clock });
  admin = await factory.user(app, { role: 'ADMIN', prefix: 'admin' });
});
afterAll(() => app?.close());

async function withFreePolicy(input: Record<string, number>, run: () => Promise<void>): Promise<void> {
  const fields = Object.keys(input).join(' ');
  const update = (values: Record<string, number>) =>
    gqlData<any>(app.url, `mutation($i: TierPolicyInput!) { updateTierPolicy(tier: FREE, input: $i) { ${fields} } }`, { i: values }, admin.token);
  const before = (await gqlData<any>(app.url, `{ tierPolicies { tier ${fields} } }`, {}, admin.token)).tierPolicies.find((p: any) => p.tier === 'FREE');
  await update(input);
  try {
    await run();
  } finally {
    await update(Object.fromEntries(Object.entries(before).filter(([k]) => k !== 'tier').map(([k, v]) => [k, v ?? -1])) as Record<string, number>);
  }
}

describe('quota refusals', () => {
  it('usage.resetsAt is the next UTC midnight exactly', async () => {
    const user = await signUp(app.url, 'resets');
    const { usage } = await gqlData<any>(app.url, '{ usage { resetsAt } }', {}, user.token);
    expect(usage.resetsAt).toBe('2026-03-02T00:00:00.000Z');
  });

  it('a job needing more images than are left says how many it needs and how many are left, on count', async () => {
    await withFreePolicy({ imagesPerDay: 3, maxOpenJobs: 10 }, async () => {
      const user = await signUp(app.url, 'images-left');
      await gqlData(app.url, CREATE, { input: { ...small, prompt: 'two', count: 2 } }, user.token);
      const refused = await gql(app.url, CREATE, { input: { ...small, prompt: 'two more', count: 2 } }, user.token);
      expect(refused.errors?.[0].message).toBe('This job needs 2 images; 1 of your 3 for today is left; it resets at 00:00 UTC');
      // 10:00:00.418 → midnight is 50,399.582 s away.
      expect(refused.errors?.[0].extensions).toEqual({ code: 'QUOTA_EXCEEDED', field: 'count', limit: 3, remaining: 1, retryAfterSeconds: 50_400 });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('50400');
      await gqlData(app.url, CREATE, { input: { ...small, prompt: 'the last one' } }, user.token);
      const none = await gql(app.url, CREATE, { input: { ...small, prompt: 'one more' } }, user.token);
      expect(none.errors?.[0].message).toBe('This job needs 1 image; none of your 3 for today is left; it resets at 00:00 UTC');
      expect(none.errors?.[0].extensions).toMatchObject({ field: 'count', limit: 3, remaining: 0 });
    });
  });

  it('batches per hour: Retry-After is when the oldest batch of the rolling hour leaves it', async () => {
    await withFreePolicy({ batchesPerHour: 2, maxOpenJobs: 10 }, async () => {
      const user = await signUp(app.url, 'hourly');
      await gqlData(app.url, BATCH, { input: { ...small, prompts: ['first'] } }, user.token);
      clock.advance(10 * 60_000);
      await gqlData(app.url, BATCH, { input: { ...small, prompts: ['second'] } }, user.token);
      clock.advance(5 * 60_000);
      const refused = await gql(app.url, BATCH, { input: { ...small, prompts: ['third'] } }, user.token);
      // The first batch came 15 minutes ago: it leaves the hour in 45.
      expect(refused.errors?.[0].extensions).toEqual({ code: 'QUOTA_EXCEEDED', field: 'batch', limit: 2, retryAfterSeconds: 2700 });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('2700');
      clock.advance(2699_000);
      const almost = await gql(app.url, BATCH, { input: { ...small, prompts: ['third'] } }, user.token);
      expect(almost.errors?.[0].extensions?.retryAfterSeconds).toBe(1);
      clock.advance(1000);
      expect((await gql(app.url, BATCH, { input: { ...small, prompts: ['third'] } }, user.token)).errors).toBeUndefined();
    });
  });

  it('a tier that allows no batches says so, with no Retry-After', async () => {
    await withFreePolicy({ batchesPerHour: 0 }, async () => {
      const user = await signUp(app.url, 'no-batches');
      const refused = await gql(app.url, BATCH, { input: { ...small, prompts: ['none'] } }, user.token);
      expect(refused.errors?.[0].extensions).toEqual({ code: 'QUOTA_EXCEEDED', field: 'batch', limit: 0, retryAfterSeconds: null });
      expect(refused.status).toBe(200);
      expect(refused.headers.get('retry-after')).toBeNull();
    });
  });

  it('jobs at once: scope USER; Retry-After is when the user\'s running job is expected to end, none while all wait in line', async () => {
    const user = await signUp(app.url, 'open');
    const ids: string[] = [];
    for (const prompt of ['one', 'two']) ids.push((await gqlData<any>(app.url, CREATE, { input: { ...small, prompt } }, user.token)).createGeneration.id);
    const third = () => gql(app.url, CREATE, { input: { ...small, prompt: 'three' } }, user.token);
    // No render of the model yet: nothing says when a slot frees, so no wait is named and clients do not retry.
    const unknown = await third();
    expect(unknown.errors?.[0].extensions).toEqual({ code: 'QUOTA_EXCEEDED', scope: 'USER', limit: 2, retryAfterSeconds: null });
    expect(unknown.status).toBe(200);
    expect(unknown.headers.get('retry-after')).toBeNull();

    // Step times known, but both jobs wait in line: when they end depends on what runs ahead of them.
    const [{ model_id: modelId }] = await app.db.query('SELECT model_id FROM jobs WHERE id = $1', [ids[0]]);
    await recordStepCost(app.redis, app.config.redisPrefix, { modelId, kind: 'IMAGE', width: 64, height: 64, steps: 2, count: 1, videoFrames: null } as any, 30_000);
    expect((await third()).errors?.[0].extensions?.retryAfterSeconds).toBeNull();

    // One runs (a worker took it, half done): the wait is its ETA.
    await app.db.query(`UPDATE jobs SET status = 'PROCESSING', step = 1, started_at = now() WHERE id = $1`, [ids[0]]);
    const eta = (await gqlData<any>(app.url, 'query($id: ID!) { job(id: $id) { etaSeconds } }', { id: ids[0] }, user.token)).job.etaSeconds;
    expect(eta).toBe(15); // one step of two left, at 15 s a step
    const known = await third();
    expect(known.errors?.[0].extensions).toEqual({ code: 'QUOTA_EXCEEDED', scope: 'USER', limit: 2, retryAfterSeconds: eta });
    expect(known.status).toBe(429);
    expect(known.headers.get('retry-after')).toBe(String(eta));
  });
});
