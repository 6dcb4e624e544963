import type { EventEmitter } from 'node:events';
import { isServiceOutage } from '../kernel/errors';
import type { Logger } from '../observability/logger';
import { OutageLog } from '../observability/outage-log';

/**
 * Logs the errors a Redis client, BullMQ queue or BullMQ worker emits. Each
 * of them emits one for every reconnection attempt, about once a second
 * while Redis is away, and a queue with no listener prints each one raw to
 * stderr (as ioredis does for a client). So an outage (`isServiceOutage`) is logged
 * at warn once when it starts, then at most once a minute with how many were
 * left out (`OutageLog`); any other error is logged at error, every time
 * (docs/operations.md, "Outages of PostgreSQL or Redis").
 */
export function logRedisErrors(source: EventEmitter, logger: Logger, message: string, now: () => number = Date.now): void {
  const outage = new OutageLog(logger, `${message}: Redis unreachable`, now);
  source.on('error', (err: NodeJS.ErrnoException) => {
    if (!isServiceOutage(err)) return void logger.error({ err }, message);
    outage.warn({ code: err.code, reason: err.message });
  });
}
