import type { Redis } from 'ioredis';
import { RedisScript } from '../redis/script';

/*
 * Adds (or removes) one connection and reports whether the set of distinct
 * users online changed, atomically, so two tabs connecting at once cannot both
 * announce the same change. Fields are "user:connection" → expiry (ms).
 */
const CHANGE_SCRIPT = new RedisScript<string[] | null>('atelierPresenceChange', 1, `
local now = tonumber(ARGV[1])
local function users()
  local set, list = {}, {}
  local entries = redis.call('HGETALL', KEYS[1])
  for i = 1, #entries, 2 do
    if tonumber(entries[i + 1]) > now then
      local user = string.match(entries[i], '^[^:]+')
      if not set[user] then set[user] = true; table.insert(list, user) end
    end
  end
  table.sort(list)
  return list
end
local before = table.concat(users(), ',')
if ARGV[2] == 'enter' then
  redis.call('HSET', KEYS[1], ARGV[3], now + tonumber(ARGV[4]))
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]) * 4)
else
  redis.call('HDEL', KEYS[1], ARGV[3])
end
local after = users()
if table.concat(after, ',') == before then return false end
return after`);

/**
 * Who is connected to a session now. Each live subscription is one field of a
 * Redis hash, refreshed by a heartbeat, so a crashed replica's connections
 * fade out on their own; several tabs of one person count once.
 */
export class Presence {
  constructor(private readonly redis: Redis, private readonly prefix: string, private readonly ttlMs = 45_000) {}

  private key(sessionId: string): string {
    return `${this.prefix}:presence:${sessionId}`;
  }

  private async change(sessionId: string, op: 'enter' | 'leave', userId: string, connectionId: string): Promise<string[] | null> {
    const result = await CHANGE_SCRIPT.run(this.redis, [this.key(sessionId)], [Date.now(), op, `${userId}:${connectionId}`, this.ttlMs]);
    return Array.isArray(result) ? result : null;
  }

  /** Marks the connection present; returns the online users if that set changed. */
  enter(sessionId: string, userId: string, connectionId: string): Promise<string[] | null> {
    return this.change(sessionId, 'enter', userId, connectionId);
  }

  leave(sessionId: string, userId: string, connectionId: string): Promise<string[] | null> {
    return this.change(sessionId, 'leave', userId, connectionId);
  }

  async heartbeat(sessionId: string, userId: string, connectionId: string): Promise<void> {
    await this.redis.hset(this.key(sessionId), `${userId}:${connectionId}`, Date.now() + this.ttlMs);
    await this.redis.pexpire(this.key(sessionId), this.ttlMs * 4);
  }

  /** Distinct user ids with a live connection, sorted. */
  async online(sessionId: string): Promise<string[]> {
    const entries = await this.redis.hgetall(this.key(sessionId));
    const now = Date.now();
    const users = new Set<string>();
    for (const [field, expiry] of Object.entries(entries)) if (Number(expiry) > now) users.add(field.split(':')[0]);
    return [...users].sort();
  }
}
