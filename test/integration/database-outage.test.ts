import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger';
import { collect, gql, gqlData, signUp, waitFor, wsClient } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { startTemporaryPostgres, type TemporaryPostgres } from '../support/postgres-cluster';
import { parsePrometheusText, sample } from '../support/prometheus';

/*
 * A PostgreSQL server of this file's own, killed for 10 s while jobs are in
 * flight (docs/operations.md, "Outages of PostgreSQL or Redis"): the worker must wait the outage out instead of
 * spending the jobs' attempts, the API must answer 503 SERVICE_UNAVAILABLE,
 * and afterwards every job ends and every quota slot is back. A subscriber
 * whose events fail meanwhile (each reads the job) must not flood the log:
 * the outage is said at warn, at most once a minute, and is not one of the
 * admin's recent errors ("What an outage logs").
 */
const lines: { level: number; msg: string; errorCode?: string }[] = [];
let pg: TemporaryPostgres;
let app: TestApp;
let user: { token: string; id: string };
let halted = false;

const CREATE = 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id } }';
const JOB = { prompt: 'through the outage', width: 512, height: 512, steps: 40 };

beforeAll(async () => {
  const server = await startTemporaryPostgres();
  if (!server) throw new Error('This test needs PostgreSQL binaries (apt-get install postgresql)');
  pg = server;
  const destination = { write: (line: string) => void lines.push(JSON.parse(line)) };
  app = await startTestApp({ DATABASE_URL: pg.url, ATELIER_RECONCILE_SECONDS: '2' }, { logger: createLogger({ level: 'info', destination }) });
  user = await signUp(app.url);
  await app.db.query(`UPDATE users SET tier = 'ENTERPRISE' WHERE id = $1`, [user.id]);
});
afterAll(async () => {
  if (halted) pg.resume();
  await app?.close();
  pg?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function unavailableOverWs(): Promise<number> {
  const families = parsePrometheusText(await (await fetch(`${app.url}/metrics`)).text());
  return sample(families, 'atelier_errors_total', { transport: 'ws', code: 'SERVICE_UNAVAILABLE' }) ?? 0;
}

async function statuses(ids: string[]): Promise<Record<string, string>> {
  const rows: { id: string; status: string }[] = await app.db.query('SELECT id, status FROM jobs WHERE id = ANY($1)', [ids]);
  return Object.fromEntries(rows.map((r) => [r.id, r.status]));
}

describe('a 10-second PostgreSQL outage', () => {
  it('strands no job: the API answers 503 meanwhile, every job completes afterwards, quota slots return to 0', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i += 1) ids.push((await gqlData<any>(app.url, CREATE, { input: { ...JOB, seed: i } }, user.token)).createGeneration.id);
    await waitFor(async () => Object.values(await statuses(ids)).includes('PROCESSING'), 30_000, 20);
    const running = Object.entries(await statuses(ids)).find(([, status]) => status === 'PROCESSING')![0];
    const client = wsClient(app.url, user.token);
    const watched = collect(client, 'subscription($id: ID!) { jobUpdated(jobId: $id) { type job { status } } }', { id: running });
    await waitFor(async () => watched.items.length > 0, 10_000, 20);
    const unavailableBefore = await unavailableOverWs();

    pg.halt();
    halted = true;
    const linesAtHalt = lines.length;
    const failedEventsAtHalt = watched.errors.length;
    const haltedAt = Date.now();
    // In flight: one running, the others still waiting in the queue.
    expect((await app.queue.getJobCounts('waiting', 'prioritized')).prioritized).toBeGreaterThanOrEqual(3);
    // Signing in reads the user from the database, unless this process still holds a copy (docs/architecture.md,
    // "The request path"): drop it, so that every request below needs the database.
    app.services.auth.forgetUser(user.id);
    const me = await gql<any>(app.url, '{ me { id } }', {}, user.token);
    expect(me.status).toBe(503);
    expect(me.headers.get('retry-after')).toBe('5');
    expect(me.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
    const create = await gql<any>(app.url, CREATE, { input: JOB }, user.token);
    expect(create.status).toBe(503);
    expect(create.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
    const upload = await fetch(`${app.url}/uploads`, { method: 'POST', headers: { authorization: `Bearer ${user.token}` }, body: 'lora bytes' });
    expect(upload.status).toBe(503);
    expect(upload.headers.get('retry-after')).toBe('5');
    expect(((await upload.json()) as { code: string }).code).toBe('SERVICE_UNAVAILABLE');
    const ready = await fetch(`${app.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reason: string }).reason).toMatch(/^database: /);
    await sleep(10_000 - (Date.now() - haltedAt));
    pg.resume();
    halted = false;
    const duringOutage = lines.slice(linesAtHalt);
    const failedEvents = watched.errors.slice(failedEventsAtHalt) as { extensions?: { code?: string } }[];
    client.dispose();
    // Every event during the outage failed its `job` field, and was counted; the log said so once, at warn.
    expect(failedEvents.length).toBeGreaterThanOrEqual(5);
    expect(new Set(failedEvents.map((e) => e.extensions?.code))).toEqual(new Set(['SERVICE_UNAVAILABLE']));
    expect(await unavailableOverWs()).toBeGreaterThanOrEqual(unavailableBefore + failedEvents.length);
    expect(duringOutage.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual([]);
    expect(duringOutage.filter((l) => l.level === 40 && l.msg.startsWith('ws requests answered SERVICE_UNAVAILABLE'))).toHaveLength(1);
    expect((await app.services.recentErrors.list(100)).filter((e) => e.code === 'SERVICE_UNAVAILABLE')).toEqual([]);

    const final = await waitFor(async () => {
      const now = await statuses(ids);
      return Object.values(now).every((s) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(s)) ? now : null;
    }, 90_000, 200);
    expect(Object.values(final)).toEqual(ids.map(() => 'COMPLETED'));
    const [{ open }] = await app.db.query(`SELECT count(*)::int AS open FROM jobs WHERE status IN ('PENDING', 'PROCESSING')`);
    expect(open).toBe(0);
    expect(await app.queue.getFailedCount()).toBe(0);
    expect(await app.redis.zcard(`${app.config.redisPrefix}:quota:open:${user.id}`)).toBe(0);
    expect((await gqlData<any>(app.url, '{ usage { openJobs } }', {}, user.token)).usage.openJobs).toBe(0);
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
  }, 180_000);
});
