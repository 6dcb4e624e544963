import type { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { Job, JobStatus, type User } from '../entities';
import type { AccessPolicy } from './access';
import { assertUuid } from '../kernel/ids';
import { placesOf, readStepCosts, readWorkerLine, remainingWorkMs, type QueuePlace, type QueuePlaces } from './queue-positions';
import { onlineWorkers, type WorkerHeartbeat } from '../observability/worker-registry';
import { EndpointHealthStore } from '../redis/endpoint-health';
import { assertPageSize, pageNewestFirst } from './keyset-page';

export interface JobFilter {
  status?: JobStatus | null;
  sessionId?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
}

export interface Page<T> {
  nodes: T[];
  cursors: string[];
  hasNextPage: boolean;
}

/** Reads of jobs: history pages, queue position and ETA. */
export class JobQueries {
  constructor(
    private readonly db: DataSource,
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly access: AccessPolicy,
  ) {}

  /** Newest first. Without `sessionId`: the caller's own jobs; with it: the session's (members only). */
  async list(user: User, filter: JobFilter, first = 20, after?: string | null): Promise<Page<Job>> {
    assertPageSize(first); // before the membership query (pageNewestFirst checks it again)
    const qb = this.db.getRepository(Job).createQueryBuilder('j');
    if (filter.sessionId) {
      await this.access.assertSessionMember(user, assertUuid('sessionId', filter.sessionId));
      qb.where('j.sessionId = :sessionId', { sessionId: filter.sessionId });
    } else {
      qb.where('j.ownerId = :ownerId', { ownerId: user.id });
    }
    if (filter.status) qb.andWhere('j.status = :status', { status: filter.status });
    if (filter.createdAfter) qb.andWhere('j.createdAt >= :createdAfter', { createdAfter: filter.createdAfter });
    if (filter.createdBefore) qb.andWhere('j.createdAt < :createdBefore', { createdBefore: filter.createdBefore });
    return pageNewestFirst('jobs', qb, 'id', first, after);
  }

  /**
   * 0-based place among pending jobs, in the order the queue hands them out
   * (priority, then age); null once the job is not waiting. `places` answers
   * for many jobs at once (the request's `queuePlace` loader: a page of jobs
   * costs one statement); without it, one statement for this job.
   */
  async queuePosition(job: Job, places: QueuePlaces = this.places): Promise<number | null> {
    if (job.status !== JobStatus.PENDING) return null;
    return (await places.load(job))?.position ?? null;
  }

  /** The places of PENDING jobs in one statement (placesOf); a job missing from the map is no longer waiting. */
  placesOf(jobs: readonly Pick<Job, 'id' | 'priority' | 'createdAt'>[]): Promise<Map<string, QueuePlace>> {
    return placesOf(this.db, jobs);
  }

  /** One job's place, one statement: for callers without a request's loader. */
  private readonly places: QueuePlaces = { load: async (job) => (await this.placesOf([job])).get(job.id) ?? null };

  /**
   * The backend (COMFYUI, OPENAI_IMAGES) a PENDING job waits for because
   * every endpoint of its model is open, else null (docs/backends.md).
   */
  async waitingFor(job: Job): Promise<string | null> {
    if (job.status !== JobStatus.PENDING) return null;
    return new EndpointHealthStore(this.redis, this.prefix).waitingFor(job.modelId);
  }

  /**
   * Estimated milliseconds until the job completes, from its model's step
   * cost (fitted to recent renders) at its size. While it waits: the workers
   * online are busy with the jobs they run for the rest of those jobs' work,
   * the jobs ahead (counted as if each were like it; POSITION events count
   * each job ahead as itself) go each to the worker free first, and then this
   * one (docs/architecture.md, "Queue ETAs"). Unknown (null) until its model
   * ran a job, and while its backend is down.
   */
  async etaMs(job: Job, places: QueuePlaces = this.places): Promise<number | null> {
    if (job.status !== JobStatus.PENDING && job.status !== JobStatus.PROCESSING) return null;
    if (await this.waitingFor(job)) return null;
    if (job.status === JobStatus.PROCESSING) {
      const cost = (await readStepCosts(this.redis, this.prefix, [job.modelId])).get(job.modelId);
      return cost === undefined ? null : Math.round(remainingWorkMs(job, cost, job.step));
    }
    const { line, costs } = await readWorkerLine(this.redis, this.prefix, [job.modelId], this.onlineWorkers());
    const cost = costs.get(job.modelId);
    if (cost === undefined) return null;
    const own = remainingWorkMs(job, cost);
    line.takeAlike((await this.queuePosition(job, places)) ?? 0, own);
    return Math.round(line.take(own));
  }

  /** The workers' heartbeats, one read shared by the ETAs a request asks for together (a page of waiting jobs). */
  private workersRead: Promise<WorkerHeartbeat[]> | null = null;

  private onlineWorkers(): Promise<WorkerHeartbeat[]> {
    return (this.workersRead ??= onlineWorkers(this.redis, this.prefix).finally(() => { this.workersRead = null; }));
  }
}
