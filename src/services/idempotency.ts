import type { Redis } from 'ioredis';
import { AppError, badInput } from '../kernel/errors';

/** How long an idempotencyKey returns the record it first created (docs/limits.md). */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/**
 * Idempotency keys of one kind of record (jobs, batches): the first call with
 * a key claims it, an identical call made meanwhile waits for it, and a later
 * one gets the record the first created. A claim is given up when the
 * creation fails, so a retry can succeed.
 */
export class IdempotencyKeys {
  constructor(private readonly redis: Redis, private readonly namespace: string) {}

  /** BAD_USER_INPUT on idempotencyKey unless it is 1 to 200 characters. */
  static check(key: string | null): void {
    if (key != null && (key.length < 1 || key.length > 200)) throw badInput('idempotencyKey', 'idempotencyKey must be 1 to 200 characters');
  }

  private redisKey(userId: string, key: string): string {
    return `${this.namespace}:${userId}:${key}`;
  }

  /** Claims the key for `id`, or returns what an earlier identical call made (`find` reads it by id). */
  async claim<T>(userId: string, key: string, id: string, find: (id: string) => Promise<T | null>): Promise<T | null> {
    const redisKey = this.redisKey(userId, key);
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const claimed = await this.redis.set(redisKey, `pending:${id}`, 'EX', IDEMPOTENCY_TTL_SECONDS, 'NX');
      if (claimed) return null;
      const value = await this.redis.get(redisKey);
      if (value && !value.startsWith('pending:')) {
        const existing = await find(value);
        if (existing) return existing;
        await this.redis.del(redisKey);
        continue;
      }
      await new Promise((r) => setTimeout(r, 50)); // an identical call is being created right now
    }
    throw new AppError('CONFLICT', 'A request with this idempotencyKey is still being processed', { field: 'idempotencyKey' });
  }

  /** The record exists: later calls with the key get it. */
  async commit(userId: string, key: string, id: string): Promise<void> {
    await this.redis.set(this.redisKey(userId, key), id, 'EX', IDEMPOTENCY_TTL_SECONDS);
  }

  /** Creation failed: the key is free again. */
  async abandon(userId: string, key: string): Promise<void> {
    await this.redis.del(this.redisKey(userId, key));
  }
}
