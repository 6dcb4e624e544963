import { createSecretKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { VerifiedTokens } from '../../src/services/verified-tokens';

const SECRET = 'a secret of the test, long enough for HS256';
const key = createSecretKey(Buffer.from(SECRET, 'utf8'));
const sign = (claims: object, secret = SECRET) => jwt.sign(claims, secret, { algorithm: 'HS256' });

describe('VerifiedTokens', () => {
  afterEach(() => vi.useRealTimers());

  it('checks a signature once and the expiry on every use', () => {
    vi.useFakeTimers({ now: new Date('2026-11-30T12:00:00Z'), toFake: ['Date'] });
    const tokens = new VerifiedTokens(key);
    const now = Math.floor(Date.now() / 1000);
    const token = sign({ sub: 'u1', exp: now + 60, gen: 2 });
    const verify = vi.spyOn(jwt, 'verify');
    // The kept claims are the token's: its generation too (a password change revokes by it).
    expect(tokens.verify(token)).toMatchObject({ sub: 'u1', exp: now + 60, gen: 2 });
    expect(tokens.verify(token)).toMatchObject({ sub: 'u1', exp: now + 60, gen: 2 });
    expect(verify).toHaveBeenCalledTimes(1);

    // A kept token past its expiry is checked again, and refused as jsonwebtoken refuses it.
    vi.setSystemTime((now + 60) * 1000);
    expect(() => tokens.verify(token)).toThrow(jwt.TokenExpiredError);
    expect(() => tokens.verify(token)).toThrow(jwt.TokenExpiredError);
    expect(verify).toHaveBeenCalledTimes(3);
    verify.mockRestore();
  });

  it('never keeps a token that failed: another signature, a changed payload, another algorithm', () => {
    const tokens = new VerifiedTokens(key);
    const exp = Math.floor(Date.now() / 1000) + 60;
    const good = sign({ sub: 'u1', exp });
    expect(tokens.verify(good).sub).toBe('u1');
    const forged = sign({ sub: 'u1', exp }, 'another secret, just as long as ours');
    const [, , signature] = good.split('.');
    const changed = [good.split('.')[0], Buffer.from(JSON.stringify({ sub: 'admin', exp })).toString('base64url'), signature].join('.');
    const none = jwt.sign({ sub: 'u1', exp }, '', { algorithm: 'none' });
    for (let i = 0; i < 2; i += 1) {
      expect(() => tokens.verify(forged)).toThrow(jwt.JsonWebTokenError);
      expect(() => tokens.verify(changed)).toThrow(jwt.JsonWebTokenError);
      expect(() => tokens.verify(none)).toThrow(jwt.JsonWebTokenError);
    }
  });

  it('does not keep tokens without an expiry, and holds at most `max` tokens', () => {
    const tokens = new VerifiedTokens(key, 2);
    const verify = vi.spyOn(jwt, 'verify');
    const forever = sign({ sub: 'u1' });
    tokens.verify(forever);
    tokens.verify(forever);
    expect(verify).toHaveBeenCalledTimes(2);

    const exp = Math.floor(Date.now() / 1000) + 60;
    const [a, b, c] = ['a', 'b', 'c'].map((sub) => sign({ sub, exp }));
    for (const token of [a, b, c]) tokens.verify(token);
    verify.mockClear();
    tokens.verify(c);
    tokens.verify(b);
    expect(verify).not.toHaveBeenCalled();
    tokens.verify(a); // the least recently used went first
    expect(verify).toHaveBeenCalledTimes(1);
    verify.mockRestore();
  });
});
