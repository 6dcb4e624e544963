import type { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { Job, JobStatus, remainingDenoisingSteps, workSteps } from '../entities';
import type { EventPublisher } from '../kernel/events';
import type { Clock } from '../kernel/clock';
import type { Alongside } from '../database/entity-insert';

/** Where workers keep the moving average of milliseconds per denoising step (for ETAs). */
const stepTimeKey = (prefix: string): string => `${prefix}:stats:step-ms`;

/** Milliseconds per denoising step, averaged by the workers (null until a job ran). */
export async function readStepTimeMs(redis: Redis, prefix: string): Promise<number | null> {
  const value = await redis.get(stepTimeKey(prefix));
  return value ? Number(value) : null;
}

/** Folds one job's ms per step into the exponentially weighted average. */
export async function recordStepTimeMs(redis: Redis, prefix: string, ms: number): Promise<void> {
  const previous = (await readStepTimeMs(redis, prefix)) ?? ms;
  await redis.set(stepTimeKey(prefix), (previous * 0.8 + ms * 0.2).toFixed(2));
}

/** A new job's place in line: the waiting jobs ahead of it, and whether it went ahead of any. */
export interface QueuePlace {
  position: number;
  wentAhead: boolean;
}

/** Where a job's place comes from: a request's `queuePlace` loader, or one statement per job. */
export interface QueuePlaces {
  load(job: Pick<Job, 'id' | 'priority' | 'createdAt'>): Promise<QueuePlace | null>;
}

/**
 * The place of a new PENDING job, counted over the other waiting jobs (the
 * counts leave the job's own row out, so it may be written already). Run by
 * the job's own INSERT (docs/architecture.md, "The request path"). The status
 * is written out, not a parameter, so that every plan reads the partial index
 * of the line (`idx_jobs_pending_order`) without reading rows: the count
 * walks only the index entries ahead of the job, and whether any job waits
 * behind it is one index probe, not a count of them.
 */
export function placeAlongside(job: Pick<Job, 'priority' | 'createdAt'>): Alongside {
  const line = `FROM jobs WHERE status = '${JobStatus.PENDING}'`;
  return {
    sql: (n) => `(SELECT COUNT(*) ${line} AND (priority, created_at) < ($${n}::int, $${n + 1}::timestamptz)) AS ahead,
      EXISTS (SELECT 1 ${line} AND priority > $${n}::int) AS behind`,
    params: [job.priority, job.createdAt],
  };
}

/** Reads the place from a row holding placeAlongside's expressions. */
export function placeFromRow(row: Record<string, unknown>): QueuePlace {
  return { position: Number(row.ahead ?? 0), wentAhead: row.behind === true };
}

/**
 * The places of several PENDING jobs in one statement (a page of jobs, a
 * batch's jobs): one walk of the line's index up to the last of them, ranking
 * each entry by priority and age, instead of one count per job. A job's rank
 * is the number of waiting jobs strictly ahead of it, what placeAlongside
 * counts (and counts for a single job, which is cheaper than ranking). A job
 * missing from the answer is no longer waiting.
 */
export async function placesOf(db: DataSource, jobs: readonly Pick<Job, 'id' | 'priority' | 'createdAt'>[]): Promise<Map<string, QueuePlace>> {
  if (jobs.length === 0) return new Map();
  if (jobs.length === 1) {
    // One job: a count is cheaper than ranking every entry ahead of it.
    const { sql, params } = placeAlongside(jobs[0]);
    const [row] = (await db.query(
      `SELECT ${sql(1)}, EXISTS (SELECT 1 FROM jobs WHERE id = $3::uuid AND status = '${JobStatus.PENDING}') AS waiting`,
      [...params, jobs[0].id],
    )) as Record<string, unknown>[];
    return row?.waiting === true ? new Map([[jobs[0].id, placeFromRow(row)]]) : new Map();
  }
  // The walk stops after the last of them. A millisecond past its age: a row keeps microseconds that a Date drops.
  const last = jobs.reduce((a, b) => (b.priority > a.priority || (b.priority === a.priority && b.createdAt > a.createdAt) ? b : a));
  const rows = (await db.query(
    `SELECT id, ahead, (SELECT MAX(priority) FROM jobs WHERE status = '${JobStatus.PENDING}') > priority AS behind
     FROM (SELECT id, priority, RANK() OVER (ORDER BY priority, created_at) - 1 AS ahead FROM jobs
           WHERE status = '${JobStatus.PENDING}' AND (priority, created_at) <= ($2::int, $3::timestamptz + interval '1 millisecond')) line
     WHERE id = ANY($1::uuid[])`,
    [jobs.map((job) => job.id), last.priority, last.createdAt],
  )) as { id: string; ahead: string | number; behind: boolean }[];
  return new Map(rows.map((row) => [row.id, { position: Number(row.ahead), wentAhead: row.behind === true }]));
}

/** Positions are pushed for the first jobs in line; further back, `queuePosition` answers on demand. */
const PUSH_LIMIT = 200;

/**
 * Publishes a POSITION event (with an ETA when step times are known) to every
 * pending job near the front of the queue. Called when the line moves: a job
 * starts, or a pending one is cancelled.
 */
export async function publishQueuePositions(deps: { db: DataSource; events: EventPublisher; clock: Clock; redis: Redis; prefix: string }): Promise<void> {
  const { db, events, clock } = deps;
  const stepMs = await readStepTimeMs(deps.redis, deps.prefix);
  const pending = await db.getRepository(Job).find({
    select: { id: true, sessionId: true, ownerId: true, steps: true, count: true, kind: true, videoFrames: true },
    where: { status: JobStatus.PENDING },
    order: { priority: 'ASC', createdAt: 'ASC' },
    take: PUSH_LIMIT,
  });
  let ahead = 0;
  const at = clock.now().toISOString();
  for (const [position, job] of pending.entries()) {
    const own = remainingDenoisingSteps(job);
    const etaMs = stepMs === null ? undefined : Math.round((ahead + own) * stepMs);
    ahead += own;
    await events.publish({ type: 'POSITION', at, jobId: job.id, sessionId: job.sessionId, actorId: job.ownerId, queuePosition: position, etaMs, step: 0, totalSteps: workSteps(job) });
  }
}
