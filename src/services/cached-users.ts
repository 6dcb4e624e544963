import { LRUCache } from 'lru-cache';
import type { DataSource } from 'typeorm';
import { User } from '../entities';
import { EntityLookup } from '../database/entity-lookup';

/** How long a copy may serve without a change being announced (a change made by hand in SQL, a lost message). */
export const USER_CACHE_TTL_MS = 10_000;
const MAX_USERS = 10_000;

/**
 * The signed-in user of every request, read from the database once and then
 * served from this process's memory (docs/architecture.md, "The request
 * path"). Every change to what a user may do goes through PrincipalStamps,
 * which drops the copy here at once and announces the user on its channel so
 * that the other replicas drop theirs (PrincipalCheck.listen); a copy is
 * never older than USER_CACHE_TTL_MS in any case. Concurrent misses for one
 * user share one read. The returned object is shared: do not mutate it.
 */
export class CachedUsers {
  private readonly lookup: EntityLookup<User>;
  private readonly reads = new LRUCache<string, Promise<User | null>>({ max: MAX_USERS, ttl: USER_CACHE_TTL_MS });

  constructor(db: DataSource) {
    this.lookup = new EntityLookup(db, User);
  }

  byId(id: string): Promise<User | null> {
    const cached = this.reads.get(id);
    if (cached) return cached;
    const read = this.lookup.findOneBy({ id });
    this.reads.set(id, read);
    // Only an existing user is kept: an unknown id or a failed read is asked again next time.
    const drop = () => { if (this.reads.get(id) === read) this.reads.delete(id); };
    read.then((user) => { if (!user) drop(); }, drop);
    return read;
  }

  /** Drops the copy of one user (a read under way when this is called is not kept either). */
  forget(id: string): void {
    this.reads.delete(id);
  }

  /** Drops every copy: the announcements may have been missed (the subscriber reconnected). */
  forgetAll(): void {
    this.reads.clear();
  }
}
