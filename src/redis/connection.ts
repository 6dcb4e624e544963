import { Redis } from 'ioredis';

/**
 * Opens an ioredis client. BullMQ needs `maxRetriesPerRequest: null` on the
 * connections its workers block on; commands elsewhere fail fast instead.
 */
export function connectRedis(url: string, options: { blocking?: boolean; name?: string } = {}): Redis {
  return new Redis(url, {
    connectionName: options.name,
    maxRetriesPerRequest: options.blocking ? null : 3,
    enableReadyCheck: true,
    lazyConnect: false,
  });
}
