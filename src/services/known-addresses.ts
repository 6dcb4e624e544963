import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';

/** How long an address stays known after it was last new for a key. */
const REMEMBER_SECONDS = 90 * 24 * 3600;

/**
 * Addresses each API key has been used from (a Redis set per key), so the
 * audit log can say when a key turns up somewhere new. One SADD the first
 * time a process meets a pair (again after an hour); if Redis forgets, an
 * address is reported as new once more, which is harmless.
 */
export class KnownAddresses {
  /** Pairs this process has already put in Redis: a key used again from the same address costs no round trip. */
  private readonly seen = new LRUCache<string, true>({ max: 10_000, ttl: 3600_000 });

  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  /** True the first time `address` is seen for `apiKeyId`. */
  async isNew(apiKeyId: string, address: string): Promise<boolean> {
    const pair = `${apiKeyId} ${address}`;
    if (this.seen.has(pair)) return false;
    const key = `${this.prefix}:apikey:addresses:${apiKeyId}`;
    const added = await this.redis.sadd(key, address);
    if (added === 1) await this.redis.expire(key, REMEMBER_SECONDS);
    this.seen.set(pair, true);
    return added === 1;
  }
}
