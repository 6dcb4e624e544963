import type { Redis } from 'ioredis';
import type { OidcConfig } from '../config';
import type { DataSource } from 'typeorm';
import type { GenerationQueue, TrainingQueue } from '../kernel/queues';
import type { Logger } from '../observability/logger';
import type { ArtifactStore, UrlSigner } from '../storage/artifact-store';
import type { EventPublisher, JobEventHistory, TrainingEventPublisher } from '../kernel/events';
import { AccessPolicy } from './access';
import { AlbumSharing } from './album-sharing';
import { AlbumService } from './albums';
import { AuditLog } from './audit-log';
import { AuthService } from './auth';
import { DataLifecycle } from './data-lifecycle';
import { BatchGrid } from './batch-grid';
import { BatchProgress } from './batch-progress';
import { BatchService } from './batches';
import type { Clock } from '../kernel/clock';
import { FavoriteService } from './favorites';
import { JobLifecycle } from './job-lifecycle';
import { JobQueries } from './job-queries';
import { JobService } from './jobs';
import { KnownAddresses } from './known-addresses';
import { MonitoringService } from './monitoring';
import { OidcSignIn } from './oidc-sign-in';
import { RecentErrors } from '../observability/recent-errors';
import { LoraService } from './loras';
import { ModelService } from './models';
import { EndpointHealthStore } from '../redis/endpoint-health';
import { PresetService } from './presets';
import { PrincipalStamps } from './principal-stamps';
import { CachedModels } from './cached-models';
import { QuotaService, type ServiceLimits } from './quotas';
import { RateLimiter } from './rate-limits';
import { RequestGate } from './request-gate';
import { FairScheduler } from './scheduling';
import { SessionService } from './sessions';
import { SuggestionService } from './suggestions';
import { DatasetService } from './datasets';
import { TrainingLifecycle } from './training-lifecycle';
import { TrainingService } from './training';
import { UploadService } from './uploads';
import { UserService } from './users';
import type { JobLifecycleNotifier } from './webhook-queue';
import type { WebhookKeys } from './webhook-keys';
import { WebhookService } from './webhooks';
import { WebhookTargets, type WebhookTargetPolicy } from './webhook-targets';

export interface ServiceDeps {
  db: DataSource;
  redis: Redis;
  prefix: string;
  queue: GenerationQueue;
  /** LoRA training runs (docs/training.md). */
  trainingQueue: TrainingQueue;
  events: EventPublisher & TrainingEventPublisher & JobEventHistory;
  /** Told of every job transition (webhook deliveries); null where nothing listens. */
  webhooks: JobLifecycleNotifier | null;
  /** The API keys with a webhook, which the notifier checks (kept in step by WebhookService). */
  webhookKeys: WebhookKeys;
  store: ArtifactStore;
  urlSigner: UrlSigner;
  clock: Clock;
  logger: Logger;
  jwtSecret: string;
  jwtTtlSeconds: number;
  sessionIdleDays: number;
  /** Sign-up and sign-in attempts per minute per address (and sign-ins per account). */
  authAttemptsPerMinute: number;
  /** Requests per minute per address without a valid credential (RequestGate). */
  signedOutRequestsPerMinute: number;
  /** Where model directories live (LoRA shape checks read their model_index.json). */
  modelsDir: string;
  maxUploadBytes: number;
  /** Single sign-on provider, when configured; its callback URL hangs off `publicUrl`. */
  oidc?: OidcConfig;
  publicUrl: string;
  /** The security audit log stream (see createAuditLogger). */
  auditLogger: Logger;
  auditRetentionDays: number;
  /** The cluster-wide cap on open jobs and admins' own rate limits. */
  serviceLimits: ServiceLimits;
  /** Where webhooks may be delivered (SSRF guard). */
  webhookTargets: WebhookTargetPolicy;
  /** Seals backend credentials of registered models (ATELIER_CREDENTIAL_KEY). */
  credentialKey: Buffer;
}

