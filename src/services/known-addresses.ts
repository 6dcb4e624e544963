import type { Redis } from 'ioredis';

/** How long an address stays known after it was last new for a key. */
const REMEMBER_SECONDS = 90 * 24 * 3600;

/**
 * Addresses each API key has been used from (a Redis set per key), so the
 * audit log can say when a key turns up somewhere new. One SADD per request;
 * if Redis forgets, an address is reported as new once more, which is harmless.
 */
export class KnownAddresses {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  /** True the first time `address` is seen for `apiKeyId`. */
  async isNew(apiKeyId: string, address: string): Promise<boolean> {
    const key = `${this.prefix}:apikey:addresses:${apiKeyId}`;
    const added = await this.redis.sadd(key, address);
    if (added === 1) await this.redis.expire(key, REMEMBER_SECONDS);
    return added === 1;
  }
}
