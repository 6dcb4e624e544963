import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, gql, gqlData, signUp, waitFor, wsClient } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { parsePrometheusText, sample, type MetricFamily } from '../support/prometheus';

let app: TestApp;
let user: factory.TestUser;
const CREATE = 'mutation CreateGeneration($input: GenerationInput!) { createGeneration(input: $input) { id } }';
const STATUS = 'query Job($id: ID!) { job(id: $id) { status error { code } } }';

beforeAll(async () => {
  app = await startTestApp();
  user = await factory.user(app, { tier: 'ENTERPRISE' });
});
afterAll(() => app?.close());

async function finished(id: string): Promise<{ status: string; error: { code: string } | null }> {
  return waitFor(async () => {
    const { job } = await gqlData<any>(app.url, STATUS, { id }, user.token);
    return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status) ? job : null;
  }, 60_000);
}

async function scrape(): Promise<Map<string, MetricFamily>> {
  const res = await fetch(`${app.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

describe('/metrics', () => {
  it('after a few jobs: queue depth, job duration histogram, failures by reason, GraphQL operations, refusals', async () => {
    // A long job holds the single worker; a job with a 1 s deadline behind it cannot start in time.
    const blocker = (await factory.job(app, user, { prompt: 'hold the worker', width: 2048, height: 2048, steps: 150 })).id;
    const late = (await factory.job(app, user, { prompt: 'too late', width: 64, height: 64, steps: 2, deadlineSeconds: 1 })).id;
    const quick = [
      (await factory.job(app, user, { prompt: 'a red kite', width: 64, height: 64, steps: 3 })).id,
      (await factory.job(app, user, { prompt: 'a blue kite', width: 64, height: 64, steps: 3 })).id,
    ];

    const busy = await scrape();
    expect(sample(busy, 'atelier_queue_jobs', { state: 'waiting' })).toBeGreaterThanOrEqual(2);
    for (const state of ['waiting', 'active', 'delayed', 'failed']) expect(sample(busy, 'atelier_queue_jobs', { state })).not.toBeNull();
    // No outage: no end owed.
    for (const kind of ['job', 'training']) expect(sample(busy, 'atelier_ends_owed', { kind })).toBe(0);

    // A FREE user may hold two open jobs: the third is refused and counted.
    const free = await signUp(app.url);
    await factory.job(app, free, { prompt: 'one', width: 64, height: 64, steps: 2 });
    await factory.job(app, free, { prompt: 'two', width: 64, height: 64, steps: 2 });
    const refused = await gql(app.url, CREATE, { input: { prompt: 'three', width: 64, height: 64, steps: 2 } }, free.token);
    expect(refused.errors?.[0].extensions?.code).toBe('QUOTA_EXCEEDED');

    await new Promise((r) => setTimeout(r, 1200));
    await gqlData(app.url, 'mutation($id: ID!) { cancelJob(id: $id) { id } }', { id: blocker }, user.token);
    expect((await finished(late)).error?.code).toBe('DEADLINE_EXCEEDED');
    for (const id of quick) expect((await finished(id)).status).toBe('COMPLETED');

    // A job's duration is observed as its run ends, just after COMPLETED is out: the scrape may come between.
    const m = await waitFor(async () => {
      const scraped = await scrape();
      return (sample(scraped, 'atelier_job_duration_seconds_count', { outcome: 'completed', model: 'atelier-tiny' }) ?? 0) >= 2 && scraped;
    }, 5000, 20);
    expect(m.get('atelier_job_duration_seconds')?.type).toBe('histogram');
    expect(sample(m, 'atelier_job_duration_seconds_count', { outcome: 'completed', model: 'atelier-tiny' })).toBeGreaterThanOrEqual(2);
    expect(sample(m, 'atelier_job_duration_seconds_bucket', { outcome: 'completed', model: 'atelier-tiny', le: '+Inf' })).toBeGreaterThanOrEqual(2);
    expect(sample(m, 'atelier_job_duration_seconds_count', { outcome: 'cancelled' })).toBe(1);
    expect(sample(m, 'atelier_job_failures_total', { reason: 'DEADLINE_EXCEEDED' })).toBe(1);
    expect(sample(m, 'atelier_step_duration_seconds_count', { model: 'atelier-tiny' })).toBeGreaterThanOrEqual(6);
    expect(sample(m, 'atelier_model_load_duration_seconds_count', { model: 'atelier-tiny', provider: 'cpu' })).toBe(1);
    expect(sample(m, 'atelier_refusals_total', { code: 'QUOTA_EXCEEDED' })).toBe(1);
    expect(sample(m, 'atelier_graphql_operations_total', { operation: 'CreateGeneration', type: 'mutation', outcome: 'ok' })).toBe(6);
    expect(sample(m, 'atelier_graphql_operations_total', { operation: 'CreateGeneration', type: 'mutation', outcome: 'error' })).toBe(1);
    expect(sample(m, 'atelier_graphql_operation_duration_seconds_count', { operation: 'Job', type: 'query', outcome: 'ok' })).toBeGreaterThan(0);
    expect(sample(m, 'atelier_process_resident_memory_bytes', {})).toBeGreaterThan(0);
    expect(sample(m, 'atelier_nodejs_eventloop_lag_p99_seconds', {})).not.toBeNull(); // stalls while rendering show here
    expect(busy.get('atelier_queue_jobs')?.samples.every((s) => s.labels.role === 'all')).toBe(true);
  });

  it('WebSocket connections, active subscriptions and watched sessions', async () => {
    const session = (await gqlData<any>(app.url, 'mutation { createSession(name: "studio") { id } }', {}, user.token)).createSession;
    const client = wsClient(app.url, user.token);
    const sub = collect(client, 'subscription Watch($id: ID!) { sessionEvents(sessionId: $id) { type } }', { id: session.id });
    const live = await waitFor(async () => {
      const m = await scrape();
      return sample(m, 'atelier_websocket_subscriptions', {}) === 1 ? m : null;
    });
    expect(sample(live, 'atelier_websocket_connections', {})).toBe(1);
    expect(sample(live, 'atelier_active_sessions', {})).toBe(1);
    sub.dispose();
    await client.dispose();
    await waitFor(async () => sample(await scrape(), 'atelier_websocket_connections', {}) === 0);
    const after = await scrape();
    expect(sample(after, 'atelier_websocket_subscriptions', {})).toBe(0);
    expect(sample(after, 'atelier_active_sessions', {})).toBe(0);
  });

  it('/healthz is alive; /readyz checks database, Redis, queue, the artifact store and a loaded model', async () => {
    expect(await (await fetch(`${app.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await waitFor(async () => {
      const res = await fetch(`${app.url}/readyz`);
      return res.status === 200 ? res.json() : null;
    });
    expect(ready).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok', queue: 'ok', storage: 'ok', model: 'ok' } });
  });
});
