import path from 'node:path';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import type { AtelierConfig } from '../config';
import type { GenerationWorker } from './generation-worker';
import type { GenerationQueue } from '../kernel/queues';
import type { Logger } from '../observability/logger';
import { startMetricsServer } from '../observability/metrics-server';
import type { AtelierMetrics } from '../observability/metrics';
import { WorkerPresence } from '../observability/worker-registry';
import type { ArtifactStore } from '../storage/artifact-store';

/** What {@link observeWorker} started. */
export interface ObservedWorker {
  /** The worker's own `/metrics` server (role `worker`), else null: it shares the API port. */
  metricsUrl: string | null;
  presence: WorkerPresence;
  stop(): Promise<void>;
}

/**
 * Makes a worker visible: loads the default model in the background (so
 * `/readyz` turns ready once a model is loaded and the first job does not pay
 * for it), heartbeats into Redis for `systemStats.workers`, and in the
 * `worker` role serves `/metrics`, `/healthz` and `/readyz` on
 * ATELIER_METRICS_PORT. `stop` runs after the worker closed.
 */
export async function observeWorker(options: {
  worker: GenerationWorker; config: AtelierConfig; metrics: AtelierMetrics; db: DataSource; redis: Redis; queue: GenerationQueue; logger: Logger;
  store: Pick<ArtifactStore, 'exists'>;
}): Promise<ObservedWorker> {
  const { worker, config, logger } = options;
  const presence = new WorkerPresence(options.redis, config.redisPrefix, () => ({
    ...worker.describe(), configuredProviders: config.executionProviders, concurrency: config.workerConcurrency,
  }));
  await presence.start();
  // Beat at once when what the heartbeat says changes, not only every 10 s.
  const beat = () => presence.beatSoon();
  // A job began or ended here: the jobs it runs (and the models loaded for them) changed.
  worker.onRunningChange(beat);
  worker.preload(path.join(config.modelsDir, config.defaultModel))
    .then(() => {
      logger.info({ model: config.defaultModel }, 'default model loaded');
      beat();
    })
    .catch((err) => logger.warn({ err, model: config.defaultModel }, 'default model could not be loaded: not ready until a job loads one'));
  const server = config.role === 'worker'
    ? await startMetricsServer(config.metricsPort, {
      db: options.db, redis: options.redis, queue: options.queue, store: options.store, metrics: options.metrics, modelLoaded: () => worker.hasModelLoaded,
      backends: () => worker.describe().backends,
    })
    : null;
  if (server) logger.info({ url: server.url }, 'worker metrics and health endpoints listening');
  return {
    metricsUrl: server?.url ?? null,
    presence,
    stop: async () => {
      await presence.stop();
      await server?.close();
    },
  };
}
