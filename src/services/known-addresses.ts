import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { clientNetworkOf } from '../kernel/client-network';

/** How long an address stays known after it was last new for a key. */
const REMEMBER_SECONDS = 90 * 24 * 3600;

/**
 * Networks each API key has been used from (a Redis set per key), so the
 * audit log can say when a key turns up somewhere new. An address is known by
 * its clientNetworkOf: an IPv6 one by its /64, so a client whose privacy
 * address changes every day is not new every day, and a key used from many
 * addresses of one /64 adds one member, not one each (docs/security.md,
 * "Audit log"). One SADD the first time a process meets a pair (again after an
 * hour); if Redis forgets, an address is reported as new once more, which is
 * harmless.
 */
export class KnownAddresses {
  /** Pairs this process has already put in Redis: a key used again from the same network costs no round trip. */
  private readonly seen = new LRUCache<string, true>({ max: 10_000, ttl: 3600_000 });

  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  /** True the first time `address`'s network is seen for `apiKeyId`. */
  async isNew(apiKeyId: string, address: string): Promise<boolean> {
    const network = clientNetworkOf(address);
    const pair = `${apiKeyId} ${network}`;
    if (this.seen.has(pair)) return false;
    const key = `${this.prefix}:apikey:addresses:${apiKeyId}`;
    const added = await this.redis.sadd(key, network);
    if (added === 1) await this.redis.expire(key, REMEMBER_SECONDS);
    this.seen.set(pair, true);
    return added === 1;
  }
}
