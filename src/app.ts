import 'reflect-metadata';
import http from 'node:http';
import path from 'node:path';
import express from 'express';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import type { AtelierConfig } from './config';
import { openDatabase } from './database/data-source';
import { seedBuiltInPresets, seedTierPolicies, syncModels } from './database/seed';
import { GenerationWorker } from './gpu-worker/generation-worker';
import { ModelRegistry, PipelineCache } from './gpu-worker/models';
import { createGenerationQueue, type GenerationQueue } from './gpu-worker/queue';
import { createLogger, type Logger } from './observability/logger';
import { AtelierMetrics, workerMetricsOf } from './observability/metrics';
import { propagateTraceContext, startTracing, stopTracing } from './observability/tracing';
import { observeWorker } from './observability/worker-observability';
import { connectRedis } from './redis/connection';
import { startLocalRedis, type LocalRedis } from './redis/local-server';
import { buildAppSchema } from './schema/build';
import { mountGraphQL } from './server/graphql-http';
import { mountHttpRoutes } from './server/routes';
import { mountUploads } from './server/uploads';
import { cors } from './server/cors';
import { createServices, type Services } from './services';
import { systemClock, type Clock } from './services/clock';
import { createWebhookQueue, JobLifecycleNotifier } from './services/webhook-queue';
import { WebhookWorker } from './services/webhook-worker';
import { UrlSigner } from './storage/artifact-store';
import { createArtifactStorage } from './storage/create-store';
import { EventLog } from './subscriptions/event-log';
import { attachWebSocketServer } from './subscriptions/ws-server';

export interface StartOptions {
  clock?: Clock;
  logger?: Logger;
  /** PGlite directory override (tests use 'memory'). */
  pgliteDir?: string;
}

/** A running Atelier process (API, worker or both). */
export interface Atelier {
  config: AtelierConfig;
  url: string;
  db: DataSource;
  redis: Redis;
  queue: GenerationQueue;
  services: Services;
  worker: GenerationWorker | null;
  /** This process's Prometheus registry (served on `/metrics`). */
  metrics: AtelierMetrics;
  /** A standalone worker's own metrics/health server; null where they share the API port. */
  metricsUrl: string | null;
  stop(): Promise<void>;
}

