import type { Redis } from 'ioredis';
import { AppError, badInput } from '../kernel/errors';
import { sha256 } from '../kernel/hashing';

/** How long an idempotencyKey returns the record it first created (docs/limits.md). */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/**
 * Idempotency keys of one kind of record (jobs, batches): the first call with
 * a key claims it, an identical call made meanwhile waits for it, and a later
 * one gets the record the first created. A claim is given up when the
 * creation fails, so a retry can succeed. A key names one request: the same
 * key with other input (another prompt, a clip instead of an image) is
 * refused with CONFLICT on `idempotencyKey`, not answered with the first
 * call's record (docs/limits.md, "Guarantees").
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

  /**
   * Claims the key for `id` and `request` (the call's input), or returns what an earlier identical call made
   * (`find` reads it by id). CONFLICT when the key was used with another request.
   */
  async claim<T>(userId: string, key: string, id: string, request: unknown, find: (id: string) => Promise<T | null>): Promise<T | null> {
    const redisKey = this.redisKey(userId, key);
    const print = fingerprint(request);
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const claimed = await this.redis.set(redisKey, `pending:${id} ${print}`, 'EX', IDEMPOTENCY_TTL_SECONDS, 'NX');
      if (claimed) return null;
      const value = await this.redis.get(redisKey);
      if (!value) continue;
      const [held, heldPrint] = value.replace(/^pending:/, '').split(' ');
      // A value written before keys named their request has no print: it is taken as this one.
      if (heldPrint && heldPrint !== print) {
        throw new AppError('CONFLICT', 'This idempotencyKey was used for a different request in the last 24 hours: use a new key for new input', { field: 'idempotencyKey' });
      }
      if (!value.startsWith('pending:')) {
        const existing = await find(held);
        if (existing) return existing;
        await this.redis.del(redisKey);
        continue;
      }
      await new Promise((r) => setTimeout(r, 50)); // an identical call is being created right now
    }
    throw new AppError('CONFLICT', 'A request with this idempotencyKey is still being processed', { field: 'idempotencyKey' });
  }

  /**
   * What an earlier identical call made and committed, or null (nothing yet, one under way, or another request:
   * `claim` answers those). Read before a call's checks of what it names, so that a replay returns the record even where
   * one would refuse it now (a LoRA taken private, a model disabled): it was admitted (docs/limits.md, "Guarantees").
   */
  async made<T>(userId: string, key: string, request: unknown, find: (id: string) => Promise<T | null>): Promise<T | null> {
    const value = await this.redis.get(this.redisKey(userId, key));
    if (!value || value.startsWith('pending:')) return null;
    const [held, heldPrint] = value.split(' ');
    return heldPrint === fingerprint(request) ? find(held) : null;
  }

  /** The record exists: later calls with the key and the same request get it. */
  async commit(userId: string, key: string, id: string, request: unknown): Promise<void> {
    await this.redis.set(this.redisKey(userId, key), `${id} ${fingerprint(request)}`, 'EX', IDEMPOTENCY_TTL_SECONDS);
  }

  /** Creation failed: the key is free again. */
  async abandon(userId: string, key: string): Promise<void> {
    await this.redis.del(this.redisKey(userId, key));
  }
}

/**
 * The same for the same input whatever the order of its fields; `undefined` fields are left out, as in JSON,
 * and strings count trimmed, as the services store them (" a fox " and "a fox" make the same job).
 */
function fingerprint(request: unknown): string {
  const canonical = (value: unknown): unknown => {
    if (typeof value === 'string') return value.trim();
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
    }
    return value;
  };
  return sha256(JSON.stringify(canonical(request))).slice(0, 32);
}
