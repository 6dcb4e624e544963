import type { JobFailure } from '../kernel/events';
import { randomUUID } from 'node:crypto';
import { DataSource, In } from 'typeorm';
import { AlbumImage, Batch, Image, Job, JobStatus, OPEN_JOB_STATUSES, UsageRecord, workSteps, type JobVideoFile } from '../entities';
import { utcDay } from '../kernel/clock';
import { quotaCharge } from './quotas';
import { EntityInsert, type Alongside } from '../database/entity-insert';

/** What the worker stores per generated image (the id and timestamps are the database's). */
export type NewImage = Omit<Image, 'id' | 'createdAt' | 'assignId' | 'job'>;


/** Thrown inside the completion transaction when the job is no longer open: rolls the images back. */
class NotOpen extends Error {}

/**
 * The jobs table as a state machine. Every transition is one conditional
 * UPDATE (`WHERE status IN (...)`), so two actors racing on a job (a cancel
 * and a completion, two workers after a lock expiry, the reconciler) cannot
 * both win: the one whose UPDATE matched a row reports true and does the rest
 * (quota, events); the other does nothing.
 *
 *   PENDING ──start──▶ PROCESSING ──complete──▶ COMPLETED
 *      ▲ │                │ │
 *      │ └──fail/cancel───┼─┴──fail/cancel──▶ FAILED / CANCELLED
 *      └─────requeue──────┘
 */
export class JobTransitions {
  private readonly jobInsert: EntityInsert<Job>;

  constructor(private readonly db: DataSource) {
    this.jobInsert = new EntityInsert(db, Job);
  }

  find(jobId: string): Promise<Job | null> {
    return this.db.getRepository(Job).findOneBy({ id: jobId });
  }

  /**
   * One job's PENDING row (the submission's hot path: one parameterised
   * statement, docs/architecture.md "The request path"), with `alongside`'s
   * expressions evaluated in the same statement.
   */
  insert(job: Job, alongside?: Alongside): Promise<Record<string, unknown>> {
    return this.jobInsert.insert(job, alongside);
  }

