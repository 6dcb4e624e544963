import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordStepCost } from '../../src/services/queue-positions';
import { gql, gqlData, signUp } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';

// API only: admitted jobs stay open, so the cluster-wide cap fills up and stays full.
let app: TestApp;
let root: string;
const CREATE = 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id } }';
const BATCH = 'mutation($input: BatchInput!) { createBatch(input: $input) { id } }';
const job = (i: number) => ({ input: { prompt: `capacity ${i}`, width: 64, height: 64, steps: 2 } });
const batch = (size: number) => ({ input: { prompts: Array.from({ length: size }, (_, i) => `batch ${i}`), width: 64, height: 64, steps: 2 } });

beforeAll(async () => {
  app = await startTestApp({
    ATELIER_ROLE: 'api', ATELIER_MAX_QUEUED_JOBS: '5', ATELIER_ADMIN_REQUESTS_PER_MINUTE: '40', ATELIER_ADMIN_GENERATIONS_PER_MINUTE: '3',
    ATELIER_ADMIN_EMAIL: 'limits-root@example.com', ATELIER_ADMIN_PASSWORD: 'root password 1',
  });
  root = (await gqlData<any>(app.url, 'mutation { login(email:"limits-root@example.com", password:"root password 1"){ token } }')).login.token;
});
afterAll(() => app?.close());

async function user(role: 'EDITOR' | 'ADMIN', tier: 'FREE' | 'ENTERPRISE'): Promise<{ token: string; id: string }> {
  const u = await signUp(app.url, role.toLowerCase());
  await app.db.query('UPDATE users SET role = $1, tier = $2 WHERE id = $3', [role, tier, u.id]);
  return u;
}

/** Ends every open job and gives its slots back: the next test starts with the service empty. */
async function emptyTheService(): Promise<void> {
  const open = await app.db.query(`SELECT id, owner_id AS owner FROM jobs WHERE status IN ('PENDING', 'PROCESSING')`);
  for (const row of open) await app.services.quotas.release(row.owner, row.id, new Date(), 0);
  await app.db.query(`UPDATE jobs SET status = 'CANCELLED' WHERE status IN ('PENDING', 'PROCESSING')`);
}

const codes = (results: { errors?: { extensions?: Record<string, any> }[] }[]) => results.map((r) => r.errors?.[0]?.extensions ?? null);

describe('admins and tier rate limits', () => {
  it('holds admins to their own limits (ATELIER_ADMIN_*_PER_MINUTE), not their tier\'s', async () => {
    await gqlData(app.url, 'mutation { updateTierPolicy(tier: FREE, input: { requestsPerMinute: 5, generationsPerMinute: 1, maxOpenJobs: 10 }) { tier } }', {}, root);
    try {
      const [editor, maker, admin] = [await user('EDITOR', 'FREE'), await user('EDITOR', 'FREE'), await user('ADMIN', 'FREE')];
      const reads = async (token: string, n: number) => { const out = []; for (let i = 0; i < n; i += 1) out.push(await gql(app.url, '{ me { id } }', {}, token)); return out; };
      expect(codes(await reads(editor.token, 6)).at(-1)).toMatchObject({ code: 'RATE_LIMITED', limit: 5 });
      expect(codes(await reads(admin.token, 10)).every((e) => e === null)).toBe(true);

      const makes = async (token: string, n: number) => { const out = []; for (let i = 0; i < n; i += 1) out.push(await gql(app.url, CREATE, job(i), token)); return out; };
      expect(codes(await makes(maker.token, 2))).toEqual([null, expect.objectContaining({ code: 'RATE_LIMITED', limit: 1 })]);
      expect(codes(await makes(admin.token, 4))).toEqual([null, null, null, expect.objectContaining({ code: 'RATE_LIMITED', limit: 3 })]);
      const more = codes(await reads(admin.token, 40)).filter(Boolean);
      expect(more.length).toBeGreaterThan(0);
      expect(more.every((e) => e?.code === 'RATE_LIMITED' && e.limit === 40)).toBe(true);
    } finally {
      await gqlData(app.url, 'mutation { updateTierPolicy(tier: FREE, input: { requestsPerMinute: 300, generationsPerMinute: 20, maxOpenJobs: 2 }) { tier } }', {}, root);
      await emptyTheService();
    }
  });
});

