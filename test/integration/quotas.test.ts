import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, gql, gqlData, signUp, wsClient } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';

let app: TestApp;
let admin: factory.TestUser;
const CREATE = 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id status } }';

beforeAll(async () => {
  // API only: admitted jobs stay open, which is what the concurrency checks need.
  app = await startTestApp({ ATELIER_ROLE: 'api' });
  admin = await factory.user(app, { role: 'ADMIN', prefix: 'admin' });
});
afterAll(() => app?.close());

async function openRowsAndQueue(userId: string) {
  const [{ count }] = await app.db.query(`SELECT count(*)::int AS count FROM jobs WHERE owner_id = $1`, [userId]);
  const queued = await app.queue.getJobs(['waiting', 'prioritized', 'delayed', 'active']);
  return { rows: count as number, queued: queued.filter((j) => j && j.id).length };
}

describe('quotas and rate limits', () => {
  it('50 concurrent calls from one FREE user admit exactly 2; the rest are QUOTA_EXCEEDED or RATE_LIMITED, nothing orphaned', async () => {
    const user = await signUp(app.url, 'burst');
    const before = await openRowsAndQueue(user.id);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => gql<any>(app.url, CREATE, { input: { prompt: `burst ${i}`, width: 64, height: 64, steps: 2 } }, user.token)));
    const admitted = results.filter((r) => r.data?.createGeneration);
    const codes = results.flatMap((r) => r.errors ?? []).map((e) => e.extensions?.code);
    expect(admitted).toHaveLength(2);
    expect(codes).toHaveLength(48);
    expect(codes.every((c) => c === 'QUOTA_EXCEEDED' || c === 'RATE_LIMITED')).toBe(true);
    const quota = results.flatMap((r) => r.errors ?? []).find((e) => e.extensions?.code === 'QUOTA_EXCEEDED');
    // No model has run a job here, so nothing says when a slot frees: no wait is named (quota-refusals.test.ts).
    expect(quota?.extensions).toMatchObject({ limit: 2, scope: 'USER', retryAfterSeconds: null });
    const rate = results.flatMap((r) => r.errors ?? []).find((e) => e.extensions?.code === 'RATE_LIMITED');
    expect(rate?.extensions).toMatchObject({ limit: 20 });
    expect(rate?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
    const after = await openRowsAndQueue(user.id);
    expect(after.rows - before.rows).toBe(2);
    const usage = await gqlData<any>(app.url, '{ usage { openJobs imagesToday tier } }', {}, user.token);
    expect(usage.usage).toEqual({ openJobs: 2, imagesToday: 2, tier: 'FREE' });
  });

  it('slots come back when a job is cancelled, and after a crash left a ghost slot', async () => {
    const user = await signUp(app.url, 'slots');
    const a = (await gqlData<any>(app.url, CREATE, { input: { prompt: 'one' } }, user.token)).createGeneration;
    await gqlData<any>(app.url, CREATE, { input: { prompt: 'two' } }, user.token);
    expect((await gql(app.url, CREATE, { input: { prompt: 'three' } }, user.token)).errors?.[0].extensions?.code).toBe('QUOTA_EXCEEDED');
    await gqlData(app.url, 'mutation($id:ID!){ cancelJob(id:$id) { status } }', { id: a.id }, user.token);
    expect((await gql(app.url, CREATE, { input: { prompt: 'three' } }, user.token)).errors).toBeUndefined();
    // A crash after admission left slots whose rows never committed: once older than the
    // reconcile grace period they are given back.
    const key = `${app.config.redisPrefix}:quota:open:${user.id}`;
    expect((await gql(app.url, CREATE, { input: { prompt: 'full' } }, user.token)).errors?.[0].extensions?.code).toBe('QUOTA_EXCEEDED');
    const open = await app.redis.zrange(key, 0, -1);
    await app.db.query(`DELETE FROM jobs WHERE id = ANY($1)`, [open]);
    for (const id of open) await app.redis.zadd(key, Date.now() - 120_000, id);
    expect((await gql(app.url, CREATE, { input: { prompt: 'after crash' } }, user.token)).errors).toBeUndefined();
  });

  it('FREE refuses 1024×1024 and 100 steps; after an admin upgrades to PRO, 1024×1024 is accepted on the next request', async () => {
    const user = await signUp(app.url, 'upgrade');
    const big = await gql(app.url, CREATE, { input: { prompt: 'big', width: 1024, height: 1024 } }, user.token);
    expect(big.errors?.[0].extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', field: 'width', limit: 768 });
    const steps = await gql(app.url, CREATE, { input: { prompt: 'long', steps: 100 } }, user.token);
    expect(steps.errors?.[0].extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', field: 'steps', limit: 30 });
    const denied = await gql(app.url, 'mutation($u:ID!){ setUserTier(userId:$u, tier: PRO) { tier } }', { u: user.id }, user.token);
    expect(denied.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    await gqlData(app.url, 'mutation($u:ID!){ setUserTier(userId:$u, tier: PRO) { tier } }', { u: user.id }, admin.token);
    expect((await gql(app.url, CREATE, { input: { prompt: 'big', width: 1024, height: 1024 } }, user.token)).errors).toBeUndefined();
  });

  it('admin-only fields are FORBIDDEN to others; tier limits are editable by admins', async () => {
    const user = await signUp(app.url);
    for (const query of ['{ users { id } }', 'mutation { updateTierPolicy(tier: FREE, input: { maxSteps: 31 }) { maxSteps } }']) {
      expect((await gql(app.url, query, {}, user.token)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    }
    const bad = await gql(app.url, 'mutation { updateTierPolicy(tier: FREE, input: { maxSteps: 0 }) { maxSteps } }', {}, admin.token);
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'maxSteps' });
    await gqlData(app.url, 'mutation { updateTierPolicy(tier: FREE, input: { maxSteps: 31 }) { maxSteps } }', {}, admin.token);
    const ok = await gql(app.url, CREATE, { input: { prompt: 'steps', steps: 31 } }, user.token);
    expect(ok.errors).toBeUndefined();
    await gqlData(app.url, 'mutation { updateTierPolicy(tier: FREE, input: { maxSteps: 30 }) { maxSteps } }', {}, admin.token);
  });

  it('users refuses a page size outside 1-200 and a negative offset with BAD_USER_INPUT and the field, as the other lists do', async () => {
    const query = 'query($f:Int!,$o:Int!){ users(first:$f, offset:$o){ id } }';
    for (const [f, o, field] of [[0, 0, 'first'], [201, 0, 'first'], [-1, 0, 'first'], [50, -1, 'offset']] as const) {
      const res = await gql(app.url, query, { f, o }, admin.token);
      expect(res.errors?.[0].extensions, `first ${f} offset ${o}`).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(res.data).toBeNull();
    }
    const [one, two] = [(await gqlData<any>(app.url, query, { f: 1, o: 0 }, admin.token)).users, (await gqlData<any>(app.url, query, { f: 200, o: 1 }, admin.token)).users];
    expect(one).toHaveLength(1);
    expect(two.map((u: any) => u.id)).not.toContain(one[0].id);
  });

  it('every tier-policy field has a documented bound; a value outside it is BAD_USER_INPUT with the field and changes nothing (17.16)', async () => {
    // The bounds docs/request-limits.md ("Tier policies") documents; imagesPerDay also takes -1 for unlimited.
    const BOUNDS: Record<string, [number, number]> = {
      maxOpenJobs: [1, 10_000], imagesPerDay: [-1, 1_000_000], maxWidth: [64, 2048], maxHeight: [64, 2048], maxSteps: [1, 150],
      maxCount: [1, 8], maxLoras: [0, 16], generationsPerMinute: [1, 100_000], requestsPerMinute: [1, 1_000_000],
      maxSessionMembers: [1, 10_000], maxQueryComplexity: [10, 1_000_000], pendingUploadMb: [1, 1_048_576],
      batchesPerHour: [0, 100_000],
      trainingRunsPerDay: [0, 100_000], maxConcurrentTrainingRuns: [0, 1000], maxTrainingSteps: [0, 100_000], maxDatasetImages: [1, 1000],
    };
    const fields = Object.keys(BOUNDS).join(' ');
    const policy = async () => (await gqlData<any>(app.url, `{ tierPolicies { tier ${fields} } }`, {}, admin.token)).tierPolicies.find((p: any) => p.tier === 'PRO');
    const update = (input: Record<string, number>) =>
      gql<any>(app.url, `mutation($i: TierPolicyInput!) { updateTierPolicy(tier: PRO, input: $i) { ${fields} } }`, { i: input }, admin.token);
    const before = await policy();

    const huge = await update({ imagesPerDay: 2 ** 31 - 1 });
    expect(huge.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'imagesPerDay' });
    expect(huge.errors?.[0].message).toMatch(/1000000|1,000,000/);
    for (const [field, [min, max]] of Object.entries(BOUNDS)) {
      for (const value of [min - 1, max + 1]) {
        // With a valid change beside it: the refusal takes the whole update with it.
        const res = await update({ [field]: value, ...(field === 'maxSteps' ? { maxCount: 3 } : { maxSteps: 40 }) });
        expect(res.errors?.[0].extensions, `${field} = ${value}`).toMatchObject({ code: 'BAD_USER_INPUT', field });
      }
    }
    expect(await policy()).toEqual(before);

    // The bounds themselves are accepted.
    expect((await update({ imagesPerDay: 1_000_000 })).data?.updateTierPolicy.imagesPerDay).toBe(1_000_000);
    expect((await update({ imagesPerDay: -1 })).data?.updateTierPolicy.imagesPerDay).toBeNull();
    expect((await update({ maxOpenJobs: 10_000, pendingUploadMb: 1 })).errors).toBeUndefined();
    await update({ imagesPerDay: before.imagesPerDay, maxOpenJobs: before.maxOpenJobs, pendingUploadMb: before.pendingUploadMb });
    expect(await policy()).toEqual(before);
  });

  it('hostile documents are refused before execution and the server stays responsive', async () => {
    const user = await signUp(app.url);
    let nested = 'id';
    for (let i = 0; i < 20; i += 1) nested = `images { job { ${nested} } }`;
    const deep = await gql(app.url, `{ jobs { edges { node { ${nested} } } } }`, {}, user.token);
    expect(deep.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
    const aliases = Array.from({ length: 2000 }, (_, i) => `a${i}: me { id }`).join(' ');
    const wide = await gql(app.url, `{ ${aliases} }`, {}, user.token);
    expect(wide.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
    const costly = await gql(app.url, '{ jobs(first: 100) { edges { node { id images { id url job { images { id url seed width height } } } } } } }', {}, user.token);
    expect(costly.errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 5000 });
    // A page above its maximum is costed as the maximum, so the argument's own check answers.
    const tooBig = await gql(app.url, '{ jobs(first: 500) { edges { node { id prompt images { id url } } } } }', {}, user.token);
    expect(tooBig.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    expect(tooBig.errors?.[0].message).toBe('first must be from 1 to 100');
    // The same over graphql-ws, where the cost rule runs too.
    const ws = wsClient(app.url, user.token);
    const overWs = collect<any>(ws, '{ jobs(first: 500) { edges { node { id prompt images { id url } } } } }', {});
    await overWs.done;
    await ws.dispose();
    expect(overWs.errors[0]).toMatchObject({ message: 'first must be from 1 to 100', extensions: { code: 'BAD_USER_INPUT', field: 'first' } });
    const normal = await gqlData<any>(app.url, '{ me { id } usage { tier } }', {}, user.token);
    expect(normal.me.id).toBe(user.id);
  });
});
