import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRedis, type LocalRedis } from '../../src/redis/local-server';
import { gqlData, signUp, waitFor } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';

/*
 * A redis-server of this file's own (append-only file on, as `npm start`
 * runs it), stopped for a few seconds while jobs are in flight and started
 * again on the same port (docs/operations.md, "Outages of PostgreSQL or Redis").
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'atelier-redis-outage-'));
let redis: LocalRedis | null;
let port: number;
let app: TestApp;

beforeAll(async () => {
  redis = await startLocalRedis(dir, { persist: true });
  port = Number(new URL(redis.url).port);
  app = await startTestApp({ REDIS_URL: redis.url });
});
afterAll(async () => {
  redis ??= await startLocalRedis(dir, { persist: true, port });
  await app?.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

const CREATE = 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id } }';

describe('a Redis restart', () => {
  it('/readyz says why within its timeout while Redis is down; after a few seconds of outage no job is lost', async () => {
    const user = await signUp(app.url);
    await app.db.query(`UPDATE users SET tier = 'ENTERPRISE' WHERE id = $1`, [user.id]);
    const ids: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      ids.push((await gqlData<any>(app.url, CREATE, { input: { prompt: 'across a restart', width: 512, height: 512, steps: 40, seed: i } }, user.token)).createGeneration.id);
    }
    await waitFor(async () => (await app.db.query(`SELECT 1 FROM jobs WHERE id = ANY($1) AND status = 'PROCESSING'`, [ids])).length > 0, 30_000, 20);

    await redis!.stop();
    redis = null;
    const asked = Date.now();
    const ready = await fetch(`${app.url}/readyz`, { signal: AbortSignal.timeout(5000) });
    expect(Date.now() - asked).toBeLessThan(3000);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reason: string }).reason).toMatch(/redis: .*queue: /);
    await new Promise((r) => setTimeout(r, 3000));
    redis = await startLocalRedis(dir, { persist: true, port });

    await waitFor(async () => {
      const rows: { status: string }[] = await app.db.query('SELECT status FROM jobs WHERE id = ANY($1)', [ids]);
      return rows.every((r) => r.status === 'COMPLETED');
    }, 90_000, 200);
    expect(await app.redis.zcard(`${app.config.redisPrefix}:quota:open:${user.id}`)).toBe(0);
    await waitFor(async () => (await fetch(`${app.url}/readyz`)).status === 200, 10_000);
  }, 150_000);
});
