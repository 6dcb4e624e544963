import type { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { Job, JobStatus, remainingDenoisingSteps, workSteps } from '../entities';
import type { EventPublisher } from '../kernel/events';
import type { Clock } from '../kernel/clock';
import { RedisScript } from '../redis/script';
import { onlineWorkers, type RunningJob, type WorkerHeartbeat } from '../observability/worker-registry';

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

/**
 * The workers serving the queue as queue ETAs count them (docs/architecture.md,
 * "Queue ETAs"): each is free once the jobs it runs are done, and the next
 * waiting job goes to whichever is free first. A worker renders one job at a
 * time (an ONNX worker's render thread does; at concurrency 2 its second job
 * waits in that thread), so its running jobs take their whole work one after
 * another from when the first started.
 */
export class WorkerLine {
  /** When each worker is next free, in ms from now, soonest first. */
  private readonly free: number[];

  /** No worker online: the line is counted as one idle worker's, as it was before workers were counted. */
  constructor(freeInMs: readonly number[]) {
    this.free = freeInMs.length ? [...freeInMs].sort((a, b) => a - b) : [0];
  }

  /** A job of `ms` goes to the worker free first: when it ends, in ms from now. */
  take(ms: number): number {
    const end = this.free.shift()! + ms;
    this.insert(end);
    return end;
  }

  /** A worker free at `at` takes its place in order, after those free as soon. */
  private insert(at: number): void {
    const index = this.free.findIndex((t) => t > at);
    this.free.splice(index === -1 ? this.free.length : index, 0, at);
  }

  /**
   * `count` jobs of `ms` each go first (the jobs ahead of one, counted as if
   * like it), ending where one job at a time to the worker free first ends.
   * The workers free first are joined, in order, by each next one: those
   * joined take at once every job they would start before it is free (a
   * short job behind a long one is many jobs, not many steps), and are then
   * within one job of it. Within one job of each other, each round of one job
   * per worker moves them all by `ms`. A long line costs a step per worker.
   */
  takeAlike(count: number, ms: number): void {
    if (!(ms > 0) || !(count > 0)) return;
    const free = this.free;
    let left = count;
    // The first `joined` workers are within one job of each other; the others keep their order.
    let joined = 1;
    for (; joined < free.length; joined += 1) {
      const next = free[joined];
      let before = 0;
      for (let i = 0; i < joined; i += 1) before += Math.max(0, Math.ceil((next - free[i]) / ms));
      if (before > left) break;
      for (let i = 0; i < joined; i += 1) free[i] += Math.max(0, Math.ceil((next - free[i]) / ms)) * ms;
      left -= before;
    }
    const rounds = Math.floor(left / joined);
    for (let i = 0; i < joined; i += 1) free[i] += rounds * ms;
    free.sort((a, b) => a - b);
    for (let i = 0; i < left % joined; i += 1) this.take(ms);
  }
}

/**
 * Ms from `now` until a worker has done the jobs it runs (in the order it
 * started them), each its whole work at its model's step cost from when it
 * started or the one before it ended: the time since counts as done, and a
 * worker whose jobs are late is free now. A job whose model has no known
 * cost counts as done.
 */
export function freeInMs(running: readonly RunningJob[], costs: ReadonlyMap<string, StepCost>, now: number): number {
  let busyUntil = -Infinity;
  for (const job of running) {
    const cost = costs.get(job.modelId);
    busyUntil = Math.max(busyUntil, job.startedAt) + (cost ? remainingWorkMs(job, cost) : 0);
  }
  return Math.max(0, busyUntil - now);
}

/**
 * The line of workers serving the queue (their heartbeats, `workers` when the
 * caller shares one read of them) and the step costs of `modelIds` and of the
 * models they run: one round trip to Redis, a second only when a running job
 * is of a model not asked for.
 */
export async function readWorkerLine(
  redis: Redis, prefix: string, modelIds: readonly string[], workers: Promise<WorkerHeartbeat[]> = onlineWorkers(redis, prefix),
): Promise<{ line: WorkerLine; costs: Map<string, StepCost> }> {
  const [online, costs] = await Promise.all([workers, readStepCosts(redis, prefix, modelIds)]);
  const others = online.flatMap((w) => w.runningJobs ?? []).map((job) => job.modelId).filter((id) => !modelIds.includes(id));
  if (others.length) for (const [id, cost] of await readStepCosts(redis, prefix, others)) costs.set(id, cost);
  const now = Date.now();
  return { line: new WorkerLine(online.map((w) => freeInMs(w.runningJobs ?? [], costs, now))), costs };
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
 * The waiting jobs ahead of a job, whatever its own status (one still
 * PROCESSING whose worker was lost is counted where its row would wait):
 * the count `placeCount` makes, one statement.
 */
export async function waitingAhead(db: DataSource, job: Pick<Job, 'priority' | 'createdAt'>): Promise<number> {
  const { sql, params } = placeCount(job);
  const [row] = (await db.query(`SELECT ${sql}`, params)) as { ahead: string | number }[];
  return Number(row.ahead);
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

/**
 * The pending jobs near the front of the queue, in order, each with its ETA:
 * when it ends if each job, from the front, goes to the worker free first.
 */
export async function readQueueLine(deps: LineDeps): Promise<QueueLine> {
  const pending = await deps.db.getRepository(Job).find({
    select: { id: true, sessionId: true, ownerId: true, modelId: true, width: true, height: true, steps: true, count: true, kind: true, videoFrames: true },
    where: { status: JobStatus.PENDING },
    order: { priority: 'ASC', createdAt: 'ASC' },
    take: PUSH_LIMIT,
  });
  const { line, costs } = await readWorkerLine(deps.redis, deps.prefix, pending.map((job) => job.modelId));
  // Every job at its own model's cost; unknown from the first job whose model never ran.
  let known = true;
  return pending.map((job, position) => {
    const cost = costs.get(job.modelId);
    known &&= cost !== undefined;
    return { job, position, etaMs: known ? Math.round(line.take(remainingWorkMs(job, cost!))) : undefined };
  });
}

/** A POSITION event to each job of a line read by `readQueueLine`, front first. */
export async function publishQueueLine(deps: LineDeps, line: QueueLine): Promise<void> {
  const at = deps.clock.now().toISOString();
  for (const { job, position, etaMs } of line) {
    await deps.events.publish({ type: 'POSITION', at, jobId: job.id, sessionId: job.sessionId, actorId: job.ownerId, queuePosition: position, etaMs, step: 0, totalSteps: workSteps(job) });
  }
}
