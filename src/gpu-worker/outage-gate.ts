import { DelayedError, type Job as BullJob, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import type { Logger } from '../observability/logger';
import type { ArtifactStore } from '../storage/artifact-store';
import { isServiceOutage } from '../kernel/errors';

export interface OutageGateOptions {
  /** Resolves when PostgreSQL, Redis and the artifact store all answer; rejects otherwise. */
  probe: () => Promise<void>;
  /** Stop taking new jobs (jobs already running carry on). */
  pause: () => Promise<void>;
  resume: () => Promise<void>;
  logger: Logger;
  /** How long one piece of bookkeeping is retried before the job is put back in the queue. */
  maxRetryMs: number;
  /** First wait between retries and probes; doubles up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** How long an entry put back during an outage waits before it is offered again. */
const OUTAGE_REQUEUE_DELAY_MS = 5000;

/** The key the probe asks the artifact store about (it need not exist). */
const STORE_PROBE_KEY = 'health/worker-probe';

/** The workers' probe: resolves once PostgreSQL, Redis and the artifact store all answer. */
async function dependenciesAnswer(o: {
  db: Pick<DataSource, 'query'>; redis: Pick<Redis, 'ping'>; store: Pick<ArtifactStore, 'exists'>;
}): Promise<void> {
  await o.db.query('SELECT 1');
  await o.redis.ping();
  await o.store.exists(STORE_PROBE_KEY);
}

/**
 * Keeps an outage of the database, Redis or the artifact store (S3) from
 * costing jobs. While one is unreachable the worker takes no new job (a job
 * taken now could only fail and spend one of its BullMQ attempts); a probe
 * with backoff resumes it once all three answer. Bookkeeping of the jobs
 * already running (`durable`: storing the images, recording them) is retried
 * with the same backoff, so a job that finished its images during the outage
 * is recorded when the server is back, not retried from scratch.
 */
export class OutageGate {
  private probing: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly o: OutageGateOptions) {}

  /**
   * A BullMQ worker's gate: it probes PostgreSQL, Redis and the artifact store
   * (a worker that cannot store what it makes takes no work it could only
   * hold), and pauses and resumes `worker()`; bookkeeping is retried for
   * `outageRetryMs` (60 s).
   */
  static forWorker(
    o: Parameters<typeof dependenciesAnswer>[0] & { logger: Logger; outageRetryMs?: number },
    worker: () => Pick<Worker, 'pause' | 'resume'>,
  ): OutageGate {
    return new OutageGate({
      probe: () => dependenciesAnswer(o),
      pause: () => worker().pause(true),
      resume: async () => worker().resume(),
      logger: o.logger,
      maxRetryMs: o.outageRetryMs ?? 60_000,
    });
  }

  /** True while an outage is being waited out. */
  get down(): boolean {
    return this.probing !== null;
  }

  /**
   * Runs `step`; while it fails because a server is unreachable (`isServiceOutage`),
   * retries it with backoff for up to `maxRetryMs`, then gives the outage
   * error to the caller. Any other error is thrown at once.
   */
  readonly durable = async <T>(step: () => Promise<T>): Promise<T> => {
    const deadline = Date.now() + this.o.maxRetryMs;
    let wait = this.o.backoffMs ?? 250;
    for (;;) {
      try {
        return await step();
      } catch (error) {
        if (!isServiceOutage(error) || Date.now() + wait > deadline) throw error;
        this.report(error);
        await sleep(wait);
        wait = Math.min(wait * 2, this.o.maxBackoffMs ?? 4000);
      }
    }
  };

  /**
   * Drives one queue entry. An outage that outlasts the bookkeeping retries
   * puts the entry back in the queue as delayed, which BullMQ does not count
   * as an attempt; its row stays open and the next worker to take it carries
   * on from there (`what` names the entry in the log: a job, a run).
   */
  async putBackThrough(
    entry: Pick<BullJob, 'moveToDelayed'>, token: string | undefined, log: Logger, what: string, drive: () => Promise<void>,
  ): Promise<void> {
    try {
      await drive();
    } catch (error) {
      if (!isServiceOutage(error)) throw error;
      this.report(error);
      log.warn({ err: error }, `database, Redis or the artifact store still unreachable: ${what} put back in the queue`);
      await entry.moveToDelayed(Date.now() + OUTAGE_REQUEUE_DELAY_MS, token);
      throw new DelayedError();
    }
  }

  /** Called with any bookkeeping error: an outage pauses the worker until the probe succeeds. */
  report(error: unknown): void {
    if (!isServiceOutage(error) || this.probing || this.stopped) return;
    this.o.logger.warn({ err: error }, 'database, Redis or the artifact store unreachable: taking no new jobs until all three answer');
    this.probing = this.waitOut().finally(() => {
      this.probing = null;
    });
  }

  private async waitOut(): Promise<void> {
    await this.o.pause().catch((err) => this.o.logger.warn({ err }, 'could not pause the worker'));
    let wait = this.o.backoffMs ?? 250;
    while (!this.stopped) {
      await sleep(wait);
      try {
        await this.o.probe();
        break;
      } catch {
        wait = Math.min(wait * 2, this.o.maxBackoffMs ?? 4000);
      }
    }
    if (this.stopped) return;
    this.o.logger.info('database, Redis and the artifact store answer again: taking jobs');
    await this.o.resume();
  }

  /** Stops probing and never resumes the worker again (it is closing). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.probing;
  }
}
