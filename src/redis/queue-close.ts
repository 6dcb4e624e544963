import type { Queue } from 'bullmq';
import type { Logger } from '../observability/logger';
import { REDIS_COMMAND_TIMEOUT_MS } from './connection';

/**
 * Closes a BullMQ queue, also when its connection no longer answers.
 * `Queue.close()` sends QUIT and waits for the answer. On a connection cut off
 * without closing (a partition), a queue's QUIT times out after the command
 * timeout and the close fails, and BullMQ has by then taken its error
 * listener off the client, which is still open: its socket timeout then
 * destroys it with an error no one listens to, which ioredis prints as
 * `[ioredis] Unhandled error event: Socket timeout`. A queue sharing the
 * workers' options has no command timeout, and its QUIT waits for the socket
 * timeout (15 s). So a close that has failed, or not ended within the
 * command timeout, drops the client: an error listener first (what the
 * dropped socket reports is expected), then `disconnect()`, after which
 * ioredis destroys a socket that has not closed within 2 s
 * (docs/operations.md, "Stopping during a partition").
 */
export async function closeQueue(queue: Pick<Queue, 'name' | 'close' | 'getBackend'>, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([
    queue.close().then(() => true, () => false),
    new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), REDIS_COMMAND_TIMEOUT_MS); }),
  ]).finally(() => clearTimeout(timer));
  if (closed) return;
  const client = await queue.getBackend().client.catch(() => null);
  if (!client || client.status === 'end') return;
  logger.warn({ queue: queue.name }, 'queue close is waiting on Redis: dropping its connection');
  client.on('error', () => undefined);
  client.disconnect();
}
