import 'reflect-metadata';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import type { AtelierConfig } from './config';
import { configuredDatabase, openDatabase, workerDataSource } from './database/data-source';
import { seedBuiltInPresets, seedTierPolicies, syncModels } from './database/seed';
import type { GenerationWorker } from './gpu-worker/generation-worker';
import { ModelRegistry } from './gpu-worker/models/registry';
import { createGenerationQueue, createTrainingQueue } from './gpu-worker/queue';
import type { GenerationQueue } from './kernel/queues';
import { createAuditLogger, createLogger, type Logger } from './observability/logger';
import { ErrorReporter } from './observability/error-reporter';
import { AtelierMetrics, trainingMetricsOf, workerMetricsOf } from './observability/metrics';
import { startTracing, stopTracing } from './observability/tracing';
import { onlineWorkers } from './observability/worker-registry';
import { observeWorker } from './gpu-worker/worker-observability';
import { connectRedis, pingSubscriber, queueConnection, useAtelierRedisInBullmq, workerConnection } from './redis/connection';
import { logRedisErrors } from './redis/error-log';
import { closeQueue } from './redis/queue-close';
import { startLocalRedis, type LocalRedis } from './redis/local-server';
import { buildAppSchema } from './schema/build';
import { mountGraphQL, plain } from './server/graphql-http';
import { mountOidcRoutes } from './server/oidc-routes';
import { mountHttpRoutes } from './server/routes';
import { mountUploads } from './server/uploads';
import { createHttpServer } from './server/http-server';
import { longestUploadMs } from './services/uploads';
import { cors } from './server/cors';
import { graphQLSecurityHeaders, securityHeaders } from './server/security-headers';
import { createServices } from './services/container';
import type { Services } from './resolvers/context';
import { LiveEvents } from './subscriptions/live-events';
import { Presence } from './subscriptions/presence';
import { Housekeeping } from './services/housekeeping';
import { JobReconciler } from './services/job-reconciler';
import { systemClock, type Clock } from './kernel/clock';
import { createWebhookQueue, JobLifecycleNotifier, WEBHOOK_DELIVERY_ATTEMPTS } from './services/webhook-queue';
import { WebhookKeys } from './services/webhook-keys';
import { WebhookWorker } from './services/webhook-worker';
import { UrlSigner } from './storage/artifact-store';
import { createArtifactStorage } from './storage/create-store';
import { isModelInStore } from './storage/model-folders';
import { EVENT_LOG_LIMITS, EventLog } from './subscriptions/event-log';
import { ReplicaHeartbeat } from './subscriptions/replica-heartbeat';
import { attachWebSocketServer } from './server/graphql-ws';

