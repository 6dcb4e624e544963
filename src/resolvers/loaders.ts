import DataLoader from 'dataloader';
import { DataSource, In } from 'typeorm';
import { AiModel, CollabSession, Image, Job, Lora, User } from '../entities';
import { placesOf, type QueuePlace } from '../services/queue-positions';
import { createLibraryLoaders } from './library-loaders';

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
    /** Waiting jobs' places in line: a page of jobs asking for `queuePosition` and `etaSeconds` costs one statement. */
    queuePlace: new DataLoader<Pick<Job, 'id' | 'priority' | 'createdAt'>, QueuePlace | null, string>(async (jobs) => {
      const places = await placesOf(db, jobs);
      return jobs.map((job) => places.get(job.id) ?? null);
    }, { cacheKeyFn: (job) => job.id }),
    ...createLibraryLoaders(db),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
