import type { DataSource } from 'typeorm';
import { Batch, BatchKind, BatchStatus, Image, Job } from '../entities';
import type { Clock } from '../kernel/clock';
import { appendedOnce, type BatchCounts, type EventOrder, type EventPublisher } from '../kernel/events';
import type { Logger } from '../observability/logger';
import type { BatchGrid, GridCell, RenderedGrid } from './batch-grid';

export interface BatchProgressDeps {
  db: DataSource;
  events: EventPublisher;
  grid: BatchGrid;
  clock: Clock;
  logger: Logger;
}

/** The counts a batch row carries, as events and `Batch` report them. */
export function countsOf(batch: Pick<Batch, 'total' | 'completed' | 'failed' | 'cancelled' | 'status'>): BatchCounts {
  return { total: batch.total, completed: batch.completed, failed: batch.failed, cancelled: batch.cancelled, status: batch.status };
}

/** Finished jobs (any final status) ÷ total. */
export function progressOf(counts: Pick<BatchCounts, 'total' | 'completed' | 'failed' | 'cancelled'>): number {
  return counts.total > 0 ? Math.min(1, (counts.completed + counts.failed + counts.cancelled) / counts.total) : 0;
}

/** The final status of a batch whose jobs are all final (docs/batches.md). */
export function finalStatusOf(batch: Pick<Batch, 'completed' | 'cancelled' | 'cancelRequestedAt'>): BatchStatus {
  if (batch.cancelRequestedAt) return BatchStatus.CANCELLED;
  if (batch.completed > 0) return BatchStatus.COMPLETED;
  return batch.cancelled > 0 ? BatchStatus.CANCELLED : BatchStatus.FAILED;
}

/**
 * Keeps a batch's counts true as its jobs move (the job lifecycle calls
 * `jobChanged` after each transition it won) and publishes them as
 * BATCH_PROGRESS. Counts are recounted from the jobs table, never
 * incremented, so a repeated or reordered call cannot drift them; GREATEST
 * keeps two racing recounts from writing an older count over a newer one.
 * The grid of a matrix batch is rendered when its last job is final.
 */
export class BatchProgress {
  constructor(private readonly deps: BatchProgressDeps) {}

  async jobChanged(job: Pick<Job, 'batchId' | 'ownerId'>): Promise<void> {
    if (!job.batchId) return;
    const recounted = await this.recount(job.batchId);
    if (!recounted) return;
    const { batch, open } = recounted;
    // The finisher publishes the final counts; one that lost the race to another finisher holds stale ones.
    if (open === 0 && batch.status === BatchStatus.RUNNING) return void await this.finish(batch);
    await this.publish(batch, job.ownerId);
  }

  /** Announces a new batch (counts all zero) to its stream and its session. */
  announce(batch: Batch): Promise<unknown> {
    return this.publish(batch, batch.ownerId);
  }

  private async recount(batchId: string): Promise<{ batch: Batch; open: number } | null> {
    const result: unknown[] = await this.deps.db.query(
      `UPDATE batches b SET completed = GREATEST(b.completed, c.completed), failed = GREATEST(b.failed, c.failed),
         cancelled = GREATEST(b.cancelled, c.cancelled)
       FROM (SELECT count(*) FILTER (WHERE status = 'COMPLETED')::int AS completed,
                    count(*) FILTER (WHERE status = 'FAILED')::int AS failed,
                    count(*) FILTER (WHERE status = 'CANCELLED')::int AS cancelled,
                    count(*) FILTER (WHERE status IN ('PENDING', 'PROCESSING'))::int AS open
             FROM jobs WHERE batch_id = $1) c
       WHERE b.id = $1
       RETURNING b.id, c.open`,
      [batchId],
    );
    // node-postgres answers an UPDATE with [rows, count], the PGlite pool with the rows.
    const rows = (Array.isArray(result[0]) ? result[0] : result) as { id: string; open: number }[];
    if (!rows.length) return null;
    const batch = await this.deps.db.getRepository(Batch).findOneBy({ id: batchId });
    return batch ? { batch, open: Number(rows[0].open) } : null;
  }

  /**
   * RUNNING → final, once. The grid (matrix batches) is rendered before the
   * row says final, so whoever sees the final status also finds the grid; two
   * racing finishers both render the same PNG and one of them wins the UPDATE.
   */
  private async finish(batch: Batch): Promise<boolean> {
    const status = finalStatusOf(batch);
    const now = this.deps.clock.now();
    const grid = batch.kind === BatchKind.MATRIX && batch.completed > 0 ? await this.renderGrid(batch) : null;
    const changes = { status, completedAt: now, ...(grid ? { gridKey: grid.key, gridWidth: grid.width, gridHeight: grid.height } : {}) };
    const won = await this.deps.db.getRepository(Batch).update({ id: batch.id, status: BatchStatus.RUNNING }, changes);
    if (!won.affected) return false;
    Object.assign(batch, changes);
    await this.publish(batch, batch.ownerId);
    return true;
  }

  /** A grid that cannot be rendered is logged, not fatal: the batch and its images stand without it. */
  private async renderGrid(batch: Batch): Promise<RenderedGrid | null> {
    try {
      const cells = await this.deps.db.getRepository(Image).createQueryBuilder('i')
        .innerJoin(Job, 'j', 'j.id = i.job_id')
        .select(['j.batch_index AS "batchIndex"', 'i.storage_key AS "storageKey"'])
        .where('j.batch_id = :id AND i.index = 0', { id: batch.id })
        .getRawMany<GridCell>();
      return await this.deps.grid.render(batch, cells);
    } catch (err) {
      this.deps.logger.error({ err, batchId: batch.id }, 'could not render the batch grid');
      return null;
    }
  }

  /**
   * Counts only grow, so their publishes are ordered by how far they got: a
   * recount read before another job ended but published after it is dropped,
   * and a subscriber never sees the counts go back (nor a final status
   * followed by RUNNING) when jobs of one batch end at once on several workers.
   * A job's final event counts too (`finalEventOrder`): once k of the batch's
   * jobs have announced their end, counts with fewer than k finished are
   * stale, so the first BATCH_PROGRESS after a job's COMPLETED counts it.
   */
  private publish(batch: Batch, actorId: string): Promise<unknown> {
    const counts = countsOf(batch);
    const rank = 2 * (counts.completed + counts.failed + counts.cancelled) + (counts.status === BatchStatus.RUNNING ? 0 : 1);
    return this.deps.events.publish({
      type: 'BATCH_PROGRESS', at: this.deps.clock.now().toISOString(), actorId, jobId: null, sessionId: batch.sessionId,
      batchId: batch.id, counts,
    }, { key: progressKey(batch.id), rank });
  }
}

const progressKey = (batchId: string) => `batch-progress:${batchId}`;

/**
 * How a job's final event (COMPLETED, FAILED, CANCELLED) is appended: once
 * per job, however many actors announce its end (`JobLifecycle.announceEnd`).
 * A batch job's is counted under its batch, which raises the rank a later
 * BATCH_PROGRESS needs to 2 × the jobs ended so far (docs/batches.md).
 */
export function finalEventOrder(job: Pick<Job, 'id' | 'batchId'>): EventOrder {
  return job.batchId ? { key: progressKey(job.batchId), counter: `batch-ended:${job.batchId}`, member: job.id } : appendedOnce(`job-ended:${job.id}`);
}
