import type { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { Job, JobStatus, remainingDenoisingSteps, workSteps } from '../entities';
import type { EventPublisher } from '../kernel/events';
import type { Clock } from '../kernel/clock';
import type { Alongside } from '../database/entity-insert';

/**
 * Where workers keep each model's moving average of milliseconds per
 * denoising step of a one-megapixel image, for ETAs: a step costs about in
 * proportion to its pixels, so a 1024² job after 256² ones is not told it
 * takes as long as they did (docs/architecture.md, "The request path").
 */
const stepCostKey = (prefix: string, modelId: string): string => `${prefix}:stats:step-ms-per-mp:${modelId}`;

/** What a job's ETA is counted from: its size, model and denoising work. */
export type EtaJob = Pick<Job, 'modelId' | 'width' | 'height' | 'kind' | 'steps' | 'count' | 'videoFrames'>;

/** Megapixels a job's denoising step covers for one image (a clip's frame); at least a 64² image's. */
function megapixels(job: Pick<Job, 'width' | 'height'>): number {
  return Math.max(job.width * job.height, 64 * 64) / 1e6;
}

/** Milliseconds of denoising a job has left once `done` units (steps, or a clip's frames) are finished, at `msPerMp`. */
export function remainingWorkMs(job: EtaJob, msPerMp: number, done = 0): number {
  return remainingDenoisingSteps(job, done) * megapixels(job) * msPerMp;
}

/** Each model's milliseconds per one-megapixel denoising step, for the models that ran a job (others are missing). */
export async function readStepCosts(redis: Redis, prefix: string, modelIds: readonly string[]): Promise<Map<string, number>> {
  const ids = [...new Set(modelIds)];
  if (ids.length === 0) return new Map();
  const values = await redis.mget(ids.map((id) => stepCostKey(prefix, id)));
  return new Map(ids.flatMap((id, i) => (values[i] ? [[id, Number(values[i])] as [string, number]] : [])));
}

/** Folds one finished render (`renderMs` for all of `job`'s denoising) into its model's weighted average. */
export async function recordStepCost(redis: Redis, prefix: string, job: EtaJob, renderMs: number): Promise<void> {
  const work = remainingDenoisingSteps(job) * megapixels(job);
  if (!(work > 0) || !(renderMs > 0)) return;
  const ms = renderMs / work;
  const previous = (await readStepCosts(redis, prefix, [job.modelId])).get(job.modelId) ?? ms;
  await redis.set(stepCostKey(prefix, job.modelId), (previous * 0.8 + ms * 0.2).toPrecision(6));
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
  const pending = await db.getRepository(Job).find({
    select: { id: true, sessionId: true, ownerId: true, modelId: true, width: true, height: true, steps: true, count: true, kind: true, videoFrames: true },
    where: { status: JobStatus.PENDING },
    order: { priority: 'ASC', createdAt: 'ASC' },
    take: PUSH_LIMIT,
  });
  const costs = await readStepCosts(deps.redis, deps.prefix, pending.map((job) => job.modelId));
  // The work of every job ahead, each at its own model's cost; unknown once a job ahead has a model that never ran.
  let ahead: number | undefined = 0;
  const at = clock.now().toISOString();
  for (const [position, job] of pending.entries()) {
    const cost = costs.get(job.modelId);
    const own = cost === undefined ? undefined : remainingWorkMs(job, cost);
    const etaMs = ahead === undefined || own === undefined ? undefined : Math.round(ahead + own);
    ahead = ahead === undefined || own === undefined ? undefined : ahead + own;
    await events.publish({ type: 'POSITION', at, jobId: job.id, sessionId: job.sessionId, actorId: job.ownerId, queuePosition: position, etaMs, step: 0, totalSteps: workSteps(job) });
  }
}
