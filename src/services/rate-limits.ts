import type { Redis } from 'ioredis';
import { RedisScript, runScriptCall, type ScriptCall } from '../redis/script';
import { rateLimited } from '../kernel/errors';
import type { Clock } from '../kernel/clock';

/*
 * Sliding-window log: each request is a member of a sorted set scored by its
 * time; the script trims what left the window, counts, and adds in one step,
 * so every API replica shares one exact window per subject. A request with
 * several subjects (a user and an API key; an IPv6 address's /64, /56 and
 * /48) is counted against all of them in one call, each against its own
 * limit (ARGV[4], ARGV[5], … in KEYS' order), and against none when one of
 * them is full; a refusal answers which (its index, from 1).
 */
const WINDOW_SCRIPT = new RedisScript<number[]>('atelierRateWindow', 'any', `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= tonumber(ARGV[3 + i]) then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    return {0, tonumber(oldest[2]) + window - now, i}
  end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, window)
end
return {1, 0}`);

/**
 * Who a request counts against: a subject at the call's limit, or one with a
 * multiple of it (an IPv6 client's wider networks: kernel/client-network.ts).
 */
export type RateSubject = string | { subject: string; times: number; from?: string };

const subjectOf = (s: RateSubject): string => (typeof s === 'string' ? s : s.subject);
const limitOf = (s: RateSubject, limit: number): number => (typeof s === 'string' ? limit : limit * s.times);

export type RateKind = 'requests' | 'signedOut' | 'generations' | 'login' | 'register';

/** What a RATE_LIMITED message says was counted. */
const COUNTED: Record<RateKind, string> = {
  requests: 'requests', signedOut: 'signed-out requests', generations: 'generations', login: 'sign-in attempts', register: 'sign-ups',
};

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
   * when present, API key; a multiple of it for a subject that says so), all
   * in one round trip; throws RATE_LIMITED with retryAfterSeconds and the
   * limit that refused it, and then counts it against none of them.
   */
  async hit(kind: RateKind, subjects: readonly RateSubject[], limit: number): Promise<void> {
    if (subjects.length === 0) return;
    const call = this.call(kind, subjects, limit);
    RateLimiter.check(await runScriptCall(this.redis, call) as number[], subjects, limit, kind);
  }

  /** The window script's call for `hit`, to run alone or first in a chain (`runScriptChain`); needs a subject. */
  call(kind: RateKind, subjects: readonly RateSubject[], limit: number): ScriptCall {
    const now = this.clock.now().getTime();
    const member = `${now}:${process.pid}:${(this.sequence += 1)}:${Math.random().toString(36).slice(2, 8)}`;
    return {
      script: WINDOW_SCRIPT,
      keys: subjects.map((s) => `${this.prefix}:rate:${kind}:${subjectOf(s)}`),
      args: [now, this.windowMs, member, ...subjects.map((s) => limitOf(s, limit))],
    };
  }

  /** Throws RATE_LIMITED for a refusing answer of the window script to `call(kind, subjects, limit)`. */
  static check([allowed, retryMs, full]: number[], subjects: readonly RateSubject[], limit: number, kind: RateKind): void {
    if (allowed === 1) return;
    const refusedBy = subjects[full - 1];
    const from = typeof refusedBy === 'object' && refusedBy.from ? ` from ${refusedBy.from}` : '';
    throw rateLimited(refusedBy === undefined ? limit : limitOf(refusedBy, limit), Math.max(1, Math.ceil(retryMs / 1000)), `${COUNTED[kind]}${from}`);
  }
}
