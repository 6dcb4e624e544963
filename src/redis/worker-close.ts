import type { Worker } from 'bullmq';
import type { Logger } from '../observability/logger';

export interface WorkerCloseOptions {
  /** How long the running jobs may take to finish. */
  graceMs: number;
  /** How many jobs the worker is running now (its processor's own count). */
  running: () => number;
  /** Asks the running jobs to stop and hand themselves back to the queue; called when the grace is over. */
  handBack?: () => void;
  logger: Logger;
}

/** How long handed-back jobs may take to stop. */
const HAND_BACK_MS = 5000;
/** How long BullMQ's own commands may take once no job runs, before the close is taken to be waiting on Redis. */
const SETTLE_MS = 5000;
/** How long a close may take once its connections are dropped, with no job left running. */
const DROPPED_MS = 5000;
/** The same with a job still running: its bookkeeping waits on a server that does not answer, which dropping BullMQ's connections does not end. */
const DROPPED_RUNNING_MS = 1000;
const POLL_MS = 50;

/**
 * Closes a BullMQ worker without ever hanging on Redis or PostgreSQL.
 * `Worker.close()` waits for the running jobs and then for BullMQ's own
 * commands (moving the last job, the next fetch), and with Redis away those
 * wait in ioredis's offline queue until it is back; `close(true)` after it
 * returns the same pending close. So: the running jobs get `graceMs`, then
 * `handBack` and 5 s to stop; once none runs, a close still pending after a
 * few seconds is waiting on Redis only, and dropping the worker's
 * connections fails those commands and lets it finish. A job that did not
 * stop within those 5 s is waiting on a server that does not answer (its
 * hand-back could not be written), and the connections are dropped at once.
 * Either way a job left active is given back by BullMQ's stalled check, and
 * the close takes at most about 12 s past the grace (docs/operations.md,
 * "Stopping and restarting").
 */
export async function closeWorker(worker: Pick<Worker, 'close' | 'disconnect'>, o: WorkerCloseOptions): Promise<void> {
  let closed = false;
  const closing = worker.close().then(() => { closed = true; }, (err) => {
    closed = true;
    o.logger.warn({ err }, 'worker close failed');
  });
  const until = async (done: () => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (!closed && !done() && Date.now() < deadline) await Promise.race([closing, sleep(POLL_MS)]);
  };

  await until(() => o.running() === 0, o.graceMs);
  if (closed) return;
  if (o.running() > 0) {
    o.logger.warn({ running: o.running(), graceMs: o.graceMs }, 'jobs still running after the shutdown grace: handing them back');
    o.handBack?.();
    await until(() => o.running() === 0, HAND_BACK_MS);
  }
  if (closed) return;
  if (o.running() === 0) {
    await until(() => false, SETTLE_MS);
    if (closed) return;
    o.logger.warn('worker close is waiting on Redis: dropping its connections');
  } else {
    o.logger.warn({ running: o.running() }, 'jobs handed back did not stop (PostgreSQL or Redis does not answer): dropping the worker\'s connections');
  }
  await Promise.race([worker.disconnect().catch(() => undefined), sleep(SETTLE_MS)]);
  await until(() => false, o.running() > 0 ? DROPPED_RUNNING_MS : DROPPED_MS);
  if (!closed) o.logger.error({ running: o.running() }, 'worker did not close; leaving its jobs to the stalled check');
}

/** Not unref'd: a close waiting on dropped connections holds no other handle, and the stop must finish its later steps. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
