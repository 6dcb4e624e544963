import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { JobStatus, OPEN_JOB_STATUSES, type Job } from '../entities';
import type { Clock } from '../kernel/clock';
import type { GenerationQueue } from '../kernel/queues';
import type { Logger } from '../observability/logger';
import type { JobLifecycle } from './job-lifecycle';
import type { QuotaService } from './quotas';

/** How long a shutdown waits for a reconciliation pass in progress. */
const STOP_WAIT_MS = 3000;

export interface JobReconcilerDeps {
  redis: Redis;
  prefix: string;
  queue: GenerationQueue;
  lifecycle: JobLifecycle;
  quotas: QuotaService;
  logger: Logger;
  /** A row must have been unchanged this long before it is judged (covers the commit → enqueue gap). */
  graceSeconds: number;
  clock: Clock;
}

/** What one pass repaired. */
export interface ReconcileReport {
  /** PENDING jobs failed because their start deadline passed while they waited. */
  expired: number;
  requeued: number;
  failed: number;
  slotsFreed: number;
  slotsRestored: number;
}

/** Queue states in which an entry will still reach a worker (or is with one). */
const LIVE_STATES = new Set(['active', 'waiting', 'wait', 'delayed', 'prioritized', 'waiting-children', 'paused']);
/** A job whose entry was lost this many times is failed rather than enqueued again. */
const MAX_RECOVERIES = 3;
/** Rows judged per pass at most (a long backlog of waiting jobs is checked in pages). */
const PAGE = 500;
const MAX_PAGES = 20;

/**
 * Repairs disagreements between job rows and queue entries, which an outage
 * or a crash at the wrong moment can leave behind: a PENDING or PROCESSING row
 * whose entry failed (its attempts were spent), finished, or is missing. Such
 * a job is enqueued again, or, after MAX_RECOVERIES, failed with WORKER_ERROR
 * (quota released, FAILED published so `jobUpdated` subscribers hear the end).
 * Then quota slots are recomputed from the rows. Before that, a PENDING job
 * past its start deadline is failed (DEADLINE_EXCEEDED) rather than left to
 * hold its slot until a worker reaches it. Every replica calls `tick`;
 * a Redis lock lets one pass run per interval across the cluster.
 */
export class JobReconciler {
  constructor(private readonly deps: JobReconcilerDeps) {}

  /** Runs a pass unless another replica ran one within `intervalMs`; null when skipped. */
  async tick(intervalMs: number): Promise<ReconcileReport | null> {
    const claimed = await this.deps.redis.set(`${this.deps.prefix}:reconcile:lock`, randomUUID(), 'PX', Math.max(100, intervalMs - 200), 'NX');
    return claimed ? this.runOnce() : null;
  }

  async runOnce(): Promise<ReconcileReport> {
    const report: ReconcileReport = { expired: 0, requeued: 0, failed: 0, slotsFreed: 0, slotsRestored: 0 };
    for (const job of await this.deps.lifecycle.transitions.pastDeadline(this.deps.clock.now(), PAGE)) {
      if (await this.deps.lifecycle.expire(job)) report.expired += 1;
    }
    if (report.expired) this.deps.logger.info({ expired: report.expired }, 'jobs past their start deadline failed while waiting');
    let page: Job[] = [];
    for (let pages = 0; pages < MAX_PAGES && (pages === 0 || page.length === PAGE); pages += 1) {
      page = await this.deps.lifecycle.transitions.stale(this.deps.graceSeconds, PAGE, page.at(-1) ?? null);
      for (const job of page) {
        const outcome = await this.repair(job);
        if (outcome) report[outcome] += 1;
      }
    }
    const slots = await this.deps.quotas.recomputeOpenSlots();
    report.slotsFreed = slots.freed;
    report.slotsRestored = slots.restored;
    if (report.requeued || report.failed || report.slotsFreed || report.slotsRestored) {
      this.deps.logger.warn(report, 'reconciler repaired jobs whose rows and queue entries disagreed');
    }
    return report;
  }

  private async repair(job: Job): Promise<'requeued' | 'failed' | null> {
    const { queue, lifecycle } = this.deps;
    const state = await queue.getJobState(job.id);
    if (LIVE_STATES.has(state)) return null;
    const entry = await queue.getJob(job.id);
    // A row changes before its entry finishes: if it is still open and unchanged now, the two truly disagree.
    const fresh = await lifecycle.transitions.find(job.id);
    if (!fresh || !(OPEN_JOB_STATUSES as readonly JobStatus[]).includes(fresh.status) || fresh.updatedAt.getTime() !== job.updatedAt.getTime()) {
      return null;
    }
    const recoveries = await this.countRecovery(job.id);
    const why = entry?.failedReason ? `its queue entry failed: ${entry.failedReason}` : `its queue entry was ${entry ? state : 'missing'}`;
    this.deps.logger.warn({ jobId: job.id, status: fresh.status, queueState: state, recoveries }, 'job row open but its queue entry will never run');
    if (recoveries > MAX_RECOVERIES) {
      await lifecycle.fail(fresh, { code: 'WORKER_ERROR', message: `The job was lost ${recoveries} times (${why}); it was given up` });
      return 'failed';
    }
    await entry?.remove();
    // Its stream hears it waits again before the entry is back, so the next STARTED comes after.
    if (fresh.status === JobStatus.PROCESSING) await lifecycle.requeue(fresh, 'WORKER_LOST');
    await lifecycle.enqueue(fresh);
    await lifecycle.announceIfSilent(fresh);
    return 'requeued';
  }

  private async countRecovery(jobId: string): Promise<number> {
    const key = `${this.deps.prefix}:reconcile:recoveries:${jobId}`;
    const [[, count]] = (await this.deps.redis.multi().incr(key).expire(key, 7 * 24 * 3600).exec()) as [[null, number]];
    return count;
  }

  /** Calls `tick` every `intervalMs` until stopped; a failed pass (an outage) is logged and tried again next time. */
  start(intervalMs: number): { stop(): Promise<void> } {
    let running: Promise<unknown> | null = null;
    const timer = setInterval(() => {
      running ??= this.tick(intervalMs)
        .catch((err) => this.deps.logger.warn({ err }, 'job reconciliation failed: retrying next interval'))
        .finally(() => { running = null; });
    }, intervalMs);
    timer.unref();
    return {
      // A pass in progress gets a few seconds to finish; during a Redis outage its commands wait on Redis, and a
      // shutdown must not wait with them (the connections close next, which fails them; the next start repairs
      // whatever this pass had not: every repair is idempotent).
      stop: async () => {
        clearInterval(timer);
        let waited: NodeJS.Timeout | undefined;
        await Promise.race([running, new Promise<void>((resolve) => { waited = setTimeout(resolve, STOP_WAIT_MS); })]);
        clearTimeout(waited);
      },
    };
  }
}
