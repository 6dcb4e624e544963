import type { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { LRUCache } from 'lru-cache';

/** What Atelier reads from a token it signed. */
export interface TokenClaims {
  sub: string | undefined;
  exp: number;
  /** The account's token generation when it was issued (docs/security.md, "Tokens"); none on tokens made before. */
  gen: number | undefined;
}

/**
 * HS256 tokens whose signature has been checked, with their claims. Checking
 * one with jsonwebtoken (splitting, base64 and JSON decoding, the HMAC) took
 * 5 % of the API's busy time in the admission profile (docs/performance.md,
 * "`/graphql` past Express, and tokens verified once"). A token is the same
 * string on every request of a session, so its signature is checked once and
 * its expiry on every use, against the same clock jsonwebtoken reads. A
 * token that fails verification is never kept, and an expired one is
 * checked again, so every refusal (and its reason) is what jsonwebtoken says.
 */
export class VerifiedTokens {
  private readonly claims: LRUCache<string, Readonly<TokenClaims>>;

  constructor(private readonly key: KeyObject, max = 10_000) {
    this.claims = new LRUCache({ max });
  }

  /** The token's claims; throws jsonwebtoken's error for a bad or expired token. Tokens without a numeric `exp` are not kept. */
  verify(token: string): Readonly<jwt.JwtPayload> {
    const kept = this.claims.get(token);
    if (kept && Math.floor(Date.now() / 1000) < kept.exp) return kept;
    const payload = jwt.verify(token, this.key, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    if (typeof payload.exp === 'number') {
      this.claims.set(token, Object.freeze({ sub: payload.sub, exp: payload.exp, gen: typeof payload.gen === 'number' ? payload.gen : undefined }));
    }
    return payload;
  }
}
