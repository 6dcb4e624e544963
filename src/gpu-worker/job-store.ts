import { randomUUID } from 'node:crypto';
import { DataSource, In } from 'typeorm';
import { AlbumImage, Image, Job, JobStatus, UsageRecord } from '../entities';
import { utcDay } from '../services/clock';

/** The worker's reads and writes of job state in PostgreSQL. */
export class WorkerJobStore {
  constructor(private readonly db: DataSource) {}

  /** The row may commit a moment after the queue entry appears: wait briefly for it. */
  async load(jobId: string, waitMs = 3000): Promise<Job | null> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const job = await this.db.getRepository(Job).findOneBy({ id: jobId });
      if (job || Date.now() > deadline) return job;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** PENDING (or PROCESSING, when a crashed worker's job is picked up again) → PROCESSING. */
  async markProcessing(job: Job, provider: string, now: Date): Promise<boolean> {
    const result = await this.db.getRepository(Job).update(
      { id: job.id, status: In([JobStatus.PENDING, JobStatus.PROCESSING]) },
      { status: JobStatus.PROCESSING, startedAt: job.startedAt ?? now, attempts: job.attempts + 1, executionProvider: provider, step: 0 },
    );
    return (result.affected ?? 0) > 0;
  }

  async recordStep(jobId: string, step: number): Promise<void> {
    await this.db.getRepository(Job).update({ id: jobId, status: JobStatus.PROCESSING }, { step });
  }

  /** Returns a job to PENDING before a retry with backoff. */
  async markPending(jobId: string): Promise<void> {
    await this.db.getRepository(Job).update({ id: jobId, status: JobStatus.PROCESSING }, { status: JobStatus.PENDING, step: 0 });
  }

  async finish(jobId: string, status: JobStatus.FAILED | JobStatus.CANCELLED, now: Date, error?: { code: string; message: string }): Promise<boolean> {
    const result = await this.db.getRepository(Job).update(
      { id: jobId, status: In([JobStatus.PENDING, JobStatus.PROCESSING]) },
      { status, completedAt: now, errorCode: error?.code ?? null, errorMessage: error?.message ?? null },
    );
    return (result.affected ?? 0) > 0;
  }

  /**
   * Writes image rows, usage and album entries and marks the job COMPLETED in
   * one transaction. The unique (job, index) index makes a re-run after a
   * crash write nothing twice.
   */
  async complete(job: Job, images: Omit<Image, 'id' | 'createdAt' | 'assignId' | 'job'>[], now: Date): Promise<Image[]> {
    return this.db.transaction(async (m) => {
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
      await m.getRepository(Job).update({ id: job.id }, { status: JobStatus.COMPLETED, completedAt: now, step: job.steps });
      return stored;
    });
  }
}
