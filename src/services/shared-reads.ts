import { LRUCache } from 'lru-cache';

/**
 * Rows read on every request, kept in this process's memory for `ttlMs` at
 * most (docs/architecture.md, "The request path"). Concurrent misses for one
 * key share one read; a row that does not exist, or a read that failed, is
 * asked again next time. What is returned is shared: do not mutate it.
 */
export class SharedReads<V extends object> {
  private readonly reads: LRUCache<string, Promise<V | null>>;

  constructor(options: { max: number; ttlMs: number }) {
    this.reads = new LRUCache({ max: options.max, ttl: options.ttlMs });
  }

  get(key: string, read: () => Promise<V | null>): Promise<V | null> {
    const cached = this.reads.get(key);
    if (cached) return cached;
    const reading = read();
    this.reads.set(key, reading);
    const drop = () => { if (this.reads.get(key) === reading) this.reads.delete(key); };
    reading.then((row) => { if (!row) drop(); }, drop);
    return reading;
  }

  /** Drops one key (a read under way when this is called is not kept either). */
  forget(key: string): void {
    this.reads.delete(key);
  }

  forgetAll(): void {
    this.reads.clear();
  }
}