  /** A batch and all its PENDING jobs, in one transaction: all rows or none. */
  async insertBatch(batch: Batch, jobs: Job[]): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.getRepository(Batch).insert(batch);
      // Chunks keep each INSERT well under PostgreSQL's 65,535 bind parameters.
      for (let i = 0; i < jobs.length; i += 200) await m.getRepository(Job).insert(jobs.slice(i, i + 200));
    });
  }

  /** Removes a batch whose queue entries could not all be added, with its jobs (ON DELETE CASCADE). */
  async discardBatch(batchId: string): Promise<void> {
    await this.db.getRepository(Batch).delete({ id: batchId });
  }

  /** Removes a row whose queue entry could not be added (submission failed as a whole). */
  async discardPending(jobId: string): Promise<void> {
    await this.db.getRepository(Job).delete({ id: jobId, status: JobStatus.PENDING });
  }

  /** PENDING (or PROCESSING, when a crashed worker's job is picked up again) → PROCESSING. */
  async start(job: Job, provider: string, now: Date): Promise<boolean> {
    const result = await this.db.getRepository(Job).update(
      { id: job.id, status: In([...OPEN_JOB_STATUSES]) },
      { status: JobStatus.PROCESSING, startedAt: job.startedAt ?? now, attempts: job.attempts + 1, executionProvider: provider, step: 0 },
    );
    return (result.affected ?? 0) > 0;
  }

  async recordStep(jobId: string, step: number): Promise<void> {
    await this.db.getRepository(Job).update({ id: jobId, status: JobStatus.PROCESSING }, { step });
  }

  /** PROCESSING → PENDING: handed back on shutdown, or waiting for a retry. */
  async requeue(jobId: string): Promise<boolean> {
    const result = await this.db.getRepository(Job).update({ id: jobId, status: JobStatus.PROCESSING }, { status: JobStatus.PENDING, step: 0 });
    return (result.affected ?? 0) > 0;
  }

  /** An open job (or only one in `from`) → FAILED or CANCELLED. */
  async finish(
    jobId: string, status: JobStatus.FAILED | JobStatus.CANCELLED, now: Date, error: JobFailure | null,
    from: readonly JobStatus[] = OPEN_JOB_STATUSES,
  ): Promise<boolean> {
    const result = await this.db.getRepository(Job).update(
      { id: jobId, status: In([...from]) },
      { status, completedAt: now, errorCode: error?.code ?? null, errorMessage: error?.message ?? null },
    );
    return (result.affected ?? 0) > 0;
  }

  /**
   * Writes image rows, usage and album entries and marks the job COMPLETED in
   * one transaction; null (and nothing written) when the job is no longer
   * open. The unique (job, index) index makes a re-run after a crash write
   * nothing twice.
   */
  async complete(job: Job, images: NewImage[], now: Date): Promise<Image[] | null> {
    try {
      return await this.db.transaction(async (m) => {
        const done = await m.getRepository(Job).update(
          { id: job.id, status: In([...OPEN_JOB_STATUSES]) },
          { status: JobStatus.COMPLETED, completedAt: now, step: job.steps },
        );
        if (!done.affected) throw new NotOpen();
        const repo = m.getRepository(Image);
        await repo.createQueryBuilder().insert().into(Image).values(images.map((i) => ({ ...i, id: randomUUID() })) as never).orIgnore().execute();
        const stored = await repo.find({ where: { jobId: job.id }, order: { index: 'ASC' } });
        await m.createQueryBuilder().insert().into(UsageRecord)
          .values({ id: randomUUID(), userId: job.ownerId, jobId: job.id, day: utcDay(job.createdAt), images: stored.length }).orIgnore().execute();
        if (job.albumId) {
          const last = await m.getRepository(AlbumImage).maximum('position', { albumId: job.albumId });
          await m.createQueryBuilder().insert().into(AlbumImage)
            .values(stored.map((img, i) => ({ albumId: job.albumId!, imageId: img.id, position: (last ?? 0) + 1 + i }))).orIgnore().execute();
        }
        return stored;
      });
    } catch (error) {
      if (error instanceof NotOpen) return null;
      throw error;
    }
  }

  /**
   * An open VIDEO job → COMPLETED with its clip and its usage (whole seconds,
   * as admitted) in one transaction; false when the job is no longer open.
   */
  async completeVideo(job: Job, video: JobVideoFile, now: Date): Promise<boolean> {
    return this.db.transaction(async (m) => {
      const done = await m.getRepository(Job).update(
        { id: job.id, status: In([...OPEN_JOB_STATUSES]) },
        { status: JobStatus.COMPLETED, completedAt: now, step: workSteps(job), video },
      );
      if (!done.affected) return false;
      await m.createQueryBuilder().insert().into(UsageRecord).values({
        id: randomUUID(), userId: job.ownerId, jobId: job.id, day: utcDay(job.createdAt), images: 0,
        videoSeconds: quotaCharge(job).amount,
      }).orIgnore().execute();
      return true;
    });
  }

  /**
   * Open jobs whose row has not changed for `graceSeconds` (by the database's
   * clock, which every replica shares), `limit` at a time in id order after
   * the `after` row: the reconciler's candidates.
   */
  stale(graceSeconds: number, limit: number, after: Job | null = null): Promise<Job[]> {
    const qb = this.db.getRepository(Job).createQueryBuilder('j')
      .where('j.status IN (:...open)', { open: [...OPEN_JOB_STATUSES] })
      .andWhere('j.updatedAt < now() - make_interval(secs => :grace)', { grace: graceSeconds });
    if (after) qb.andWhere('j.id > :after', { after: after.id });
    return qb.orderBy('j.id', 'ASC').take(limit).getMany();
  }
}

export type { JobFailure };
