import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { systemClock } from '../../src/kernel/clock';
import { RateLimiter } from '../../src/services/rate-limits';

/*
 * The sliding-window limiter against real Redis: a request with several
 * subjects (a user and an API key) is counted against all of them in one
 * round trip, or against none when one of them is full.
 */
const prefix = `t${randomBytes(5).toString('hex')}`;
let redis: Redis;
let limiter: RateLimiter;

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
  limiter = new RateLimiter(redis, prefix, systemClock);
});
afterAll(() => redis?.disconnect());

const size = (subject: string) => redis.zcard(`${prefix}:rate:requests:${subject}`);

describe('rate windows with several subjects', () => {
  it('counts a request against every subject in one call', async () => {
    const calls = vi.spyOn(redis, 'evalsha');
    try {
      for (let i = 0; i < 3; i += 1) await limiter.hit('requests', ['user:a', 'key:a'], 3);
      expect(calls).toHaveBeenCalledTimes(3);
    } finally {
      calls.mockRestore();
    }
    expect([await size('user:a'), await size('key:a')]).toEqual([3, 3]);
    await expect(limiter.hit('requests', ['user:a', 'key:a'], 3)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('a request refused by one subject is counted against none: a full key does not use up its user’s window', async () => {
    // Key k is full from requests of another user.
    for (let i = 0; i < 2; i += 1) await limiter.hit('requests', ['user:other', 'key:k'], 2);
    const refused = await limiter.hit('requests', ['user:b', 'key:k'], 2).catch((error) => error);
    expect(refused).toMatchObject({ code: 'RATE_LIMITED' });
    expect(refused.extensions.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect([await size('user:b'), await size('key:k')]).toEqual([0, 2]);
    // The user alone (a token) still has its whole window.
    for (let i = 0; i < 2; i += 1) await limiter.hit('requests', ['user:b'], 2);
    expect(await size('user:b')).toBe(2);
  });
});
