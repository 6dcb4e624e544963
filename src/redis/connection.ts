import { createIORedisClient, RedisConnection } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { closeHandler } from 'ioredis/built/redis/event_handler';

/**
 * ioredis, with one fix: `disconnect()` on a client that is waiting to
 * reconnect (status `reconnecting`: the server went away, no socket, a retry
 * timer pending) clears the timer and nothing else, so the client never
 * reaches `end` and never emits it (ioredis 5.11 and 6.0). BullMQ's
 * `Worker.close()` disconnects its blocking client and waits for that `end`,
 * so a worker closed during a Redis outage, or in the retry back-off just
 * after one, never closed and shutdown hung (docs/operations.md, "Outages of
 * PostgreSQL or Redis"). Here such a disconnect ends the client the way ioredis ends a
 * live one: `close`, then `end`, and queued commands fail with "Connection is
 * closed.".
 */
export class AtelierRedis extends Redis {
  override disconnect(reconnect = false): void {
    const waitingToReconnect = !reconnect && this.status === 'reconnecting';
    super.disconnect(reconnect);
    if (waitingToReconnect && this.status === 'reconnecting') closeHandler(this)();
  }

  /** A copy is an AtelierRedis too (ioredis's own makes a plain client). */
  override duplicate(override?: Partial<RedisOptions>): AtelierRedis {
    return new AtelierRedis({ ...this.options, ...override });
  }
}

/**
 * Makes BullMQ build its connections (queues, workers, their blocking
 * clients) as AtelierRedis; BullMQ still owns and closes them. Called before
 * any queue or worker is made; idempotent.
 */
export function useAtelierRedisInBullmq(): void {
  RedisConnection.clientFactory ??= (options: RedisOptions & { url?: string }) => {
    const { url, ...rest } = options;
    return createIORedisClient(url ? new AtelierRedis(url, rest) : new AtelierRedis(rest));
  };
}

/**
 * Opens an ioredis client. BullMQ needs `maxRetriesPerRequest: null` on the
 * connections its workers block on; commands elsewhere fail fast instead.
 * `autoPipelining` sends the commands issued in one tick of the event loop
 * (concurrent requests, a job's events) in one socket write: on this kind of
 * machine a write that wakes Redis costs more CPU than the command
 * (docs/architecture.md, "The request path"). Only for connections that run
 * plain commands and scripts, never for a subscriber.
 */
export function connectRedis(url: string, options: { blocking?: boolean; name?: string; autoPipelining?: boolean } = {}): Redis {
  return new AtelierRedis(url, {
    connectionName: options.name,
    enableAutoPipelining: options.autoPipelining ?? false,
    maxRetriesPerRequest: options.blocking ? null : 3,
    enableReadyCheck: true,
    lazyConnect: false,
  });
}
