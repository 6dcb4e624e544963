import type { DataSource } from 'typeorm';
import { User } from '../entities';
import { EntityLookup } from '../database/entity-lookup';
import { SharedReads } from './shared-reads';

/** How long a copy may serve without a change being announced (a change made by hand in SQL, a lost message). */
export const USER_CACHE_TTL_MS = 10_000;

/**
 * The signed-in user of every request, read from the database once and then
 * served from this process's memory (docs/architecture.md, "The request
 * path"). Every change to what a user may do goes through PrincipalStamps,
 * which drops the copy here at once and announces the user on its channel so
 * that the other replicas drop theirs (PrincipalCheck.listen); a copy is
 * never older than USER_CACHE_TTL_MS in any case.
 */
export class CachedUsers {
  private readonly lookup: EntityLookup<User>;
  private readonly reads = new SharedReads<User>({ max: 10_000, ttlMs: USER_CACHE_TTL_MS });

  constructor(db: DataSource) {
    this.lookup = new EntityLookup(db, User);
  }

  byId(id: string): Promise<User | null> {
    return this.reads.get(id, () => this.lookup.findOneBy({ id }));
  }

  forget(id: string): void {
    this.reads.forget(id);
  }

  /** Drops every copy: the announcements may have been missed (the subscriber reconnected). */
  forgetAll(): void {
    this.reads.forgetAll();
  }
}
