import type express from 'express';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import type { Services } from '../services';
import type { ArtifactStore } from '../storage/artifact-store';

/** Health, readiness and signed file downloads. */
export function mountHttpRoutes(options: { app: express.Express; services: Services; redis: Redis; db: DataSource; store: ArtifactStore }): void {
  const { app, services, redis, db, store } = options;
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    await db.query('SELECT 1').then(() => (checks.database = 'ok'), (e: Error) => (checks.database = e.message));
    await redis.ping().then(() => (checks.redis = 'ok'), (e: Error) => (checks.redis = e.message));
    const ready = Object.values(checks).every((v) => v === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  app.get('/files/{*key}', async (req, res) => {
    const key = ([] as string[]).concat((req.params as { key?: string | string[] }).key ?? []).join('/');
    const { expires, sig } = req.query as Record<string, string | undefined>;
    let valid = false;
    try {
      valid = Boolean(expires && sig) && services.urlSigner.verify(key, expires!, sig!, services.clock.now());
    } catch {
      valid = false;
    }
    if (!valid) return void res.status(403).json({ error: 'Invalid or expired link', code: 'FORBIDDEN' });
    let data: Buffer | null = null;
    try {
      data = await store.get(key);
    } catch {
      data = null;
    }
    if (!data) return void res.status(404).json({ error: 'Not found', code: 'NOT_FOUND' });
    res.setHeader('Content-Type', key.endsWith('.png') ? 'image/png' : 'application/octet-stream');
    res.setHeader('Cache-Control', 'private, max-age=3600');
    res.send(data);
  });
}
