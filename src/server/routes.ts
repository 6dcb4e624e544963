import { existsSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import { forbidden, notFound, serviceUnavailable } from '../kernel/errors';
import type { ErrorReporter } from '../observability/error-reporter';
import { sendRestError } from './rest-errors';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import type { Logger } from '../observability/logger';
import type { GenerationQueue } from '../gpu-worker/queue';
import type { AtelierMetrics } from '../observability/metrics';
import type { Services } from '../services';
import type { ArtifactStore } from '../storage/artifact-store';

/** What `/healthz`, `/readyz` and `/metrics` look at. */
export interface HealthOptions {
  app: express.Express;
  redis: Redis;
  db: DataSource;
  queue: GenerationQueue;
  metrics: AtelierMetrics;
  /** Set where this process runs a worker: ready only once a model is loaded. */
  modelLoaded?: () => boolean;
  /** How long each readiness check may take before it counts as failed (default 2 s). */
  readyCheckTimeoutMs?: number;
}

/** Resolves to 'ok', or to why `check` failed or did not answer within `ms`. */
async function probe(check: () => Promise<unknown>, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${ms} ms`), ms);
  });
  try {
    return await Promise.race([check().then(() => 'ok', (e: Error) => e.message || String(e)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The readiness checks, run in parallel, each bounded by `timeoutMs` (BullMQ
 * and ioredis wait for a lost Redis rather than fail, so an unbounded check
 * would hang `/readyz` for the length of the outage).
 */
async function readiness(options: HealthOptions): Promise<{ ready: boolean; reason: string | null; checks: Record<string, string> }> {
  const ms = options.readyCheckTimeoutMs ?? 2000;
  const [database, redis, queue] = await Promise.all([
    probe(() => options.db.query('SELECT 1'), ms),
    probe(() => options.redis.ping(), ms),
    probe(() => options.queue.getJobCounts('active'), ms),
  ]);
  const checks: Record<string, string> = { database, redis, queue };
  if (options.modelLoaded) checks.model = options.modelLoaded() ? 'ok' : 'no model loaded yet';
  const failing = Object.entries(checks).filter(([, v]) => v !== 'ok');
  const reason = failing.length ? failing.map(([name, why]) => `${name}: ${why}`).join('; ') : null;
  return { ready: !reason, reason, checks };
}

/**
 * `/healthz`: the process is alive (restart it if not). `/readyz`: database,
 * Redis and the queue answer, and a worker has a model loaded (send it work
 * only then). `/metrics`: Prometheus text. Served on the API port, and by a
 * standalone worker on ATELIER_METRICS_PORT.
 */
export function mountHealthRoutes(options: HealthOptions): void {
  const { app, metrics } = options;
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const { ready, reason, checks } = await readiness(options);
    if (!ready) res.setHeader('Retry-After', '5');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', ...(reason ? { reason } : {}), checks });
  });
  app.get('/metrics', async (_req, res) => {
    try {
      const text = await metrics.text();
      res.setHeader('Content-Type', metrics.contentType);
      res.send(text);
    } catch (error) {
      res.status(500).type('text/plain').send(`metrics collection failed: ${(error as Error).message}`);
    }
  });
}

/** Health, readiness, metrics and signed file downloads. */
export function mountHttpRoutes(options: HealthOptions & { services: Services; store: ArtifactStore; logger: Logger; errors: ErrorReporter }): void {
  const { app, services, store, logger } = options;
  const refuse = (res: express.Response, error: unknown) => sendRestError(res, error, options.errors, { requestId: null, operation: 'files' });
  mountHealthRoutes(options);
  app.get('/files/{*key}', async (req, res) => {
    const key = ([] as string[]).concat((req.params as { key?: string | string[] }).key ?? []).join('/');
    const { expires, sig } = req.query as Record<string, string | undefined>;
    let valid = false;
    try {
      valid = Boolean(expires && sig) && services.urlSigner.verify(key, expires!, sig!, services.clock.now());
    } catch {
      valid = false;
    }
    if (!valid) return refuse(res, forbidden('Invalid or expired link'));
    // A validly signed key is one we wrote, so a failure here is the store's
    // (S3 down, misconfigured): say so, instead of pretending the file is gone.
    let data: Buffer | null;
    try {
      data = await store.get(key);
    } catch (err) {
      logger.error({ err, key }, 'artifact store read failed');
      return refuse(res, serviceUnavailable('Storage is unavailable; try again'));
    }
    if (!data) return refuse(res, notFound('File'));
    res.setHeader('Content-Type', key.endsWith('.png') ? 'image/png' : 'application/octet-stream');
    res.setHeader('Cache-Control', 'private, max-age=3600');
    res.send(data);
  });
  mountClientApp(app);
}

/** Paths the API owns; everything else that asks for HTML gets the SPA. */
const API_PATHS = /^\/(graphql|files|uploads|metrics|healthz|readyz|auth)(\/|$)/;

/** `client/dist` seen from `src/server` (tests) or `dist/src/server` (built). */
function clientDist(): string | null {
  const candidates = [path.resolve(__dirname, '../../client/dist'), path.resolve(__dirname, '../../../client/dist')];
  return candidates.find((dir) => existsSync(path.join(dir, 'index.html'))) ?? null;
}

/**
 * Serves the built SPA (`npm run client:build`) at `/`, with index.html for
 * any other non-API GET that accepts HTML so client-side routes survive a
 * reload. Looked up per request: building the client needs no restart.
 */
export function mountClientApp(app: express.Express): void {
  const statics = new Map<string, express.Handler>();
  app.use((req, res, next) => {
    const dir = req.method === 'GET' || req.method === 'HEAD' ? clientDist() : null;
    if (!dir || API_PATHS.test(req.path)) return next();
    if (!statics.has(dir)) {
      statics.set(dir, express.static(dir, {
        index: false,
        // Vite fingerprints assets, so they never change under a name.
        setHeaders: (r, file) => r.setHeader('Cache-Control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache'),
      }));
    }
    statics.get(dir)!(req, res, () => {
      if (!req.accepts('html')) return next();
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(path.join(dir, 'index.html'));
    });
  });
}