/** Every domain service, built once in the composition root. */
export function createServices(deps: ServiceDeps) {
  const { db, redis, prefix, clock } = deps;
  const access = new AccessPolicy(db);
  const quotas = new QuotaService(db, redis, prefix, clock, deps.serviceLimits);
  const rateLimiter = new RateLimiter(redis, prefix, clock);
  const principalStamps = new PrincipalStamps(redis, prefix);
  const cachedModels = new CachedModels(db);
  const scheduler = new FairScheduler(redis, prefix, { prioritizedKey: deps.queue.keys.prioritized });
  const recentErrors = new RecentErrors(redis, prefix);
  const albums = new AlbumService(db, clock);
  const uploads = new UploadService(deps.store, deps.maxUploadBytes, { redis, key: `${prefix}:uploads:pending`, clock });
  const jobQueries = new JobQueries(db, redis, prefix, access);
  const audit = new AuditLog(db, deps.auditLogger, clock, deps.auditRetentionDays);
  const webhookTargets = new WebhookTargets(deps.webhookTargets);
  const auth = new AuthService(
    db, { jwtSecret: deps.jwtSecret, jwtTtlSeconds: deps.jwtTtlSeconds, attemptsPerMinute: deps.authAttemptsPerMinute }, clock, rateLimiter,
    principalStamps, audit, new KnownAddresses(redis, prefix),
  );
  const oidc = deps.oidc
    ? new OidcSignIn(deps.oidc, deps.publicUrl, { redis, prefix, auth, limiter: rateLimiter, attemptsPerMinute: deps.authAttemptsPerMinute, audit })
    : null;
  const batchProgress = new BatchProgress({ db, events: deps.events, grid: new BatchGrid(deps.store), clock, logger: deps.logger });
  const lifecycle = new JobLifecycle({
    db, redis, prefix, queue: deps.queue, quotas, scheduler, events: deps.events, clock, logger: deps.logger, webhooks: deps.webhooks,
    batches: batchProgress, store: deps.store,
  });
  const jobs = new JobService({
    db, redis, prefix, quotas, rateLimiter, scheduler, lifecycle, access, clock, logger: deps.logger, models: cachedModels,
  });
  const datasets = new DatasetService(db, deps.store, uploads, access, clock);
  const trainingLifecycle = new TrainingLifecycle({ db, redis, prefix, queue: deps.trainingQueue, events: deps.events, store: deps.store, clock, logger: deps.logger });
  // A scheduler of its own: training entries wait in their own queue, so their fair tags are their own.
  const trainingScheduler = new FairScheduler(redis, `${prefix}:training`, { prioritizedKey: deps.trainingQueue.keys.prioritized });
  return {
    db,
    clock,
    store: deps.store,
    urlSigner: deps.urlSigner,
    events: deps.events,
    access,
    quotas,
    rateLimiter,
    scheduler,
    principalStamps,
    audit,
    auth,
    gate: new RequestGate(auth, quotas, rateLimiter, deps.signedOutRequestsPerMinute),
    /** Sign-in with the configured OpenID Connect provider; null when none is configured. */
    oidc,
    users: new UserService(db, principalStamps, audit),
    lifecycle,
    jobs,
    batches: new BatchService({
      db, redis, prefix, quotas, rateLimiter, scheduler, lifecycle, jobs, queries: jobQueries, access, progress: batchProgress, clock, logger: deps.logger,
    }),
    jobQueries,
    sessions: new SessionService(db, access, deps.events, clock, deps.sessionIdleDays, audit),
    recentErrors,
    monitoring: new MonitoringService({ db, redis, prefix, queue: deps.queue, recentErrors, clock }),
    albums,
    albumSharing: new AlbumSharing(db, albums, clock),
    favorites: new FavoriteService(db),
    presets: new PresetService(db, access),
    suggestions: new SuggestionService(),
    uploads,
    loras: new LoraService(db, deps.store, uploads, deps.modelsDir),
    models: new ModelService(db, { modelsDir: deps.modelsDir, store: deps.store, credentialKey: deps.credentialKey, health: new EndpointHealthStore(redis, prefix), cache: cachedModels }),
    datasets,
    trainingLifecycle,
    trainingScheduler,
    training: new TrainingService(db, datasets, trainingLifecycle, trainingScheduler, clock),
    webhookTargets,
    webhooks: new WebhookService(db, clock, webhookTargets, deps.webhookKeys),
    /** Deleting what users own, on request and by tier retention. */
    dataLifecycle: new DataLifecycle({ db, store: deps.store, clock, logger: deps.logger, audit, stamps: principalStamps, events: deps.events }),
  };
}

/** The domain services; the request context adds the live streams (resolvers/context.ts). */
export type DomainServices = ReturnType<typeof createServices>;