export interface StartOptions {
  clock?: Clock;
  logger?: Logger;
  /** PGlite directory override (tests use 'memory'). */
  pgliteDir?: string;
  /** The audit log stream; default per ATELIER_AUDIT_LOG. */
  auditLogger?: Logger;
  /** How often the subscriber connections are pinged (REDIS_SUBSCRIBER_PING_MS; tests shorten it). */
  subscriberPingMs?: number;
  /** How long the event log's catch-up tries to read what its subscriptions missed (12 s; tests shorten it). */
  eventCatchUpMs?: number;
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

/** Everything both roles share, built once. */
interface Core {
  config: AtelierConfig;
  logger: Logger;
  clock: Clock;
  metrics: AtelierMetrics;
  db: DataSource;
  redis: Redis;
  connection: ReturnType<typeof workerConnection>;
  queue: GenerationQueue;
  events: EventLog;
  storage: ReturnType<typeof createArtifactStorage>;
  urlSigner: UrlSigner;
  services: Services;
  /** Liveness of this process as an API replica (started by the API role). */
  replica: ReplicaHeartbeat;
  /** StartOptions.subscriberPingMs, for the API's principal-stamp subscriber too. */
  subscriberPingMs?: number;
  /** Shutdown steps, run in reverse order. */
  cleanups: (() => Promise<unknown>)[];
}

/** The composition root: builds every dependency once and wires them together. */
export async function startAtelier(config: AtelierConfig, options: StartOptions = {}): Promise<Atelier> {
  const logger = options.logger ?? createLogger();
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((err) => logger.warn({ err }, 'shutdown step failed'));
  };
  try {
    const core = await startCore(config, options, logger, cleanups);
    const worker = config.role !== 'api' ? await startWorkerRole(core) : null;
    const url = config.role !== 'worker' ? await startApiRole(core, worker?.worker ?? null) : config.publicUrl;
    const { db, redis, queue, services, metrics } = core;
    return { config, url, db, redis, queue, services, worker: worker?.worker ?? null, metrics, metricsUrl: worker?.metricsUrl ?? null, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Tracing, Redis (local if none is configured), the database with reference data, queues, events, storage, services. */
/**
 * How often a worker looks for entries whose worker died: a third of the lock, so a dead worker's job is taken
 * again within about 1.7× the lock (it lapses, then BullMQ's check sees it missing twice), not 3× (docs/operations.md).
 */
const stalledCheckMs = (lockSeconds: number): number => Math.max(500, Math.round((lockSeconds * 1000) / 3));

async function startCore(config: AtelierConfig, options: StartOptions, logger: Logger, cleanups: Core['cleanups']): Promise<Core> {
  const clock = options.clock ?? systemClock;
  if (startTracing({ endpoint: config.otlpEndpoint, serviceName: `atelier-${config.role}` })) cleanups.push(stopTracing);
  const metrics = new AtelierMetrics({ role: config.role });
  let redisUrl = config.redisUrl;
  if (!redisUrl) {
    const local: LocalRedis = await startLocalRedis(path.join(config.dataDir, 'redis'));
    cleanups.push(() => local.stop());
    redisUrl = local.url;
    logger.info({ redisUrl }, 'started a local redis-server (set REDIS_URL to use your own)');
  }
  // The service's statements are bounded; the command line's (export, import, migrate) are not.
  const db = await openDatabase({ ...configuredDatabase(config, options.pgliteDir), answerTimeoutMs: config.databaseTimeoutSeconds * 1000 });
  cleanups.push(() => db.destroy());
  await seedTierPolicies(db);
  await seedBuiltInPresets(db);
  const storage = createArtifactStorage(config.storage, config.dataDir);
  logger.info({ storage: storage.describe }, 'artifact storage');
  await syncModels(db, await new ModelRegistry(config.modelsDir).scan(), config.defaultModel, (name) => isModelInStore(storage.store, name));

  const redis = connectRedis(redisUrl, { name: 'atelier-commands', autoPipelining: true });
  const subscriber = connectRedis(redisUrl, { name: 'atelier-events' });
  cleanups.push(async () => { redis.disconnect(); subscriber.disconnect(); });
  logRedisErrors(redis, logger, 'redis commands error');
  logRedisErrors(subscriber, logger, 'redis events error');
  // Nothing else waits on a subscriber's connection: without a PING, one cut off without closing would go unnoticed.
  pingSubscriber(subscriber, options.subscriberPingMs);
  useAtelierRedisInBullmq();
  const connection = workerConnection(redisUrl);
  const queue = createGenerationQueue(queueConnection(redisUrl), config.redisPrefix);
  const trainingQueue = createTrainingQueue(queueConnection(redisUrl), config.redisPrefix);
  // Every role makes job transitions, so every role can enqueue webhook deliveries.
  const webhookQueue = createWebhookQueue(queueConnection(redisUrl), config.redisPrefix, { attempts: WEBHOOK_DELIVERY_ATTEMPTS, backoffMs: config.webhookBackoffMs });
  // Closed together: during a partition each waits up to the command timeout before it drops its connection.
  cleanups.push(() => Promise.all([queue, trainingQueue, webhookQueue].map((each) => closeQueue(each, logger))));
  logRedisErrors(queue, logger, 'generation queue error');
  logRedisErrors(trainingQueue, logger, 'training queue error');
  logRedisErrors(webhookQueue, logger, 'webhook queue error');
  const events = new EventLog(redis, subscriber, config.redisPrefix, EVENT_LOG_LIMITS, options.eventCatchUpMs);
  const urlSigner = new UrlSigner(config.jwtSecret, config.publicUrl, config.fileUrlTtlSeconds);
  let auditLogger = options.auditLogger;
  if (!auditLogger) {
    const audit = createAuditLogger(config.auditLog);
    cleanups.push(audit.close);
    auditLogger = audit.logger;
  }
  const replica = new ReplicaHeartbeat(redis, config.redisPrefix);
  const webhookKeys = new WebhookKeys(redis, config.redisPrefix, db, logger);
  const domain = createServices({
    db, redis, prefix: config.redisPrefix, queue, trainingQueue, events, webhooks: new JobLifecycleNotifier(webhookQueue, webhookKeys, logger), webhookKeys,
    store: storage.store, urlSigner, clock, logger,
    jwtSecret: config.jwtSecret, jwtTtlSeconds: config.jwtTtlSeconds, sessionIdleDays: config.sessionIdleDays,
    authAttemptsPerMinute: config.authAttemptsPerMinute,
    signedOutRequestsPerMinute: config.signedOutRequestsPerMinute,
    modelsDir: config.modelsDir, maxUploadBytes: config.maxUploadBytes, oidc: config.oidc, publicUrl: config.publicUrl,
    auditLogger, auditRetentionDays: config.auditRetentionDays,
    webhookTargets: { requireHttps: config.nodeEnv === 'production', allowedNetworks: config.webhookAllowedNetworks },
    credentialKey: config.credentialKey,
    serviceLimits: {
      maxQueuedJobs: config.maxQueuedJobs, jobTimeoutSeconds: config.jobTimeoutSeconds,
      adminRateLimits: { requestsPerMinute: config.adminRequestsPerMinute, generationsPerMinute: config.adminGenerationsPerMinute },
    },
  });
  // The live streams sit on the event log, above the domain (docs/architecture.md, "Layers").
  const presence = new Presence(redis, config.redisPrefix, replica.id);
  const services: Services = {
    ...domain, events, presence,
    live: new LiveEvents(events, domain.access, presence, clock, {
      job: (job) => domain.lifecycle.announceEnd(job), run: (run) => domain.trainingLifecycle.announceEnd(run),
      finalJobs: (ids) => domain.lifecycle.transitions.finalAmong(ids), finalRuns: (ids) => domain.trainingLifecycle.finalAmong(ids),
    }),
  };
  metrics.observeQueue(() => services.monitoring.queueDepth());
  metrics.observeWorkers(async () => (await onlineWorkers(redis, config.redisPrefix)).length);
  metrics.observeOwedEnds(() => ({ jobs: services.lifecycle.owedEnds.size, runs: services.trainingLifecycle.owedEnds.size }));
  // Every replica ticks; a Redis lock makes it one pass per interval across the cluster.
  const reconciler = new JobReconciler({
    redis, prefix: config.redisPrefix, queue, lifecycle: services.lifecycle, quotas: services.quotas,
    logger: logger.child({ role: 'reconciler' }), graceSeconds: config.reconcileSeconds, clock: services.clock,
  }).start(config.reconcileSeconds * 1000);
  cleanups.push(() => reconciler.stop());
  // Ends owed since an outage (OwedEnds) are not told past shutdown: a subscriber or a repeated cancel tells them later.
  // Nor are queue positions put off for half a second: their database and Redis are about to close.
  cleanups.push(async () => {
    services.lifecycle.stop();
    services.trainingLifecycle.owedEnds.stop();
  });
  // Repeated refusals of the current minute get their count written before the database closes (docs/security.md, "Audit log").
  cleanups.push(() => services.audit.flush());
  // Training runs whose entry will never reach a worker get a new one (docs/training.md, "Resume guarantees").
  const trainingRepair = setInterval(() => {
    services.trainingLifecycle.requeueStranded(config.reconcileSeconds, config.reconcileSeconds * 1000)
      .then((ids) => { if (ids.length) logger.warn({ runIds: ids }, 'training runs without a live queue entry were queued again'); })
      .catch((err) => logger.warn({ err }, 'training reconciliation failed: retrying next interval'));
  }, config.reconcileSeconds * 1000);
  trainingRepair.unref();
  cleanups.push(async () => clearInterval(trainingRepair));
  if (config.adminEmail && config.adminPassword) {
    await services.auth.ensureAdmin(config.adminEmail, config.adminPassword);
    logger.info({ email: config.adminEmail }, 'admin account ready');
  }
  return {
    config, logger, clock, metrics, db, redis, connection, queue, events, storage, urlSigner, services, replica, cleanups,
    subscriberPingMs: options.subscriberPingMs,
  };
}

/** The GPU worker: BullMQ consumer, model cache, and (standalone) its own metrics and health server. */
async function startWorkerRole(core: Core): Promise<{ worker: GenerationWorker; metricsUrl: string | null }> {
  // Loaded here, not at the top: an API-only process never loads onnxruntime (docs/architecture.md, "Layers").
  const [{ GenerationWorker }, { PipelineCache }, { RemoteBackends }, { ensureFfmpeg }, { TrainingWorker }, { trainingBackendOf }] = await Promise.all([
    import('./gpu-worker/generation-worker.js'), import('./gpu-worker/models/pipeline-cache.js'), import('./gpu-worker/backends/remote-backends.js'),
    import('./gpu-worker/video-encoder.js'), import('./gpu-worker/training-worker.js'), import('./gpu-worker/training-backend.js'),
  ]);
  const { config, db, redis, connection, services, storage, clock, metrics, queue, cleanups } = core;
  const logger = core.logger.child({ role: 'worker' });
  const pipelines = new PipelineCache({
    maxBytes: config.modelCacheBytes, executionProviders: config.executionProviders, intraOpNumThreads: config.intraOpThreads, cpuMemArena: config.onnxCpuArena,
    inThread: true,
  });
  cleanups.push(() => pipelines.clear());
  const workerMetrics = workerMetricsOf(metrics);
  // The worker's statements go before the API's on the embedded database (docs/architecture.md, "The embedded database").
  const workerDb = await workerDataSource(db);
  if (workerDb !== db) cleanups.push(() => workerDb.destroy());
  const remote = new RemoteBackends({
    db: workerDb, redis, prefix: config.redisPrefix, workerId: `${os.hostname()}-${process.pid}`, policy: config.backends, probeEveryMs: config.backends.probeEveryMs,
    credentialKey: config.credentialKey, metrics: workerMetrics, logger,
  });
  remote.start();
  cleanups.push(() => remote.stop());
  // Found (or apt-installed when root) now, like redis-server; without it images still work and VIDEO jobs fail saying why.
  let ffmpegPath = config.ffmpegPath ?? undefined;
  try {
    ffmpegPath ??= ensureFfmpeg((msg) => logger.info(msg));
  } catch (err) {
    logger.warn({ err }, 'ffmpeg is unavailable: VIDEO jobs will fail until it is installed (docs/video.md)');
  }
  const worker = new GenerationWorker({
    db: workerDb, redis, connection, prefix: config.redisPrefix, lifecycle: services.lifecycle,
    store: storage.store, artifactFiles: storage.files, pipelines, modelsDir: config.modelsDir, clock, logger,
    concurrency: config.workerConcurrency, previewEvery: config.previewEvery, jobTimeoutMs: config.jobTimeoutSeconds * 1000,
    lockDurationMs: config.workerLockSeconds * 1000, stalledIntervalMs: stalledCheckMs(config.workerLockSeconds),
    outageRetryMs: config.outageRetrySeconds * 1000, metrics: workerMetrics, remote, backendWaitMs: config.backends.waitMs, ffmpegPath,
  });
  // LoRA training runs from their own queue, one at a time (docs/training.md).
  const training = new TrainingWorker({
    db, redis, connection, prefix: config.redisPrefix, lifecycle: services.trainingLifecycle, scheduler: services.trainingScheduler,
    store: storage.store, backend: trainingBackendOf(config.trainer, config.trainerEncodingIterations), modelsDir: config.modelsDir, logger: logger.child({ queue: 'training' }),
    lockDurationMs: config.workerLockSeconds * 1000, stalledIntervalMs: stalledCheckMs(config.workerLockSeconds),
    outageRetryMs: config.outageRetrySeconds * 1000, metrics: trainingMetricsOf(metrics),
  });
  const observed = await observeWorker({ worker, config, metrics, db, redis, queue, store: storage.store, logger: core.logger });
  cleanups.push(() => observed.stop());
  // Closed together: during a Redis outage each close waits a few seconds on Redis before it drops its
  // connections, and one after the other those waits added up (docs/operations.md, "Stopping and restarting").
  cleanups.push(() => Promise.all([worker.close(config.shutdownGraceSeconds * 1000), training.close(config.shutdownGraceSeconds * 1000)]));
  return { worker, metricsUrl: observed.metricsUrl };
}

/** The API: Express + Apollo + graphql-ws on one port, uploads, files, health, webhooks and housekeeping. Returns its URL. */
async function startApiRole(core: Core, worker: GenerationWorker | null): Promise<string> {
  const { config, logger, services, redis, db, queue, metrics, urlSigner, clock, connection, storage, replica, cleanups } = core;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  const headerOptions = { publicUrl: config.publicUrl, corsOrigins: config.corsOrigins };
  app.use(...securityHeaders(headerOptions));
  app.use(cors(config.corsOrigins));
  // Requests to `/graphql` skip Express (mountGraphQL); the handler is set once Apollo has started.
  // Its connection cap and timeouts: docs/operations.md, "HTTP connections and timeouts".
  const httpServer = createHttpServer({ maxConnections: config.maxHttpConnections, longestRequestMs: longestUploadMs(config.maxUploadBytes), logger });
  const schema = await buildAppSchema();
  const errors = new ErrorReporter(logger, metrics, services.recentErrors);
  const exposeErrorDetails = config.nodeEnv === 'development';
  // Before any socket: connections and presence of a replica without a live heartbeat do not count.
  await replica.start();
  cleanups.push(() => replica.stop());
  const ws = attachWebSocketServer({
    httpServer, schema, services, redis, prefix: config.redisPrefix, logger, maxConnectionsPerUser: config.maxConnectionsPerUser,
    replicaId: replica.id, errors, exposeErrorDetails, subscriberPingMs: core.subscriberPingMs,
    trustProxy: config.trustProxy,
    maxAnonymousConnectionsPerAddress: config.maxAnonymousConnectionsPerAddress,
  });
  if (services.oidc) mountOidcRoutes(app, services.oidc, logger);
  mountHttpRoutes({ app, services, redis, db, store: storage.store, queue, metrics, logger, errors,
    modelLoaded: worker ? () => worker.hasModelLoaded : undefined, backends: worker ? () => worker.describe().backends : undefined });
  metrics.observeWebSockets(ws.activity);
  mountUploads(app, services, errors, logger);
  const { apollo, handle } = await mountGraphQL({
    app, headers: [graphQLSecurityHeaders(headerOptions), plain(cors(config.corsOrigins))], trustProxy: config.trustProxy,
    httpServer, schema, services, logger, exposeErrorDetails, drainWebSockets: () => ws.close(), metrics, errors,
  });
  httpServer.on('request', (req, res) => handle(req, res) || app(req, res));
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, resolve);
  });
  // Runs after Apollo has drained its requests, before Redis closes: the QUEUED they issued (JobService.announce).
  cleanups.push(() => services.jobs.announced());
  cleanups.push(() => apollo.stop());
  let url = config.publicUrl;
  if (config.port === 0) {
    url = `http://localhost:${(httpServer.address() as import('node:net').AddressInfo).port}`;
    urlSigner.rebase(url);
    services.oidc?.rebase(url);
  }
  // Webhook deliveries are I/O only: they run wherever the API runs.
  const webhooks = new WebhookWorker({
    db, connection, prefix: config.redisPrefix, urlSigner, targets: services.webhookTargets, clock, logger: logger.child({ role: 'webhooks' }), metrics,
  });
  // Hourly, once per cluster: archive idle sessions, delete uploads never registered, drop audit events past
  // retention, expire jobs and images past their owner's tier retention (with their files).
  const housekeeping = new Housekeeping({
    connection, prefix: config.redisPrefix, logger: logger.child({ role: 'housekeeping' }),
    tasks: { archivedSessions: () => services.sessions.archiveIdle(), sweptUploads: () => services.uploads.sweepAbandoned(),
      expiredAuditEvents: () => services.audit.deleteExpired(), expiredJobs: () => services.dataLifecycle.expireByRetention(),
    },
  });
  await housekeeping.start();
  // Closed together, as the generation and training workers are.
  cleanups.push(() => Promise.all([webhooks.close(config.shutdownGraceSeconds * 1000), housekeeping.close(config.shutdownGraceSeconds * 1000)]));
  return url;
}
