import DataLoader from 'dataloader';
import { DataSource, In } from 'typeorm';
import { AiModel, CollabSession, Image, Job, Lora, TrainingSampleImage, User } from '../entities';
import { placesOf, type QueuePlace } from '../services/queue-positions';
import { createLibraryLoaders } from './library-loaders';
import type { AppContext, Services } from './context';
import type { Viewer } from '../services/auth';

function byId<T extends { id: string }>(rows: T[], ids: readonly string[]): (T | null)[] {
  const map = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => map.get(id) ?? null);
}

/**
 * Per-request DataLoaders for every relation a field resolver follows, so a
 * page of 50 jobs costs one query for owners, one for images, and so on.
 */
export function createLoaders(db: DataSource) {
  return {
    user: new DataLoader<string, User | null>(async (ids) => byId(await db.getRepository(User).findBy({ id: In([...ids]) }), ids)),
    session: new DataLoader<string, CollabSession | null>(async (ids) =>
      byId(await db.getRepository(CollabSession).findBy({ id: In([...ids]) }), ids)),
    model: new DataLoader<string, AiModel | null>(async (ids) => byId(await db.getRepository(AiModel).findBy({ id: In([...ids]) }), ids)),
    lora: new DataLoader<string, Lora | null>(async (ids) => byId(await db.getRepository(Lora).findBy({ id: In([...ids]) }), ids)),
    image: new DataLoader<string, Image | null>(async (ids) => byId(await db.getRepository(Image).findBy({ id: In([...ids]) }), ids)),
    imagesByJob: new DataLoader<string, Image[]>(async (jobIds) => {
      const rows = await db.getRepository(Image).find({ where: { jobId: In([...jobIds]) }, order: { index: 'ASC' } });
      return jobIds.map((id) => rows.filter((r) => r.jobId === id));
    }),
    /** A page of training runs' sample images (`TrainingRun.samples`) in one statement, by step, then prompt. */
    trainingSamples: new DataLoader<string, TrainingSampleImage[]>(async (runIds) => {
      const rows = await db.getRepository(TrainingSampleImage).find({ where: { runId: In([...runIds]) }, order: { step: 'ASC', position: 'ASC' } });
      return runIds.map((id) => rows.filter((r) => r.runId === id));
    }),
    /** Waiting jobs' places in line: a page of jobs asking for `queuePosition` and `etaSeconds` costs one statement. */
    queuePlace: new DataLoader<Pick<Job, 'id' | 'priority' | 'createdAt'>, QueuePlace | null, string>(async (jobs) => {
      const places = await placesOf(db, jobs);
      return jobs.map((job) => places.get(job.id) ?? null);
    }, { cacheKeyFn: (job) => job.id }),
    ...createLibraryLoaders(db),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

/**
 * What one event of a subscription executes with: the subscription's
 * context, read live (the viewer as it is now, principal-check.ts), with
 * DataLoaders of its own built on first use. Fresh loaders, because the
 * subscription's would serve stale rows; on first use, because most events
 * (a step's progress) follow no relation. Nothing else a resolver or
 * graphql-shield leaves on the subscription's context (shield's per-context
 * rule cache) carries over to its events.
 */
export class EventContext implements AppContext {
  readonly requestId: string;
  readonly services: Services;
  readonly transport: AppContext['transport'];
  readonly clientIp?: string;
  readonly userAgent?: string;
  private own: Loaders | undefined;

  constructor(private readonly subscription: AppContext) {
    this.requestId = subscription.requestId;
    this.services = subscription.services;
    this.transport = subscription.transport;
    this.clientIp = subscription.clientIp;
    this.userAgent = subscription.userAgent;
  }

  get viewer(): Viewer | null {
    return this.subscription.viewer;
  }

  get loaders(): Loaders {
    return (this.own ??= createLoaders(this.services.db));
  }
}
