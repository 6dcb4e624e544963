import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { Logger } from '../observability/logger';
import { closeQueue } from '../redis/queue-close';
import { closeWorker } from '../redis/worker-close';
import { logRedisErrors } from '../redis/error-log';

export const HOUSEKEEPING_QUEUE = 'housekeeping';
const SCHEDULER_ID = 'housekeeping';

/** Periodic chores; each returns how many things it handled. */
export type HousekeepingTasks = Record<string, () => Promise<number>>;

export interface HousekeepingOptions {
  connection: ConnectionOptions;
  prefix: string;
  tasks: HousekeepingTasks;
  logger: Logger;
  /** Time between runs (an hour; tests use less). */
  everyMs?: number;
}

/**
 * Housekeeping on a BullMQ job scheduler rather than a timer in each replica:
 * every API replica upserts the same scheduler, so the cluster has one
 * schedule, each period is one job (its id is the slot time) and one replica
 * takes it. Upserting again keeps the pending slot, so restarts and new
 * replicas neither postpone nor duplicate a run; the first run is at once.
 */
export class Housekeeping {
  private readonly queue: Queue;
  private readonly worker: Worker;
  private running = 0;

  constructor(private readonly o: HousekeepingOptions) {
    const shared = { connection: o.connection, prefix: `${o.prefix}:bull` };
    this.queue = new Queue(HOUSEKEEPING_QUEUE, shared);
    this.worker = new Worker(HOUSEKEEPING_QUEUE, () => this.run(), { ...shared, concurrency: 1, autorun: false });
    logRedisErrors(this.worker, o.logger, 'housekeeping worker error');
    logRedisErrors(this.queue, o.logger, 'housekeeping queue error');
  }

  async start(): Promise<void> {
    await this.queue.upsertJobScheduler(SCHEDULER_ID, { every: this.o.everyMs ?? 3600_000 }, {
      name: 'run',
      opts: { removeOnComplete: { count: 50 }, removeOnFail: { count: 50 } },
    });
    this.worker.run().catch((err) => this.o.logger.error({ err }, 'housekeeping worker stopped'));
  }

  /** Runs every task; one failing does not stop the others. */
  private async run(): Promise<Record<string, number>> {
    const done: Record<string, number> = {};
    this.running += 1;
    try {
      for (const [name, task] of Object.entries(this.o.tasks)) {
        try {
          done[name] = await task();
        } catch (err) {
          this.o.logger.warn({ err, task: name }, 'housekeeping task failed');
        }
      }
    } finally {
      this.running -= 1;
    }
    this.o.logger.info(done, 'housekeeping done');
    return done;
  }

  /**
   * Stops taking runs here; the schedule stays for the other replicas. A run
   * still going after `graceMs` is left to BullMQ's stalled check (every task
   * is safe to run again).
   */
  async close(graceMs = 30_000): Promise<void> {
    await closeWorker(this.worker, { graceMs, running: () => this.running, logger: this.o.logger });
    await closeQueue(this.queue, this.o.logger);
  }
}
