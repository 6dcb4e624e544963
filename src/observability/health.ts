import type express from 'express';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import type { GenerationQueue } from '../kernel/queues';
import type { ArtifactStore } from '../storage/artifact-store';
import type { AtelierMetrics } from './metrics';
import type { WorkerBackendState } from './worker-registry';

/** What `/healthz`, `/readyz` and `/metrics` look at. */
export interface HealthOptions {
  app: express.Express;
  redis: Redis;
  db: DataSource;
  queue: GenerationQueue;
  metrics: AtelierMetrics;
  /** Set where this process runs a worker: ready only once a model is loaded. */
  modelLoaded?: () => boolean;
  /** Where this process runs a worker: its remote backends' breaker states, shown (not judged) by /readyz. */
  backends?: () => WorkerBackendState[];
  /** The artifact store (local folder or S3): `/readyz` asks it about a key (which need not exist). */
  store?: Pick<ArtifactStore, 'exists'>;
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
  const { store } = options;
  const [database, redis, queue, storage] = await Promise.all([
    probe(() => options.db.query('SELECT 1'), ms),
    probe(() => options.redis.ping(), ms),
    probe(() => options.queue.getJobCounts('active'), ms),
    store ? probe(() => store.exists('health/readyz-probe'), ms) : null,
  ]);
  const checks: Record<string, string> = { database, redis, queue, ...(storage ? { storage } : {}) };
  if (options.modelLoaded) checks.model = options.modelLoaded() ? 'ok' : 'no model loaded yet';
  const failing = Object.entries(checks).filter(([, v]) => v !== 'ok');
  const reason = failing.length ? failing.map(([name, why]) => `${name}: ${why}`).join('; ') : null;
  return { ready: !reason, reason, checks };
}

/**
 * `/healthz`: the process is alive (restart it if not). `/readyz`: database,
 * Redis, the queue and the artifact store answer, and a worker has a model
 * loaded (send it work only then). `/metrics`: Prometheus text. Served on the API port, and by a
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
    // Listed once a remote backend was used; an open breaker does not make the worker unready (its other models still run).
    const backends = options.backends?.();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', ...(reason ? { reason } : {}), checks, ...(backends?.length ? { backends } : {}) });
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