/** The composition root: builds every dependency once and wires them together. */
export async function startAtelier(config: AtelierConfig, options: StartOptions = {}): Promise<Atelier> {
  const logger = options.logger ?? createLogger();
  const clock = options.clock ?? systemClock;
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((err) => logger.warn({ err }, 'shutdown step failed'));
  };
  try {
    if (startTracing({ endpoint: config.otlpEndpoint, serviceName: `atelier-${config.role}` })) cleanups.push(stopTracing);
    const metrics = new AtelierMetrics({ role: config.role });
    let redisUrl = config.redisUrl;
    if (!redisUrl) {
      const local: LocalRedis = await startLocalRedis(path.join(config.dataDir, 'redis'));
      cleanups.push(() => local.stop());
      redisUrl = local.url;
      logger.info({ redisUrl }, 'started a local redis-server (set REDIS_URL to use your own)');
    }
    const db = await openDatabase({ url: config.databaseUrl, pgliteDir: options.pgliteDir ?? path.join(config.dataDir, 'pglite') });
    cleanups.push(() => db.destroy());
    await seedTierPolicies(db);
    await seedBuiltInPresets(db);
    const registry = new ModelRegistry(config.modelsDir);
    await syncModels(db, await registry.scan(), config.defaultModel);

    const redis = connectRedis(redisUrl, { name: 'atelier-commands' });
    const subscriber = connectRedis(redisUrl, { name: 'atelier-events' });
    cleanups.push(async () => { redis.disconnect(); subscriber.disconnect(); });
    const connection = { url: redisUrl, maxRetriesPerRequest: null };
    const queue = propagateTraceContext(createGenerationQueue(connection, config.redisPrefix));
    cleanups.push(() => queue.close());
    // Every role publishes job events, so every role can enqueue webhook deliveries.
    const webhookQueue = createWebhookQueue(connection, config.redisPrefix, { attempts: 8, backoffMs: config.webhookBackoffMs });
    cleanups.push(() => webhookQueue.close());
    const events = new EventLog(redis, subscriber, config.redisPrefix, new JobLifecycleNotifier(webhookQueue, logger));
    const { store, files: artifactFiles, describe: storageTarget } = createArtifactStorage(config.storage, config.dataDir);
    logger.info({ storage: storageTarget }, 'artifact storage');
    const urlSigner = new UrlSigner(config.jwtSecret, config.publicUrl, config.fileUrlTtlSeconds);
    const services = createServices({
      db, redis, prefix: config.redisPrefix, queue, events, store, urlSigner, clock, logger,
      jwtSecret: config.jwtSecret, jwtTtlSeconds: config.jwtTtlSeconds, sessionIdleDays: config.sessionIdleDays,
      authAttemptsPerMinute: config.authAttemptsPerMinute,
      modelsDir: config.modelsDir, maxUploadBytes: config.maxUploadBytes,
    });
    metrics.observeQueue(() => services.monitoring.queueDepth());
    if (config.adminEmail && config.adminPassword) {
      await services.auth.ensureAdmin(config.adminEmail, config.adminPassword);
      logger.info({ email: config.adminEmail }, 'admin account ready');
    }

    let worker: GenerationWorker | null = null;
    let metricsUrl: string | null = null;
    if (config.role !== 'api') {
      const pipelines = new PipelineCache({
        maxBytes: config.modelCacheBytes, executionProviders: config.executionProviders, intraOpNumThreads: config.intraOpThreads,
      });
      worker = new GenerationWorker({
        db, redis, connection, prefix: config.redisPrefix, events, quotas: services.quotas, scheduler: services.scheduler,
        store, artifactFiles, pipelines, modelsDir: config.modelsDir, clock, logger: logger.child({ role: 'worker' }),
        concurrency: config.workerConcurrency, previewEvery: config.previewEvery, jobTimeoutMs: config.jobTimeoutSeconds * 1000,
        lockDurationMs: config.workerLockSeconds * 1000, stalledIntervalMs: config.workerLockSeconds * 1000,
        metrics: workerMetricsOf(metrics),
      });
      const started = worker;
      const observed = await observeWorker({ worker, config, metrics, db, redis, queue, logger });
      metricsUrl = observed.metricsUrl;
      cleanups.push(() => observed.stop());
      cleanups.push(() => started.close(config.shutdownGraceSeconds * 1000));
    }

    let url = config.publicUrl;
    if (config.role !== 'worker') {
      const app = express();
      app.disable('x-powered-by');
      app.set('trust proxy', config.trustProxy);
      app.use(cors(config.corsOrigins));
      const httpServer = http.createServer(app);
      const schema = await buildAppSchema();
      const ws = attachWebSocketServer({
        httpServer, schema, services, redis, prefix: config.redisPrefix, logger, maxConnectionsPerUser: config.maxConnectionsPerUser,
      });
      const running = worker;
      mountHttpRoutes({ app, services, redis, db, store, queue, metrics, logger, modelLoaded: running ? () => running.hasModelLoaded : undefined });
      metrics.observeWebSockets(ws.activity);
      mountUploads(app, services);
      const apollo = await mountGraphQL({ app, httpServer, schema, services, logger, exposeErrorDetails: config.nodeEnv === 'development', drainWebSockets: () => ws.close(), metrics, recentErrors: services.recentErrors });
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.port, resolve);
      });
      cleanups.push(() => apollo.stop());
      const port = (httpServer.address() as import('node:net').AddressInfo).port;
      if (config.port === 0) {
        url = `http://localhost:${port}`;
        urlSigner.rebase(url);
      }
      // Webhook deliveries are I/O only: they run wherever the API runs.
      const webhooks = new WebhookWorker({ db, connection, prefix: config.redisPrefix, urlSigner, clock, logger: logger.child({ role: 'webhooks' }), metrics });
      cleanups.push(() => webhooks.close());
      // Hourly housekeeping: archive idle sessions, delete uploads never registered.
      const sweep = setInterval(() => {
        services.sessions.archiveIdle().catch((err) => logger.warn({ err }, 'session archiving failed'));
        services.uploads.sweepAbandoned().catch((err) => logger.warn({ err }, 'upload sweep failed'));
      }, 3600_000);
      sweep.unref();
      cleanups.push(async () => clearInterval(sweep));
    }
    return { config, url, db, redis, queue, services, worker, metrics, metricsUrl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
