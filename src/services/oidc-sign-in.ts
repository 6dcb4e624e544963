import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type * as OpenId from 'openid-client' with { 'resolution-mode': 'import' };
import type { OidcConfig } from '../config';
import { AuditEventKind, type User } from '../entities';
import { addressSubjects } from '../kernel/client-network';
import { findAppError, unauthenticated } from '../kernel/errors';
import type { AuditLog, RequestOrigin } from './audit-log';
import type { AuthService } from './auth';
import { sha256 } from '../kernel/hashing';
import type { RateLimiter } from './rate-limits';

/** A way to sign in other than a password, as the sign-in page lists it. */
export interface SignInProvider {
  id: string;
  name: string;
  /** Where the browser goes to start (a plain navigation, not an XHR). */
  startUrl: string;
}

/**
 * Why a trip to the provider did not sign anyone in. The SPA receives the
 * word in its URL fragment and words the message (docs/single-sign-on.md).
 */
export type SignInRefusal =
  | 'invalid_state' | 'provider_refused' | 'email_missing' | 'email_unverified' | 'unavailable' | 'rate_limited';

export class SignInRefused extends Error {
  constructor(readonly reason: SignInRefusal, detail: string) {
    super(detail);
    this.name = 'SignInRefused';
  }
}

/** What `begin` kept for the callback: the secrets only Atelier knows, and where to go afterwards. */
interface PendingSignIn {
  nonce: string;
  codeVerifier: string;
  next: string;
}

/** The provider has this long to send the browser back. */
export const PENDING_TTL_SECONDS = 600;
/** The SPA redeems its one-time code right after landing. */
const CODE_TTL_SECONDS = 120;
const SCOPE = 'openid email profile';

/** openid-client is ESM-only: loaded once with a dynamic import from this CommonJS build. */
let library: Promise<typeof OpenId> | null = null;
const openIdClient = () => (library ??= import('openid-client'));

/** Only same-site paths: `//evil.example` and `/\evil.example` would leave the site. */
function safeNext(next: string | undefined): string {
  return next && /^\/(?![/\\])/.test(next) && next.length <= 500 ? next : '/';
}

