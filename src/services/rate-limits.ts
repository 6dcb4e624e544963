import type { Redis } from 'ioredis';
import { RedisScript } from '../redis/script';
import { rateLimited } from '../kernel/errors';
import type { Clock } from '../kernel/clock';

/*
 * Sliding-window log: each request is a member of a sorted set scored by its
 * time; the script trims what left the window, counts, and adds in one step,
 * so every API replica shares one exact window per subject.
 */
const WINDOW_SCRIPT = new RedisScript<number[]>('atelierRateWindow', 1, `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return {1, 0}`);

export type RateKind = 'requests' | 'generations' | 'login' | 'register';

export class RateLimiter {
  private sequence = 0;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly clock: Clock,
    private readonly windowMs = 60_000,
  ) {}

  /**
   * Counts one request against `limit` per minute for each subject (user and,
   * when present, API key); throws RATE_LIMITED with retryAfterSeconds.
   */
  async hit(kind: RateKind, subjects: string[], limit: number): Promise<void> {
    const now = this.clock.now().getTime();
    for (const subject of subjects) {
      const member = `${now}:${process.pid}:${(this.sequence += 1)}:${Math.random().toString(36).slice(2, 8)}`;
      const [allowed, retryMs] = await WINDOW_SCRIPT.run(
        this.redis, [`${this.prefix}:rate:${kind}:${subject}`], [now, this.windowMs, limit, member],
      );
      if (allowed !== 1) throw rateLimited(limit, Math.max(1, Math.ceil(retryMs / 1000)));
    }
  }
}
