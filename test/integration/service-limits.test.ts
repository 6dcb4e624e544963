import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, gqlData, signUp } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';

// API only: admitted jobs stay open, so the cluster-wide cap fills up and stays full.
let app: TestApp;
let root: string;
const CREATE = 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id } }';
const job = (i: number) => ({ input: { prompt: `capacity ${i}`, width: 64, height: 64, steps: 2 } });

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
      // Give the cluster-wide slots back for the next test.
      const open = await app.db.query(`SELECT j.id, u.id AS owner FROM jobs j JOIN users u ON u.id = j.owner_id WHERE j.status = 'PENDING'`);
      for (const row of open) await app.services.quotas.release(row.owner, row.id, new Date(), 0);
      await app.db.query(`UPDATE jobs SET status = 'CANCELLED' WHERE status = 'PENDING'`);
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
});
