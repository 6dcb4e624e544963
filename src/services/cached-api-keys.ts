import type { DataSource } from 'typeorm';
import { ApiKey } from '../entities';
import { EntityLookup } from '../database/entity-lookup';
import { USER_CACHE_TTL_MS } from './cached-users';
import { SharedReads } from './shared-reads';

/**
 * The API key of every request that signs in with one, read from the
 * database once by its secret's hash and then served from this process's
 * memory, as the signed-in user is (docs/architecture.md, "The request
 * path"). Revoking a key bumps its owner's stamp, which drops every copy
 * here at once and, through the stamps' channel, on the other replicas; a
 * copy is never older than USER_CACHE_TTL_MS in any case. Keys change rarely
 * enough that a bump drops them all rather than tracking whose they are.
 */
export class CachedApiKeys {
  private readonly lookup: EntityLookup<ApiKey>;
  private readonly reads = new SharedReads<ApiKey>({ max: 10_000, ttlMs: USER_CACHE_TTL_MS });

  constructor(db: DataSource) {
    this.lookup = new EntityLookup(db, ApiKey);
  }

  /** The key whose secret hashes to `secretHash`, revoked or not; null when there is none. */
  bySecretHash(secretHash: string): Promise<ApiKey | null> {
    return this.reads.get(secretHash, () => this.lookup.findOneBy({ secretHash }));
  }

  forgetAll(): void {
    this.reads.forgetAll();
  }
}
