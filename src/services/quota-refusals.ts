import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { Job, JobStatus, type TierPolicy } from '../entities';
import { AppError, quotaExceeded } from '../kernel/errors';
import { secondsUntilUtcMidnight } from '../kernel/clock';
import { readStepCosts, remainingWorkMs } from './queue-positions';
import type { QuotaMeter, ServiceLimits } from './quotas';

/*
 * The QUOTA_EXCEEDED answers of admission (docs/limits.md, "Refusals"). Each
 * names what it counts (an input `field`, or the `scope` of a count of jobs)
 * and carries in `retryAfterSeconds` when waiting lifts it, or null when
 * waiting cannot, or when nothing says when: the SDK, the CLI and the MCP
 * server wait that long and try again (sdk/src/retries.ts), so a figure that
 * is not when the limit lifts makes them try for nothing.
 */

/** What a refused request asked for: one job or a batch of `jobs`, and how much of which day's allowance. */
export interface QuotaAsk {
  batch: boolean;
  jobs: number;
  meter: QuotaMeter;
  amount: number;
}

/** What the refusals read to tell when one of a user's running jobs is expected to end. */
export interface EtaSources {
  db: DataSource;
  redis: Redis;
  prefix: string;
}

/**
 * The hourly batch limit, from the batch script's answer [0, 4, limit, admittedAt]: the batch admitted at
 * `admittedAt` leaves the rolling hour, and lets one more in, an hour after it came (-1: the tier allows none).
 */
export function batchesPerHourRefusal(policy: TierPolicy, admittedAt: number, now: Date): AppError {
  if (admittedAt < 0) {
    return quotaExceeded(`Your ${policy.tier} tier allows no batches; ask an admin for a higher tier`, policy.batchesPerHour, null, 'batch');
  }
  const seconds = Math.max(1, Math.ceil((admittedAt + 3600_000 - now.getTime()) / 1000));
  return quotaExceeded(
    `Your ${policy.tier} tier allows ${policy.batchesPerHour} batches per rolling hour; the next one fits in ${seconds} s`,
    policy.batchesPerHour, seconds, 'batch',
  );
}

/**
 * Today's images or video seconds: what the request needs and what is left of the day's allowance, with the
 * input that asks for it (`count`, `durationSeconds`, or the whole `batch`).
 */
export function dailyRefusal(policy: TierPolicy, used: number, ask: QuotaAsk, now: Date): AppError {
  const video = ask.meter === 'videoSeconds';
  const limit = (video ? policy.videoSecondsPerDay : policy.imagesPerDay) ?? 0;
  const remaining = Math.max(0, limit - used);
  const what = ask.batch ? 'batch' : video ? 'clip' : 'job';
  const needs = video ? `${ask.amount} seconds of video` : `${ask.amount} image${ask.amount === 1 ? '' : 's'}`;
  const left = `${remaining === 0 ? 'none' : remaining} of your ${limit}${video ? ' seconds' : ''} for today ${remaining > 1 ? 'are' : 'is'} left`;
  const field = ask.batch ? 'batch' : video ? 'durationSeconds' : 'count';
  return new AppError('QUOTA_EXCEEDED', `This ${what} needs ${needs}; ${left}; it resets at 00:00 UTC`, {
    limit, remaining, retryAfterSeconds: secondsUntilUtcMidnight(now), field,
  });
}

/** A refusal for jobs at once names its limit, its wait and the scope it counts; a batch's also `field: "batch"`. */
function jobsAtOnceExtensions(scope: 'USER' | 'SERVICE', limit: number, batch: boolean) {
  return (retryAfterSeconds: number | null) => ({ limit, retryAfterSeconds, scope, ...(batch ? { field: 'batch' } : {}) });
}

/**
 * The user's jobs at once (`scope: "USER"`; a batch's refusals also name `field: "batch"`). `open` is how many
 * the script counted. A slot is a count, freed when a job ends, so the wait is when enough of the user's running
 * jobs are expected to end (secondsUntilJobsEnd); a batch larger than the tier allows can never fit.
 */
