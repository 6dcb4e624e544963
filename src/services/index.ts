import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import type { GenerationQueue } from '../gpu-worker/queue';
import type { Logger } from '../observability/logger';
import type { ArtifactStore, UrlSigner } from '../storage/artifact-store';
import type { EventLog } from '../subscriptions/event-log';
import { LiveEvents } from '../subscriptions/live-events';
import { Presence } from '../subscriptions/presence';
import { AccessPolicy } from './access';
import { AuthService } from './auth';
import type { Clock } from './clock';
import { JobQueries } from './job-queries';
import { JobService } from './jobs';
import { QuotaService } from './quotas';
import { RateLimiter } from './rate-limits';
import { FairScheduler } from './scheduling';
import { SessionService } from './sessions';
import { UserService } from './users';

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
}

/** Every domain service, built once in the composition root. */
export function createServices(deps: ServiceDeps) {
  const { db, redis, prefix, clock } = deps;
  const access = new AccessPolicy(db);
  const quotas = new QuotaService(db, redis, prefix, clock);
  const rateLimiter = new RateLimiter(redis, prefix, clock);
  const scheduler = new FairScheduler(redis, prefix);
  const presence = new Presence(redis, prefix);
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
    auth: new AuthService(db, { jwtSecret: deps.jwtSecret, jwtTtlSeconds: deps.jwtTtlSeconds }, clock),
    users: new UserService(db),
    jobs: new JobService({ db, redis, prefix, queue: deps.queue, quotas, rateLimiter, scheduler, events: deps.events, access, clock, logger: deps.logger }),
    jobQueries: new JobQueries(db, redis, prefix, access),
    sessions: new SessionService(db, access, deps.events, clock, deps.sessionIdleDays),
    live: new LiveEvents(deps.events, access, presence, clock),
  };
}

export type Services = ReturnType<typeof createServices>;
