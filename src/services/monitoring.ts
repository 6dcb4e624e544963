import type { Redis } from 'ioredis';
import { DataSource, MoreThanOrEqual } from 'typeorm';
import { Job, JobStatus, Preset, Tier } from '../entities';
import type { GenerationQueue } from '../kernel/queues';
import type { QueueState } from '../observability/metrics';
import type { RecentErrors } from '../observability/recent-errors';
import { onlineWorkers, type WorkerHeartbeat } from '../observability/worker-registry';
import { badInput } from '../kernel/errors';
import type { Clock } from '../kernel/clock';

/** Completed-job timing over a window, in seconds. Null where no job completed. */
export interface GenerationTimeStats {
  completedJobs: number;
  averageSeconds: number | null;
  p50Seconds: number | null;
  p95Seconds: number | null;
  /** Mean time from submission to a worker starting the job. */
  averageQueueWaitSeconds: number | null;
}

/** One entry of the recent-errors list: a failed job or an unexpected API error. */
export interface RecentErrorEntry {
  at: Date;
  source: 'JOB' | 'API';
  code: string;
  message: string;
  jobId: string | null;
  userId: string | null;
  requestId: string | null;
  operation: string | null;
}

/** Everything an admin's monitoring page shows. */
export interface SystemStatsData {
  startedAt: Date;
  uptimeSeconds: number;
  windowHours: number;
  jobsByStatus: { status: JobStatus; count: number }[];
  generationTime: GenerationTimeStats;
  queue: Record<QueueState, number>;
  workers: WorkerHeartbeat[];
  usage: {
    imagesGenerated: number; imagesByTier: { tier: Tier; images: number }[]; popularPresets: Preset[];
    imagesRecorded: number; imagesOfDeletedAccounts: number;
  };
  recentErrors: RecentErrorEntry[];
}

export interface MonitoringDeps {
  db: DataSource;
  redis: Redis;
  prefix: string;
  queue: GenerationQueue;
  recentErrors: RecentErrors;
  clock: Clock;
}

const PROCESS_STARTED_AT = new Date(Date.now() - process.uptime() * 1000);
const num = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

/**
 * Read-only statistics for admins. Counts come from PostgreSQL (the source of
 * truth), queue depth from BullMQ, workers from their Redis heartbeats.
 * Uptime is this API replica's.
 */
export class MonitoringService {
  constructor(private readonly deps: MonitoringDeps) {}

  async systemStats(windowHours = 24, errorLimit = 20): Promise<SystemStatsData> {
    if (!Number.isInteger(windowHours) || windowHours < 1 || windowHours > 24 * 90) throw badInput('windowHours', 'windowHours must be 1..2160');
    if (!Number.isInteger(errorLimit) || errorLimit < 1 || errorLimit > 100) throw badInput('errorLimit', 'errorLimit must be 1..100');
    const now = this.deps.clock.now();
    const since = new Date(now.getTime() - windowHours * 3600_000);
    const [jobsByStatus, generationTime, queue, workers, usage, recentErrors] = await Promise.all([
      this.jobsByStatus(), this.generationTime(since), this.queueDepth(),
      onlineWorkers(this.deps.redis, this.deps.prefix, now.getTime()), this.usage(since), this.recentErrors(errorLimit),
    ]);
    return {
      startedAt: PROCESS_STARTED_AT, uptimeSeconds: Math.round(process.uptime()), windowHours,
      jobsByStatus, generationTime, queue, workers, usage, recentErrors,
    };
  }

  /** Every status, zero included, so a dashboard's rows do not come and go. */
  async jobsByStatus(): Promise<{ status: JobStatus; count: number }[]> {
    const rows: { status: JobStatus; count: string }[] = await this.deps.db.query('SELECT status, count(*) AS count FROM jobs GROUP BY status');
    return Object.values(JobStatus).map((status) => ({ status, count: Number(rows.find((r) => r.status === status)?.count ?? 0) }));
  }

  async generationTime(since: Date): Promise<GenerationTimeStats> {
    const [row] = await this.deps.db.query(
      `SELECT count(*) AS jobs,
              avg(extract(epoch FROM completed_at - started_at)) AS avg,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - started_at)) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - started_at)) AS p95,
              avg(extract(epoch FROM started_at - created_at)) AS wait
         FROM jobs
        WHERE status = $1 AND started_at IS NOT NULL AND completed_at >= $2`,
      [JobStatus.COMPLETED, since],
    );
    return {
      completedJobs: Number(row.jobs), averageSeconds: num(row.avg), p50Seconds: num(row.p50), p95Seconds: num(row.p95),
      averageQueueWaitSeconds: num(row.wait),
    };
  }

  /** BullMQ's job counts; jobs with a priority sit in `prioritized`, which is waiting too. */
  async queueDepth(): Promise<Record<QueueState, number>> {
    const c = await this.deps.queue.getJobCounts('waiting', 'prioritized', 'waiting-children', 'active', 'delayed', 'failed');
    return { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c['waiting-children'] ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0 };
  }

  async usage(since: Date): Promise<SystemStatsData['usage']> {
    const rows: { tier: Tier; images: string }[] = await this.deps.db.query(
      'SELECT u.tier AS tier, count(*) AS images FROM images i JOIN users u ON u.id = i.owner_id WHERE i.created_at >= $1 GROUP BY u.tier',
      [since],
    );
    const imagesByTier = Object.values(Tier).map((tier) => ({ tier, images: Number(rows.find((r) => r.tier === tier)?.images ?? 0) }));
    const popularPresets = await this.deps.db.getRepository(Preset).find({
      where: { usageCount: MoreThanOrEqual(1) }, order: { usageCount: 'DESC', name: 'ASC' }, take: 10,
    });
    // The usage history outlives deleted images and accounts (docs/operations.md, "Data lifecycle"); counted by UTC day.
    const [recorded]: { total: string; anonymised: string }[] = await this.deps.db.query(
      `SELECT COALESCE(sum(images), 0) AS total, COALESCE(sum(images) FILTER (WHERE user_id IS NULL), 0) AS anonymised
         FROM usage_records WHERE day >= ($1::timestamptz AT TIME ZONE 'UTC')::date`,
      [since],
    );
    return {
      imagesGenerated: imagesByTier.reduce((sum, t) => sum + t.images, 0), imagesByTier, popularPresets,
      imagesRecorded: Number(recorded.total), imagesOfDeletedAccounts: Number(recorded.anonymised),
    };
  }

  /** Failed jobs and unexpected API errors, newest first. */
  async recentErrors(limit: number): Promise<RecentErrorEntry[]> {
    const failed = await this.deps.db.getRepository(Job).find({
      where: { status: JobStatus.FAILED }, order: { completedAt: 'DESC' }, take: limit,
    });
    const fromJobs: RecentErrorEntry[] = failed.map((job) => ({
      at: job.completedAt ?? job.createdAt, source: 'JOB', code: job.errorCode ?? 'UNKNOWN', message: job.errorMessage ?? '',
      jobId: job.id, userId: job.ownerId, requestId: job.requestId, operation: null,
    }));
    const fromApi: RecentErrorEntry[] = (await this.deps.recentErrors.list(limit)).map((e) => ({
      at: new Date(e.at), source: 'API', code: e.code, message: e.message, jobId: null, userId: null, requestId: e.requestId, operation: e.operation,
    }));
    return [...fromJobs, ...fromApi].sort((a, b) => b.at.getTime() - a.at.getTime()).slice(0, limit);
  }
}
