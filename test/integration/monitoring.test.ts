import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, gqlData, waitFor } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';

let app: TestApp;
let adminToken: string;
let user: factory.TestUser;
const STATS = `query Stats($window: Int) { systemStats(windowHours: $window) {
  startedAt uptimeSeconds windowHours
  jobsByStatus { status count }
  generationTime { completedJobs averageSeconds p50Seconds p95Seconds averageQueueWaitSeconds }
  queue { waiting active delayed failed }
  workers { id hostname pid executionProvider configuredProviders concurrency activeJobs loadedModels startedAt lastSeenAt }
  usage { imagesGenerated imagesByTier { tier images } popularPresets { name usageCount } }
  recentErrors { at source code message jobId userId requestId operation }
} }`;

beforeAll(async () => {
  app = await startTestApp({ ATELIER_ADMIN_EMAIL: 'ops@example.com', ATELIER_ADMIN_PASSWORD: 'an admin password' });
  adminToken = (await gqlData<any>(app.url, 'mutation { login(email: "ops@example.com", password: "an admin password") { token } }')).login.token;
  user = await factory.user(app, { tier: 'ENTERPRISE' });
});
afterAll(() => app?.close());

async function final(id: string): Promise<string> {
  return waitFor(async () => {
    const { job } = await gqlData<any>(app.url, 'query($id: ID!) { job(id: $id) { status } }', { id }, user.token);
    return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status) ? job.status : null;
  }, 60_000);
}

describe('systemStats', () => {
  it('is for admins only', async () => {
    expect((await gql(app.url, '{ systemStats { uptimeSeconds } }')).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect((await gql(app.url, '{ systemStats { uptimeSeconds } }', {}, user.token)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const bad = await gql(app.url, STATS, { window: 0 }, adminToken);
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'windowHours' });
  });

  it('reports jobs, generation time, queue, workers with their provider, usage by tier, popular presets and recent errors', async () => {
    const [anime] = await app.db.query(`SELECT id FROM presets WHERE name = 'Anime Style' AND built_in`);
    const blocker = (await factory.job(app, user, { prompt: 'hold the worker', width: 2048, height: 2048, steps: 150 })).id;
    const late = (await factory.job(app, user, { prompt: 'too late', width: 64, height: 64, steps: 2, deadlineSeconds: 1 }, { requestId: 'req-late-1' })).id;
    const done = [
      (await factory.job(app, user, { prompt: 'a fox', presetId: anime.id, width: 64, height: 64, steps: 3, count: 2 })).id,
      (await factory.job(app, user, { prompt: 'a hare', width: 64, height: 64, steps: 3 })).id,
    ];
    await new Promise((r) => setTimeout(r, 1200));
    await gqlData(app.url, 'mutation($id: ID!) { cancelJob(id: $id) { id } }', { id: blocker }, user.token);
    expect(await final(late)).toBe('FAILED');
    for (const id of done) expect(await final(id)).toBe('COMPLETED');
    await app.services.recentErrors.record({ at: new Date().toISOString(), code: 'INTERNAL', message: 'boom', requestId: 'req-api-1', operation: 'Broken' });

    const { systemStats: s } = await gqlData<any>(app.url, STATS, {}, adminToken);
    expect(s.windowHours).toBe(24);
    expect(s.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(Date.parse(s.startedAt)).toBeLessThanOrEqual(Date.now());
    expect(s.jobsByStatus).toEqual([
      { status: 'PENDING', count: 0 }, { status: 'PROCESSING', count: 0 }, { status: 'COMPLETED', count: 2 },
      { status: 'FAILED', count: 1 }, { status: 'CANCELLED', count: 1 },
    ]);
    expect(s.generationTime.completedJobs).toBe(2);
    for (const key of ['averageSeconds', 'p50Seconds', 'p95Seconds', 'averageQueueWaitSeconds']) expect(s.generationTime[key]).toBeGreaterThanOrEqual(0);
    expect(s.generationTime.p95Seconds).toBeGreaterThanOrEqual(s.generationTime.p50Seconds);
    expect(s.queue).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 0 });

    expect(s.workers).toHaveLength(1);
    expect(s.workers[0]).toMatchObject({ pid: process.pid, executionProvider: 'cpu', configuredProviders: ['cpu'], concurrency: 1, activeJobs: 0 });
    expect(s.workers[0].loadedModels).toEqual(['atelier-tiny']);
    expect(Date.now() - Date.parse(s.workers[0].lastSeenAt)).toBeLessThan(30_000);

    expect(s.usage.imagesGenerated).toBe(3);
    expect(s.usage.imagesByTier).toEqual([{ tier: 'FREE', images: 0 }, { tier: 'PRO', images: 0 }, { tier: 'ENTERPRISE', images: 3 }]);
    expect(s.usage.popularPresets).toEqual([{ name: 'Anime Style', usageCount: 1 }]);

    expect(s.recentErrors[0]).toMatchObject({ source: 'API', code: 'INTERNAL', message: 'boom', requestId: 'req-api-1', operation: 'Broken' });
    expect(s.recentErrors[1]).toMatchObject({ source: 'JOB', code: 'DEADLINE_EXCEEDED', jobId: late, userId: user.id, requestId: 'req-late-1' });
  });

  it('a worker that stops is no longer listed', async () => {
    const presence = (await gqlData<any>(app.url, STATS, {}, adminToken)).systemStats.workers;
    expect(presence).toHaveLength(1);
    await app.redis.hset(`${app.config.redisPrefix}:workers`, 'ghost', JSON.stringify({ ...presence[0], id: 'ghost', lastSeenAt: new Date(Date.now() - 60_000).toISOString() }));
    const { systemStats } = await gqlData<any>(app.url, STATS, {}, adminToken);
    expect(systemStats.workers.map((w: { id: string }) => w.id)).toEqual([presence[0].id]);
    expect(await app.redis.hexists(`${app.config.redisPrefix}:workers`, 'ghost')).toBe(0);
  });
});
