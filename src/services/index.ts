import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import type { GenerationQueue } from '../gpu-worker/queue';
import type { Logger } from '../observability/logger';
import type { ArtifactStore, UrlSigner } from '../storage/artifact-store';
import type { EventLog } from '../subscriptions/event-log';
import { LiveEvents } from '../subscriptions/live-events';
import { Presence } from '../subscriptions/presence';
import { AccessPolicy } from './access';
import { AlbumSharing } from './album-sharing';
import { AlbumService } from './albums';
import { AuditLog } from './audit-log';
import { AuthService } from './auth';
import type { Clock } from './clock';
import { FavoriteService } from './favorites';
import { JobQueries } from './job-queries';
import { JobService } from './jobs';
import { KnownAddresses } from './known-addresses';
import { MonitoringService } from './monitoring';
import { RecentErrors } from '../observability/recent-errors';
import { LoraService } from './loras';
import { ModelService } from './models';
import { PresetService } from './presets';
import { QuotaService, type ServiceLimits } from './quotas';
import { RateLimiter } from './rate-limits';
import { FairScheduler } from './scheduling';
import { SessionService } from './sessions';
import { SuggestionService } from './suggestions';
import { UploadService } from './uploads';
import { UserService } from './users';
import { WebhookService } from './webhooks';
import { WebhookTargets, type WebhookTargetPolicy } from './webhook-targets';

export interface ServiceDeps {
  db: DataSource;
  redis: Redis;
  prefix: string;
  queue: GenerationQueue;
  events: EventLog;
  store: ArtifactStore;
  urlSigner: UrlSigner;
  clock: Clock;
  logger: Logger;
  jwtSecret: string;
  jwtTtlSeconds: number;
  sessionIdleDays: number;
  /** Sign-up and sign-in attempts per minute per address (and sign-ins per account). */
  authAttemptsPerMinute: number;
  /** Where model directories live (LoRA shape checks read their model_index.json). */
  modelsDir: string;
  maxUploadBytes: number;
  /** The security audit log stream (see createAuditLogger). */
  auditLogger: Logger;
  auditRetentionDays: number;
  /** The cluster-wide cap on open jobs and admins' own rate limits. */
  serviceLimits: ServiceLimits;
  /** Where webhooks may be delivered (SSRF guard). */
  webhookTargets: WebhookTargetPolicy;
}

/** Every domain service, built once in the composition root. */
export function createServices(deps: ServiceDeps) {
  const { db, redis, prefix, clock } = deps;
  const access = new AccessPolicy(db);
  const quotas = new QuotaService(db, redis, prefix, clock, deps.serviceLimits);
  const rateLimiter = new RateLimiter(redis, prefix, clock);
  const scheduler = new FairScheduler(redis, prefix);
  const presence = new Presence(redis, prefix);
  const recentErrors = new RecentErrors(redis, prefix);
  const albums = new AlbumService(db, clock);
  const uploads = new UploadService(deps.store, deps.maxUploadBytes, { redis, key: `${prefix}:uploads:pending`, clock });
  const jobQueries = new JobQueries(db, redis, prefix, access);
  const audit = new AuditLog(db, deps.auditLogger, clock, deps.auditRetentionDays);
  const webhookTargets = new WebhookTargets(deps.webhookTargets);
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
    presence,
    audit,
    auth: new AuthService(
      db, { jwtSecret: deps.jwtSecret, jwtTtlSeconds: deps.jwtTtlSeconds, attemptsPerMinute: deps.authAttemptsPerMinute }, clock, rateLimiter,
      audit, new KnownAddresses(redis, prefix),
    ),
    users: new UserService(db, audit),
    jobs: new JobService({ db, redis, prefix, queue: deps.queue, quotas, rateLimiter, scheduler, events: deps.events, access, queries: jobQueries, clock, logger: deps.logger }),
    jobQueries,
    sessions: new SessionService(db, access, deps.events, clock, deps.sessionIdleDays, audit),
    recentErrors,
    monitoring: new MonitoringService({ db, redis, prefix, queue: deps.queue, recentErrors, clock }),
    live: new LiveEvents(deps.events, access, presence, clock),
    albums,
    albumSharing: new AlbumSharing(db, albums, clock),
    favorites: new FavoriteService(db),
    presets: new PresetService(db, access),
    suggestions: new SuggestionService(),
    uploads,
    loras: new LoraService(db, deps.store, uploads, deps.modelsDir),
    models: new ModelService(db),
    webhookTargets,
    webhooks: new WebhookService(db, clock, webhookTargets),
  };
}

export type Services = ReturnType<typeof createServices>;