function sameString(a: string, b: string): boolean {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface OidcSignInDeps {
  redis: Redis;
  prefix: string;
  auth: AuthService;
  limiter: RateLimiter;
  /** Sign-in attempts per minute per address, shared with password sign-in. */
  attemptsPerMinute: number;
  /** Successes and refusals are recorded like password sign-ins (docs/security.md, "Audit log"). */
  audit: AuditLog;
}

/**
 * Sign-in with one OpenID Connect provider: authorization code flow with
 * PKCE, state and nonce kept server-side in Redis, the account matched by
 * verified email, and the Atelier token handed to the SPA through a
 * one-time code (never in a URL). See docs/single-sign-on.md.
 */
export class OidcSignIn {
  readonly id = 'oidc';
  private baseUrl: string;
  private discovered: Promise<OpenId.Configuration> | null = null;

  constructor(private readonly settings: OidcConfig, publicUrl: string, private readonly deps: OidcSignInDeps) {
    this.baseUrl = publicUrl.replace(/\/$/, '');
  }

  /** The API's URL once known (a test server listening on port 0). */
  rebase(publicUrl: string): void {
    this.baseUrl = publicUrl.replace(/\/$/, '');
  }

  describe(): SignInProvider {
    return { id: this.id, name: this.settings.name, startUrl: `${this.baseUrl}/auth/oidc/start` };
  }

  get redirectUri(): string {
    return `${this.baseUrl}/auth/oidc/callback`;
  }

  /** Cookies carry `Secure` when the API is served over https. */
  get secureCookies(): boolean {
    return this.baseUrl.startsWith('https:');
  }

  /** The SPA page that finishes the sign-in; the outcome travels in the fragment, which no server or Referer sees. */
  landingUrl(outcome: { code: string; next: string } | { error: SignInRefusal }): string {
    return `${this.baseUrl}/signin/sso#${new URLSearchParams(outcome)}`;
  }

  /** Starts a sign-in: remembers state, nonce and PKCE verifier for the callback; returns where to send the browser. */
  begin(origin: RequestOrigin, next: string | undefined): Promise<{ state: string; authorizationUrl: string }> {
    return this.auditingRefusals(origin, () => this.start(origin, next));
  }

  private async start(origin: RequestOrigin, next: string | undefined): Promise<{ state: string; authorizationUrl: string }> {
    await this.throttle(origin);
    const [client, config] = [await openIdClient(), await this.configuration()];
    const pending: PendingSignIn = { nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier(), next: safeNext(next) };
    const state = client.randomState();
    await this.deps.redis.set(this.pendingKey(state), JSON.stringify(pending), 'EX', PENDING_TTL_SECONDS);
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri, scope: SCOPE, state, nonce: pending.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(pending.codeVerifier), code_challenge_method: 'S256',
    });
    return { state, authorizationUrl: url.href };
  }

  /**
   * The provider sent the browser back. The state must be one we issued, not
   * used before, and the one this browser started with (its cookie), so a
   * replayed or planted callback is refused. Returns a one-time code.
   */
  finish(callbackUrl: URL, browserState: string | undefined, origin: RequestOrigin): Promise<{ code: string; next: string }> {
    return this.auditingRefusals(origin, () => this.complete(callbackUrl, browserState, origin));
  }

  private async complete(callbackUrl: URL, browserState: string | undefined, origin: RequestOrigin): Promise<{ code: string; next: string }> {
    await this.throttle(origin);
    const state = callbackUrl.searchParams.get('state') ?? '';
    // GETDEL: a state is good for one callback.
    const raw = state.length > 0 && state.length <= 200 ? await this.deps.redis.getdel(this.pendingKey(state)) : null;
    if (!raw || !browserState || !sameString(state, browserState)) {
      throw new SignInRefused('invalid_state', raw ? 'state is not the one this browser started with' : 'unknown, expired or used state');
    }
    const pending = JSON.parse(raw) as PendingSignIn;
    const claims = await this.exchange(callbackUrl, state, pending);
    const user = await this.accountFor(claims, origin);
    await this.deps.audit.record({ kind: AuditEventKind.SIGN_IN_SUCCEEDED, actorId: user.id, origin, details: { method: 'oidc', email: user.email } });
    const code = randomBytes(32).toString('base64url');
    await this.deps.redis.set(this.codeKey(code), user.id, 'EX', CODE_TTL_SECONDS);
    return { code, next: pending.next };
  }

  /** Trades a one-time code from `finish` for an Atelier token; a second try is refused. */
  async redeem(code: string): Promise<{ token: string; user: User }> {
    const userId = code.length > 0 && code.length <= 200 ? await this.deps.redis.getdel(this.codeKey(code)) : null;
    const signedIn = userId ? await this.deps.auth.signInById(userId) : null;
    if (!signedIn) throw unauthenticated('This sign-in code is invalid, expired or already used: sign in again');
    return signedIn;
  }

  /** Code for tokens (PKCE verifier, state and nonce checked by openid-client); the email claims from the ID token or userinfo. */
  private async exchange(callbackUrl: URL, state: string, pending: PendingSignIn): Promise<OpenId.UserInfoResponse | OpenId.IDToken> {
    const [client, config] = [await openIdClient(), await this.configuration()];
    try {
      const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: pending.codeVerifier, expectedState: state, expectedNonce: pending.nonce,
      });
      const idToken = tokens.claims()!;
      if (typeof idToken.email === 'string') return idToken;
      // Providers that follow the spec closely keep scope claims out of the ID token when they issue an access token.
      return await client.fetchUserInfo(config, tokens.access_token, idToken.sub);
    } catch (error) {
      const unreachable = error instanceof TypeError || (error as { name?: string }).name === 'TimeoutError';
      const { error: code, error_description: description } = error as { error?: string; error_description?: string };
      throw new SignInRefused(unreachable ? 'unavailable' : 'provider_refused', [(error as Error).message, code, description].filter(Boolean).join(': '));
    }
  }

  private async accountFor(claims: OpenId.UserInfoResponse | OpenId.IDToken, origin: RequestOrigin): Promise<User> {
    if (typeof claims.email !== 'string' || !claims.email) throw new SignInRefused('email_missing', 'no email claim');
    // Some providers send the boolean as a string.
    if (claims.email_verified !== true && claims.email_verified !== 'true') {
      throw new SignInRefused('email_unverified', `email ${claims.email} is not verified`);
    }
    try {
      return await this.deps.auth.accountForVerifiedEmail(claims.email, typeof claims.name === 'string' ? claims.name : null, origin);
    } catch (error) {
      if (findAppError(error)?.code === 'BAD_USER_INPUT') throw new SignInRefused('email_missing', `unusable email ${claims.email}`);
      throw error;
    }
  }

  /** A refusal is a failed sign-in in the audit log (reason in capitals, as for passwords), then goes on to the browser. */
  private async auditingRefusals<T>(origin: RequestOrigin, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof SignInRefused) {
        await this.deps.audit.record({
          kind: AuditEventKind.SIGN_IN_FAILED, origin, reason: error.reason.toUpperCase(), details: { method: 'oidc', detail: error.message },
        });
      }
      throw error;
    }
  }

  /** Same counters as password sign-in: every door to an account is throttled alike. */
  private async throttle(origin: RequestOrigin): Promise<void> {
    try {
      await this.deps.limiter.hit('login', addressSubjects(origin.ip), this.deps.attemptsPerMinute);
    } catch (error) {
      if (findAppError(error)?.code === 'RATE_LIMITED') throw new SignInRefused('rate_limited', 'too many sign-in attempts');
      throw error;
    }
  }

  /** Discovery runs once; a failure is forgotten so that the next sign-in tries again. */
  private configuration(): Promise<OpenId.Configuration> {
    this.discovered ??= this.discover().catch((error: Error) => {
      this.discovered = null;
      throw new SignInRefused('unavailable', `discovery failed: ${error.message}`);
    });
    return this.discovered;
  }

  private async discover(): Promise<OpenId.Configuration> {
    const client = await openIdClient();
    const issuer = new URL(this.settings.issuer);
    // Plain http passes config validation only for loopback issuers (development and tests).
    const execute = issuer.protocol === 'http:' ? [client.allowInsecureRequests] : [];
    const found = await client.discovery(issuer, this.settings.clientId, undefined, undefined, { execute, timeout: 10 });
    const metadata = found.serverMetadata();
    // OpenID Discovery's default is client_secret_basic; some providers accept only post.
    const methods = metadata.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
    const auth = methods.includes('client_secret_basic')
      ? client.ClientSecretBasic(this.settings.clientSecret)
      : client.ClientSecretPost(this.settings.clientSecret);
    const config = new client.Configuration(metadata, this.settings.clientId, this.settings.clientSecret, auth);
    config.timeout = 10;
    for (const apply of execute) apply(config);
    return config;
  }

  private pendingKey(state: string): string {
    return `${this.deps.prefix}:oidc:pending:${state}`;
  }

  /** Codes are bearer secrets: stored hashed, like API keys. */
  private codeKey(code: string): string {
    return `${this.deps.prefix}:oidc:code:${sha256(code)}`;
  }
}
