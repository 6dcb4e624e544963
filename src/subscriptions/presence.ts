import type { Redis } from 'ioredis';
import { RedisScript } from '../redis/script';
import { replicaKeyPrefix } from './replica-heartbeat';

/*
 * One script for every change: it lists the distinct users with a live entry
 * (not expired, and on a replica whose heartbeat key exists; other entries are
 * deleted), applies the change, and compares the result with the list last
 * announced (KEYS[2]). It returns the new list only when that differs, so two
 * tabs connecting at once cannot both announce the same change, and the first
 * heartbeat after a replica dies announces that its users left. Fields of
 * KEYS[1] are "user:replica:connection" → expiry (ms); 'list' only reads.
 */
const PRESENCE_SCRIPT = new RedisScript<string[] | null>('atelierPresence', 2, `
local now, op, field, ttl = tonumber(ARGV[1]), ARGV[2], ARGV[3], tonumber(ARGV[4])
local alive = {}
local function live(name, expiry)
  if tonumber(expiry) <= now then return false end
  local replica = string.match(name, '^[^:]+:([^:]+):')
  if not replica then return false end
  if alive[replica] == nil then alive[replica] = redis.call('EXISTS', ARGV[5] .. replica) == 1 end
  return alive[replica]
end
local function users()
  local set, list = {}, {}
  local entries = redis.call('HGETALL', KEYS[1])
  for i = 1, #entries, 2 do
    if live(entries[i], entries[i + 1]) then
      local user = string.match(entries[i], '^[^:]+')
      if not set[user] then set[user] = true; table.insert(list, user) end
    else
      redis.call('HDEL', KEYS[1], entries[i])
    end
  end
  table.sort(list)
  return list
end
if op == 'list' then return users() end
if op == 'leave' then
  redis.call('HDEL', KEYS[1], field)
else
  redis.call('HSET', KEYS[1], field, now + ttl)
  redis.call('PEXPIRE', KEYS[1], ttl * 4)
end
local after = users()
local joined = table.concat(after, ',')
if joined == (redis.call('GET', KEYS[2]) or '') then return false end
redis.call('SET', KEYS[2], joined, 'PX', ttl * 4)
return after`);

/**
 * Who is connected to a session now. Each live subscription is one field of a
 * Redis hash, refreshed by a heartbeat and tied to its API replica, so a
 * crashed replica's connections drop out within its heartbeat TTL (10 s);
 * several tabs of one person count once.
 */
export class Presence {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly replicaId: string,
    private readonly ttlMs = 45_000,
  ) {}

  private async run(sessionId: string, op: 'enter' | 'leave' | 'beat' | 'list', userId = '', connectionId = ''): Promise<string[] | null> {
    const key = `${this.prefix}:presence:${sessionId}`;
    const field = `${userId}:${this.replicaId}:${connectionId}`;
    const args = [Date.now(), op, field, this.ttlMs, replicaKeyPrefix(this.prefix)];
    const result = await PRESENCE_SCRIPT.run(this.redis, [key, `${key}:announced`], args);
    return Array.isArray(result) ? result : null;
  }

  /** Marks the connection present; returns the online users if that set changed. */
  enter(sessionId: string, userId: string, connectionId: string): Promise<string[] | null> {
    return this.run(sessionId, 'enter', userId, connectionId);
  }

  leave(sessionId: string, userId: string, connectionId: string): Promise<string[] | null> {
    return this.run(sessionId, 'leave', userId, connectionId);
  }

  /** Keeps the connection present; returns the online users if that set changed meanwhile (someone's replica died). */
  heartbeat(sessionId: string, userId: string, connectionId: string): Promise<string[] | null> {
    return this.run(sessionId, 'beat', userId, connectionId);
  }

  /** Distinct user ids with a live connection, sorted. */
  async online(sessionId: string): Promise<string[]> {
    return (await this.run(sessionId, 'list')) ?? [];
  }
}
