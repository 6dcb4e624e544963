import { Redis } from 'ioredis';

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
  return new Redis(url, {
    connectionName: options.name,
    enableAutoPipelining: options.autoPipelining ?? false,
    maxRetriesPerRequest: options.blocking ? null : 3,
    enableReadyCheck: true,
    lazyConnect: false,
  });
}