export async function openJobsRefusal(sources: EtaSources, userId: string, policy: TierPolicy, open: number, { batch, jobs }: QuotaAsk): Promise<AppError> {
  const extensions = jobsAtOnceExtensions('USER', policy.maxOpenJobs, batch);
  if (jobs > policy.maxOpenJobs) {
    return new AppError('QUOTA_EXCEEDED',
      `This batch needs ${jobs} job slots but your ${policy.tier} tier allows ${policy.maxOpenJobs} jobs at once; `
        + 'split it into batches of that size, or ask an admin for a higher tier',
      extensions(null));
  }
  const retryAfterSeconds = await secondsUntilJobsEnd(sources, open + jobs - policy.maxOpenJobs, userId);
  const message = batch
    ? `This batch needs ${jobs} job slot${jobs === 1 ? '' : 's'}; you have ${open} of the ${policy.maxOpenJobs} your ${policy.tier} tier allows in use`
    : `You have ${open} jobs queued or running, the most your ${policy.tier} tier allows; wait for one to finish`;
  return new AppError('QUOTA_EXCEEDED', message, extensions(retryAfterSeconds));
}

/** The wait a SERVICE refusal names when nothing says when a slot frees: its fixed figure before estimates. */
const SERVICE_FALLBACK_SECONDS = 60;

/**
 * The service's jobs at once (`scope: "SERVICE"`, `ATELIER_MAX_QUEUED_JOBS`; a batch's refusals also name
 * `field: "batch"`). `open` is how many the script counted across all users. Any job's end frees a slot, so the
 * wait is when enough of the service's running jobs are expected to end (secondsUntilJobsEnd over every user), at
 * most `ATELIER_JOB_TIMEOUT_SECONDS`: a running job has ended by then, failed as TIMEOUT if not done. 60 s when
 * nothing runs with a known step cost; a batch larger than the cap can never fit.
 */
export async function serviceJobsRefusal(sources: EtaSources, cap: Pick<ServiceLimits, 'maxQueuedJobs' | 'jobTimeoutSeconds'>, open: number, { batch, jobs }: QuotaAsk): Promise<AppError> {
  const extensions = jobsAtOnceExtensions('SERVICE', cap.maxQueuedJobs, batch);
  if (jobs > cap.maxQueuedJobs) {
    return new AppError('QUOTA_EXCEEDED',
      `This batch needs ${jobs} job slots but the service takes at most ${cap.maxQueuedJobs} jobs at once; split it into smaller batches`,
      extensions(null));
  }
  const eta = await secondsUntilJobsEnd(sources, open + jobs - cap.maxQueuedJobs);
  const retryAfterSeconds = eta === null ? SERVICE_FALLBACK_SECONDS : Math.min(eta, cap.jobTimeoutSeconds);
  const when = eta === null ? 'a minute' : `${retryAfterSeconds} s`;
  return new AppError('QUOTA_EXCEEDED',
    `The service is at capacity: ${cap.maxQueuedJobs} jobs are queued or running across all users; try again in ${when}`,
    extensions(retryAfterSeconds));
}

/**
 * Seconds until `needed` of the running jobs (the user's, or with no `ownerId` the whole service's) are expected
 * to have ended: the steps each has left at its model's step cost, as `Job.etaSeconds` counts a running job. Null
 * when fewer than `needed` run with a known cost (the model has not finished a job yet). A job still in line has
 * no end time worth naming: the line's ETA counts the jobs running and the workers, but not jobs that arrive
 * ahead of it later (a higher tier's), and a wait named too early only makes clients try again for nothing. Read
 * only on a refusal: one query (the index on status) and each model's step cost.
 */
export async function secondsUntilJobsEnd({ db, redis, prefix }: EtaSources, needed: number, ownerId?: string): Promise<number | null> {
  const running = await db.getRepository(Job).find({
    select: { id: true, step: true, modelId: true, width: true, height: true, steps: true, count: true, kind: true, videoFrames: true },
    where: { status: JobStatus.PROCESSING, ...(ownerId === undefined ? {} : { ownerId }) },
  });
  const costs = await readStepCosts(redis, prefix, running.map((job) => job.modelId));
  const etas = running.flatMap((job) => {
    const cost = costs.get(job.modelId);
    return cost ? [remainingWorkMs(job, cost, job.step)] : [];
  }).sort((a, b) => a - b);
  const nth = Math.max(1, needed);
  // Whole milliseconds first, as etaSeconds rounds them: the two agree to the second.
  return etas.length < nth ? null : Math.max(1, Math.ceil(Math.round(etas[nth - 1]) / 1000));
}
