import type { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { Job, JobStatus, remainingDenoisingSteps, workSteps } from '../entities';
import type { EventPublisher } from '../kernel/events';
import type { Clock } from '../kernel/clock';
import { RedisScript } from '../redis/script';

/**
 * Where workers keep, for each model, weighted sums of its recent renders'
 * milliseconds per denoising step against the step's megapixels, for ETAs.
 * A step costs a fixed part plus a part in proportion to its pixels, so a
 * 1024² job after 256² ones is told neither their time nor sixteen times it
 * (docs/architecture.md, "The request path").
 */
const stepCostKey = (prefix: string, modelId: string): string => `${prefix}:stats:step-cost:${modelId}`;

/** Each earlier render's weight falls by this at every new one: the recent ones count most. */
const DECAY = 0.8;

/** What a job's ETA is counted from: its size, model and denoising work. */
export type EtaJob = Pick<Job, 'modelId' | 'width' | 'height' | 'kind' | 'steps' | 'count' | 'videoFrames'>;

/** A model's cost of one denoising step of one image: a fixed part and a part per megapixel. */
export interface StepCost {
  fixedMs: number;
  msPerMp: number;
}

/** Megapixels a job's denoising step covers for one image (a clip's frame); at least a 64² image's. */
function megapixels(job: Pick<Job, 'width' | 'height'>): number {
  return Math.max(job.width * job.height, 64 * 64) / 1e6;
}

/** Milliseconds of denoising a job has left once `done` units (steps, or a clip's frames) are finished. */
export function remainingWorkMs(job: EtaJob, cost: StepCost, done = 0): number {
  return remainingDenoisingSteps(job, done) * (cost.fixedMs + cost.msPerMp * megapixels(job));
}

/** The weighted sums kept for a model: weight, Σx, Σy, Σx², Σxy (x: megapixels, y: ms per image-step). */
type Sums = { w: number; x: number; y: number; xx: number; xy: number };

/**
 * The line through a model's renders (least squares, weighted). While they
 * were all about one size it cannot be told apart from a line through zero,
 * which is taken: a step's cost in proportion to its pixels.
 */
function fit(s: Sums): StepCost {
  const meanX = s.x / s.w;
  const spread = s.xx / s.w - meanX * meanX;
  if (spread > (0.05 * meanX) ** 2) {
    const msPerMp = (s.w * s.xy - s.x * s.y) / (s.w * s.xx - s.x * s.x);
    const fixedMs = (s.y - msPerMp * s.x) / s.w;
    if (msPerMp >= 0 && fixedMs >= 0) return { fixedMs, msPerMp };
    if (msPerMp < 0) return { fixedMs: s.y / s.w, msPerMp: 0 };
    return { fixedMs: 0, msPerMp: s.xy / s.xx };
  }
  return { fixedMs: 0, msPerMp: s.y / s.x };
}

async function readSums(redis: Redis, prefix: string, modelId: string): Promise<Sums | null> {
  const raw = await redis.hgetall(stepCostKey(prefix, modelId));
  const sums = { w: Number(raw.w), x: Number(raw.x), y: Number(raw.y), xx: Number(raw.xx), xy: Number(raw.xy) };
  return sums.w > 0 && sums.x > 0 ? sums : null;
}

/** Each model's step cost, for the models that ran a job (others are missing). */
export async function readStepCosts(redis: Redis, prefix: string, modelIds: readonly string[]): Promise<Map<string, StepCost>> {
  const ids = [...new Set(modelIds)];
  const sums = await Promise.all(ids.map((id) => readSums(redis, prefix, id)));
  return new Map(ids.flatMap((id, i) => (sums[i] ? [[id, fit(sums[i]!)] as [string, StepCost]] : [])));
}

/**
 * Decays a model's sums and adds one render's point (x megapixels, y ms per
 * step), in one step on the server: two workers finishing renders of one
 * model at once both count. Sums that `readSums` would not take start over.
 */
const FOLD_SCRIPT = new RedisScript<number>('atelierStepCostFold', 1, `
local s = redis.call('HMGET', KEYS[1], 'w', 'x', 'y', 'xx', 'xy')
local w, sx, sy, sxx, sxy = tonumber(s[1]), tonumber(s[2]), tonumber(s[3]), tonumber(s[4]), tonumber(s[5])
if not (w and sx and sy and sxx and sxy and w > 0 and sx > 0) then w, sx, sy, sxx, sxy = 0, 0, 0, 0, 0 end
local d, x, y = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local f = function(v) return string.format('%.8g', v) end
redis.call('HSET', KEYS[1], 'w', f(w * d + 1), 'x', f(sx * d + x), 'y', f(sy * d + y), 'xx', f(sxx * d + x * x), 'xy', f(sxy * d + x * y))
return 1
`);

/** Folds one finished render (`renderMs` for all of `job`'s denoising) into its model's sums. */
export async function recordStepCost(redis: Redis, prefix: string, job: EtaJob, renderMs: number): Promise<void> {
  const steps = remainingDenoisingSteps(job);
  if (!(steps > 0) || !(renderMs > 0)) return;
  await FOLD_SCRIPT.run(redis, [stepCostKey(prefix, job.modelId)], [DECAY, megapixels(job), renderMs / steps]);
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
 * One PENDING job's place, counted over the other waiting jobs (the count
 * leaves the job's own row out). The status is written out, not a
 * parameter, so that every plan reads the partial index of the line
 * (`idx_jobs_pending_order`) without reading rows: the count walks only the
 * index entries ahead of the job, and whether any job waits behind it is one
 * index probe, not a count of them. `$1` is the job's priority, `$2` its age.
 */
export function placeCount(job: Pick<Job, 'priority' | 'createdAt'>): { sql: string; params: unknown[] } {
  const line = `FROM jobs WHERE status = '${JobStatus.PENDING}'`;
  return {
    sql: `(SELECT COUNT(*) ${line} AND (priority, created_at) < ($1::int, $2::timestamptz)) AS ahead,
      EXISTS (SELECT 1 ${line} AND priority > $1::int) AS behind`,
    params: [job.priority, job.createdAt],
  };
}

/**
 * The places of several PENDING jobs in one statement (a page of jobs, a
 * batch's jobs): one walk of the line's index up to the last of them, ranking
 * each entry by priority and age, instead of one count per job. A job's rank
 * is the number of waiting jobs strictly ahead of it, what placeCount
 * counts (and counts for a single job, which is cheaper than ranking). A job
 * missing from the answer is no longer waiting.
 */
export async function placesOf(db: DataSource, jobs: readonly Pick<Job, 'id' | 'priority' | 'createdAt'>[]): Promise<Map<string, QueuePlace>> {
  if (jobs.length === 0) return new Map();
  if (jobs.length === 1) {
    // One job: a count is cheaper than ranking every entry ahead of it.
    const { sql, params } = placeCount(jobs[0]);
    const [row] = (await db.query(
      `SELECT ${sql}, EXISTS (SELECT 1 FROM jobs WHERE id = $3::uuid AND status = '${JobStatus.PENDING}') AS waiting`,
      [...params, jobs[0].id],
    )) as { ahead: string | number; behind: boolean; waiting: boolean }[];
    return row?.waiting === true ? new Map([[jobs[0].id, { position: Number(row.ahead), wentAhead: row.behind === true }]]) : new Map();
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

/** What `publishQueuePositions` reads and needs. */
type LineDeps = { db: DataSource; events: EventPublisher; clock: Clock; redis: Redis; prefix: string };

/** The front of the line as read at one moment: each pending job with its place and ETA. */
export type QueueLine = Array<{ job: Pick<Job, 'id' | 'sessionId' | 'ownerId'> & Parameters<typeof workSteps>[0]; position: number; etaMs: number | undefined }>;

/**
 * Publishes a POSITION event (with an ETA when step times are known) to every
 * pending job near the front of the queue. Called when the line moves: a job
 * starts, or a pending one is cancelled.
 */
export async function publishQueuePositions(deps: LineDeps): Promise<void> {
  await publishQueueLine(deps, await readQueueLine(deps));
}

/** The pending jobs near the front of the queue, in order, each with the ETA of the work up to and including it. */
export async function readQueueLine(deps: LineDeps): Promise<QueueLine> {
  const pending = await deps.db.getRepository(Job).find({
    select: { id: true, sessionId: true, ownerId: true, modelId: true, width: true, height: true, steps: true, count: true, kind: true, videoFrames: true },
    where: { status: JobStatus.PENDING },
    order: { priority: 'ASC', createdAt: 'ASC' },
    take: PUSH_LIMIT,
  });
  const costs = await readStepCosts(deps.redis, deps.prefix, pending.map((job) => job.modelId));
  // The work of the line up to and including each job, every job at its own model's cost: that job's ETA.
  // Unknown from the first job whose model never ran.
  let through: number | undefined = 0;
  return pending.map((job, position) => {
    const cost = costs.get(job.modelId);
    through = through === undefined || cost === undefined ? undefined : through + remainingWorkMs(job, cost);
    return { job, position, etaMs: through === undefined ? undefined : Math.round(through) };
  });
}

/** A POSITION event to each job of a line read by `readQueueLine`, front first. */
export async function publishQueueLine(deps: LineDeps, line: QueueLine): Promise<void> {
  const at = deps.clock.now().toISOString();
  for (const { job, position, etaMs } of line) {
    await deps.events.publish({ type: 'POSITION', at, jobId: job.id, sessionId: job.sessionId, actorId: job.ownerId, queuePosition: position, etaMs, step: 0, totalSteps: workSteps(job) });
  }
}