describe('the cluster-wide cap on queued jobs', () => {
  it('admits exactly ATELIER_MAX_QUEUED_JOBS of a burst from many users, refuses the rest saying so, and admits again when one ends', async () => {
    const users = [await user('EDITOR', 'ENTERPRISE'), await user('EDITOR', 'ENTERPRISE'), await user('EDITOR', 'ENTERPRISE'), await user('ADMIN', 'ENTERPRISE')];
    const submissions = users.flatMap((u, n) => [0, 1, 2].map((i) => ({ by: u, n: n * 3 + i })));
    const results = await Promise.all(submissions.map((s) => gql<any>(app.url, CREATE, job(s.n), s.by.token)));
    const admitted = results.filter((r) => r.data?.createGeneration).map((r) => r.data.createGeneration.id as string);
    expect(admitted).toHaveLength(5);
    const refusals = results.flatMap((r) => r.errors ?? []);
    expect(refusals).toHaveLength(7);
    for (const refusal of refusals) {
      expect(refusal.extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', scope: 'SERVICE', limit: 5, retryAfterSeconds: 60 });
      expect(refusal.message).toMatch(/^The service is at capacity: 5 jobs are queued or running across all users/);
    }
    const [{ count }] = await app.db.query(`SELECT count(*)::int AS count FROM jobs WHERE status = 'PENDING'`);
    expect(count).toBe(5);

    const first = results.findIndex((r) => r.data?.createGeneration);
    await gqlData(app.url, 'mutation($id:ID!){ cancelJob(id:$id) { status } }', { id: admitted[0] }, submissions[first].by.token);
    expect((await gql(app.url, CREATE, job(99), users[0].token)).errors).toBeUndefined();
    expect((await gql(app.url, CREATE, job(100), users[1].token)).errors?.[0].extensions?.scope).toBe('SERVICE');
  });

  it('names when enough running jobs, anyone\'s, are expected to end (at most the job timeout); 60 s while nothing says', async () => {
    await emptyTheService();
    const [a, b, caller] = [await user('EDITOR', 'ENTERPRISE'), await user('EDITOR', 'ENTERPRISE'), await user('EDITOR', 'ENTERPRISE')];
    const ids: string[] = [];
    for (const [i, by] of [a, a, b, b, b].entries()) ids.push((await gqlData<any>(app.url, CREATE, job(200 + i), by.token)).createGeneration.id);
    const refusal = async (query: string, variables: Record<string, unknown>) => {
      const res = await gql<any>(app.url, query, variables, caller.token);
      return { extensions: res.errors?.[0].extensions, message: res.errors?.[0].message, status: res.status, retryAfter: res.headers.get('retry-after') };
    };
    const one = () => refusal(CREATE, job(300));

    // No model has a step cost yet, nothing runs: the old minute.
    expect(await one()).toEqual({
      extensions: { code: 'QUOTA_EXCEEDED', scope: 'SERVICE', limit: 5, retryAfterSeconds: 60 },
      message: 'The service is at capacity: 5 jobs are queued or running across all users; try again in a minute',
      status: 429, retryAfter: '60',
    });
    // Step costs known (15 s a step), but all five wait in line: still nothing says when one ends.
    const [{ model_id: modelId }] = await app.db.query('SELECT model_id FROM jobs WHERE id = $1', [ids[0]]);
    await recordStepCost(app.redis, app.config.redisPrefix, { modelId, kind: 'IMAGE', width: 64, height: 64, steps: 2, count: 1, videoFrames: null } as any, 30_000);
    expect((await one()).extensions?.retryAfterSeconds).toBe(60);

    // Workers took a's first job (half done) and b's first (just started): a slot frees when a's ends.
    await app.db.query(`UPDATE jobs SET status = 'PROCESSING', step = 1, started_at = now() WHERE id = $1`, [ids[0]]);
    await app.db.query(`UPDATE jobs SET status = 'PROCESSING', step = 0, started_at = now() WHERE id = $1`, [ids[2]]);
    const eta = (await gqlData<any>(app.url, 'query($id: ID!) { job(id: $id) { etaSeconds } }', { id: ids[0] }, a.token)).job.etaSeconds;
    expect(eta).toBe(15);
    expect(await one()).toEqual({
      extensions: { code: 'QUOTA_EXCEEDED', scope: 'SERVICE', limit: 5, retryAfterSeconds: eta },
      message: 'The service is at capacity: 5 jobs are queued or running across all users; try again in 15 s',
      status: 429, retryAfter: '15',
    });
    // A batch of two needs both running jobs to end: b's, 2 steps at 15 s.
    const service = { code: 'QUOTA_EXCEEDED', scope: 'SERVICE', field: 'batch', limit: 5 };
    expect(await refusal(BATCH, batch(2))).toMatchObject({ extensions: { ...service, retryAfterSeconds: 30 }, status: 429, retryAfter: '30' });
    // Three: only two run, so nothing says when the third slot frees.
    expect((await refusal(BATCH, batch(3))).extensions).toEqual({ ...service, retryAfterSeconds: 60 });
    // b's job is long (150 steps: 37.5 minutes), but a running job fails as TIMEOUT after ATELIER_JOB_TIMEOUT_SECONDS (600).
    await app.db.query('UPDATE jobs SET steps = 150 WHERE id = $1', [ids[2]]);
    expect(await refusal(BATCH, batch(2))).toMatchObject({ extensions: { ...service, retryAfterSeconds: 600 }, retryAfter: '600' });
    // More jobs than the service ever takes at once: waiting cannot help.
    expect(await refusal(BATCH, batch(6))).toEqual({
      extensions: { ...service, retryAfterSeconds: null },
      message: 'This batch needs 6 job slots but the service takes at most 5 jobs at once; split it into smaller batches',
      status: 200, retryAfter: null,
    });
    await emptyTheService();
  });
});
