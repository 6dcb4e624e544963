import type { Redis } from 'ioredis';
import { RedisScript } from '../redis/script';

/** A connection not touched for this long no longer counts (its replica stopped refreshing it). */
const STALE_AFTER_MS = 60_000;

/*
 * Trim, count and add in one step, so concurrent connects of one user on any
 * replicas cannot all pass the count before any of them is added.
 */
const ADD_SCRIPT = new RedisScript<number>('atelierConnectionAdd', 1, `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return 1`);

/**
 * Live graphql-ws connection count per user, shared by every replica: a
 * sorted set of connection ids scored by their last refresh.
 */
export class ConnectionRegistry {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  private key(userId: string): string {
    return `${this.prefix}:ws:conn:${userId}`;
  }

  /** Counts the connection in, or returns false (and counts nothing) when the user already has `limit`. */
  async add(userId: string, connectionId: string, limit: number): Promise<boolean> {
    return (await ADD_SCRIPT.run(this.redis, [this.key(userId)], [Date.now(), STALE_AFTER_MS, limit, connectionId])) === 1;
  }

  /** Refreshes a connection that is still open (every 20 s). */
  async touch(userId: string, connectionId: string): Promise<void> {
    await this.redis.zadd(this.key(userId), 'XX', Date.now(), connectionId);
  }

  async remove(userId: string, connectionId: string): Promise<void> {
    await this.redis.zrem(this.key(userId), connectionId);
  }
}
