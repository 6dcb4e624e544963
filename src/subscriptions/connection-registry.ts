import type { Redis } from 'ioredis';
import { RedisScript } from '../redis/script';
import { replicaKeyPrefix } from './replica-heartbeat';

/** A connection not touched for this long no longer counts (its replica stopped refreshing it). */
const STALE_AFTER_MS = 60_000;

/*
 * Trim, count and add in one step, so concurrent connects of one user on any
 * replicas cannot all pass the count before any of them is added. Members are
 * "replica:connection"; those of a replica whose heartbeat key is gone are
 * dropped (see replica-heartbeat.ts).
 */
const ADD_SCRIPT = new RedisScript<number>('atelierConnectionAdd', 1, `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
local alive, count = {}, 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local replica = string.match(member, '^([^:]+):') or ''
  if alive[replica] == nil then alive[replica] = redis.call('EXISTS', ARGV[5] .. replica) == 1 end
  if alive[replica] then count = count + 1 else redis.call('ZREM', KEYS[1], member) end
end
if count >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return 1`);

/**
 * Live graphql-ws connection count per user, shared by every replica: a
 * sorted set of "replica:connection" scored by the connection's last refresh.
 */
export class ConnectionRegistry {
  constructor(private readonly redis: Redis, private readonly prefix: string, private readonly replicaId: string) {}

  private key(userId: string): string {
    return `${this.prefix}:ws:conn:${userId}`;
  }

  private member(connectionId: string): string {
    return `${this.replicaId}:${connectionId}`;
  }

  /** Counts the connection in, or returns false (and counts nothing) when the user already has `limit` on live replicas. */
  async add(userId: string, connectionId: string, limit: number): Promise<boolean> {
    const args = [Date.now(), STALE_AFTER_MS, limit, this.member(connectionId), replicaKeyPrefix(this.prefix)];
    return (await ADD_SCRIPT.run(this.redis, [this.key(userId)], args)) === 1;
  }

  /** Refreshes a connection that is still open (every 20 s). */
  async touch(userId: string, connectionId: string): Promise<void> {
    await this.redis.zadd(this.key(userId), 'XX', Date.now(), this.member(connectionId));
  }

  async remove(userId: string, connectionId: string): Promise<void> {
    await this.redis.zrem(this.key(userId), this.member(connectionId));
  }
}
