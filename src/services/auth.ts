import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import jwt from 'jsonwebtoken';
import { LRUCache } from 'lru-cache';
import { Brackets, DataSource, IsNull } from 'typeorm';
import { ApiKey, AuditEventKind, Role, Tier, User, type TierPolicy } from '../entities';
import { AppError, badInput, findAppError, notFound, quotaExceeded, unauthenticated } from '../kernel/errors';
import type { Clock } from '../kernel/clock';
import { addressSubjects } from '../kernel/client-network';
import { sha256 } from '../kernel/hashing';
import { assertUuid, isUuid } from '../kernel/ids';
import type { AuditLog, RequestOrigin } from './audit-log';
import { CachedApiKeys } from './cached-api-keys';
import { CachedUsers } from './cached-users';
import type { KnownAddresses } from './known-addresses';
import type { PrincipalStamps } from './principal-stamps';
import type { RateLimiter } from './rate-limits';
import { VerifiedTokens } from './verified-tokens';

/** Who is calling, and how they proved it. */
export interface Viewer {
  user: User;
  /** Set when the request authenticated with an API key. */
  apiKeyId: string | null;
  /** JWT expiry (seconds since epoch); null for API keys. */
  expiresAt: number | null;
  /** The user's tier policy, read once per request by the RequestGate. */
  policy?: TierPolicy;
}

const API_KEY_PREFIX = 'atl_';

/**
 * Keys not yet revoked that one account may hold (docs/limits.md): enough for
 * a key per script or machine, while a token cannot mint keys without end.
 */
export const MAX_ACTIVE_API_KEYS = 50;
/** How many revoked keys `apiKeys` still lists, the last revoked first (docs/limits.md). */
export const MAX_LISTED_REVOKED_API_KEYS = 50;

/** A refused credential: UNAUTHENTICATED to the client, with what the audit log records about it. */
class AuthFailure extends AppError {
  constructor(message: string, readonly reason: string, readonly userId: string | null = null, readonly details: Record<string, unknown> = {}) {
    super('UNAUTHENTICATED', message);
  }
}
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;


/** Trims and lower-cases an email; refuses what is not an address. */
export function normaliseEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (email.length > 254 || !EMAIL_RE.test(email)) throw badInput('email', 'Enter a valid email address');
  return email;
}

function checkPassword(password: string, field = 'password'): void {
  if (password.length < 8) throw badInput(field, 'Password must be at least 8 characters');
  if (password.length > 256) throw badInput(field, 'Password must be at most 256 characters');
}

export class AuthService {
  /** Parsed once: jsonwebtoken otherwise re-parses a string secret on every sign and verify. */
  private readonly key: KeyObject;
  /** Tokens already verified: their signature is not checked again on every request. */
  private readonly tokens: VerifiedTokens;
  /** The signed-in user of every request, kept in memory until it changes (docs/architecture.md, "The request path"). */
  private readonly users: CachedUsers;
  private readonly apiKeys: CachedApiKeys;
  /** When this process last wrote each key's lastUsedAt (the cached copy keeps the value it was read with). */
  private readonly keyUseWritten = new LRUCache<string, number>({ max: 10_000 });

  constructor(
    private readonly db: DataSource,
    private readonly options: { jwtSecret: string; jwtTtlSeconds: number; attemptsPerMinute: number },
    private readonly clock: Clock,
    private readonly limiter: RateLimiter,
    private readonly stamps: PrincipalStamps,
    private readonly audit: AuditLog,
    private readonly keyAddresses: KnownAddresses,
  ) {
    this.key = createSecretKey(Buffer.from(options.jwtSecret, 'utf8'));
    this.tokens = new VerifiedTokens(this.key);
    this.users = new CachedUsers(db);
    this.apiKeys = new CachedApiKeys(db);
    stamps.onBump((userId) => this.forgetUser(userId));
  }

  /**
   * The user changed (a bump here, or announced by another replica on the
   * stamps' channel): the next request reads the user, and any API key, again.
   */
  forgetUser(userId: string): void {
    this.users.forget(userId);
    this.apiKeys.forgetAll();
  }

  /** Announcements may have been missed (the subscriber reconnected): every user and key is read again. */
  forgetAllUsers(): void {
    this.users.forgetAll();
    this.apiKeys.forgetAll();
  }

  /**
   * Sign-up and sign-in run argon2 and reveal whether a password is right, so
   * they are throttled per address (an IPv6 one per /64: clientNetworkOf) and sign-in per account, before any work.
   */
  private async throttle(kind: 'register' | 'login', clientIp: string | undefined, email?: string): Promise<void> {
    const subjects = [...addressSubjects(clientIp), ...(email ? [`email:${email}`] : [])];
    await this.limiter.hit(kind === 'login' ? 'login' : 'register', subjects, this.options.attemptsPerMinute);
  }

  async register(emailRaw: string, password: string, displayName?: string | null, origin: RequestOrigin = {}): Promise<{ token: string; user: User }> {
    await this.throttle('register', origin.ip ?? undefined);
    const email = normaliseEmail(emailRaw);
    checkPassword(password);
    const name = displayName?.trim() || null;
    if (name && name.length > 80) throw badInput('displayName', 'Display name must be at most 80 characters');
    const users = this.db.getRepository(User);
    if (await users.existsBy({ email })) throw new AppError('CONFLICT', 'An account with this email already exists', { field: 'email' });
    const user = users.create({ email, displayName: name, passwordHash: await argonHash(password), role: Role.EDITOR });
    try {
      await users.insert(user);
    } catch (error) {
      // Two concurrent registrations: the unique index decides.
      if ((error as { code?: string }).code === '23505') {
        throw new AppError('CONFLICT', 'An account with this email already exists', { field: 'email' });
      }
      throw error;
    }
    await this.audit.record({ kind: AuditEventKind.ACCOUNT_CREATED, actorId: user.id, origin, details: { email } });
    return { token: this.issueToken(user), user };
  }

  /** Every outcome is audited: success, wrong password, unknown email, throttled. */
  async login(emailRaw: string, password: string, origin: RequestOrigin = {}): Promise<{ token: string; user: User }> {
    const email = emailRaw.trim().toLowerCase();
    const failed = (reason: string, actorId: string | null = null) =>
      this.audit.record({ kind: AuditEventKind.SIGN_IN_FAILED, actorId, origin, reason, details: { email } });
    try {
      await this.throttle('login', origin.ip ?? undefined, email);
    } catch (error) {
      await failed('RATE_LIMITED');
      throw error;
    }
    const user = await this.db.getRepository(User).findOneBy({ email });
    // Same message whether the email or the password is wrong, or the account signs in only through single sign-on;
    // the audit log tells them apart.
    if (!user?.passwordHash || !(await argonVerify(user.passwordHash, password))) {
      await failed(!user ? 'UNKNOWN_EMAIL' : user.passwordHash ? 'WRONG_PASSWORD' : 'NO_PASSWORD', user?.id ?? null);
      throw unauthenticated('Email or password is incorrect');
    }
    await this.audit.record({ kind: AuditEventKind.SIGN_IN_SUCCEEDED, actorId: user.id, origin });
    return { token: this.issueToken(user), user };
  }

  /**
   * Single sign-on: the provider vouched for this email, so it opens the
   * account that has it (linking a password account), or a new one (EDITOR,
   * default tier, no password). Throttled by the caller, before the exchange.
   */
  async accountForVerifiedEmail(emailRaw: string, displayName: string | null, origin: RequestOrigin = {}): Promise<User> {
    const email = normaliseEmail(emailRaw);
    const users = this.db.getRepository(User);
    const existing = await users.findOneBy({ email });
    if (existing) return existing;
    const user = users.create({ email, displayName: displayName?.trim().slice(0, 80) || null, passwordHash: null, role: Role.EDITOR });
    try {
      await users.insert(user);
    } catch (error) {
      // Two first sign-ins at once: the unique index decides, both get the one account.
      if ((error as { code?: string }).code === '23505') return users.findOneByOrFail({ email });
      throw error;
    }
    await this.audit.record({ kind: AuditEventKind.ACCOUNT_CREATED, actorId: user.id, origin, details: { email, source: 'oidc' } });
    return users.findOneByOrFail({ id: user.id });
  }

  /** A token for an account found by id (a redeemed sign-in code); null when the account is gone. */
  async signInById(userId: string): Promise<{ token: string; user: User } | null> {
    const user = await this.db.getRepository(User).findOneBy({ id: userId });
    return user ? { token: this.issueToken(user), user } : null;

  }

  /** Changes the caller's own password after checking the current one (throttled like sign-in). */
  async changePassword(user: User, currentPassword: string, newPassword: string, origin: RequestOrigin = {}): Promise<boolean> {
    const failed = (reason: string) => this.audit.record({ kind: AuditEventKind.PASSWORD_CHANGE_FAILED, actorId: user.id, origin, reason });
    try {
      await this.throttle('login', origin.ip ?? undefined, user.email);
    } catch (error) {
      await failed('RATE_LIMITED');
      throw error;
    }
    const stored = await this.db.getRepository(User).findOneByOrFail({ id: user.id });
    // An account made by single sign-on has no password to change here.
    if (!stored.passwordHash || !(await argonVerify(stored.passwordHash, currentPassword))) {
      await failed('WRONG_PASSWORD');
      throw badInput('currentPassword', 'Current password is incorrect');
    }
    checkPassword(newPassword, 'newPassword');
    // Every token issued before (this request's too, and whoever else holds one) stops working: sign in again.
    await this.db.getRepository(User).update({ id: user.id }, { passwordHash: await argonHash(newPassword), tokenGeneration: () => 'token_generation + 1' });
    // Every replica drops its copy of the user, and the sockets signed in with an old token close (4401).
    await this.stamps.bump(user.id);
    await this.audit.record({ kind: AuditEventKind.PASSWORD_CHANGED, actorId: user.id, origin });
    return true;
  }

  issueToken(user: User): string {
    return jwt.sign({ sub: user.id, gen: user.tokenGeneration ?? 0 }, this.key, {
      algorithm: 'HS256',
      expiresIn: this.options.jwtTtlSeconds,
    });
  }

  /**
   * Resolves an `Authorization` value (with or without `Bearer `) to a viewer.
   * No credentials gives null; bad or revoked credentials throw UNAUTHENTICATED.
   */
  async authenticate(authorization: string | undefined | null, origin: RequestOrigin = {}): Promise<Viewer | null> {
    if (!authorization) return null;
    const token = authorization.replace(/^Bearer\s+/i, '').trim();
    if (!token) return null;
    try {
      return token.startsWith(API_KEY_PREFIX) ? await this.authenticateApiKey(token, origin) : await this.authenticateToken(token);
    } catch (error) {
      const refusal = findAppError(error);
      if (refusal instanceof AuthFailure) {
        await this.audit.record({ kind: AuditEventKind.AUTH_FAILED, actorId: refusal.userId, origin, reason: refusal.reason, details: refusal.details });
      }
      throw error;
    }
  }

  private async authenticateToken(token: string): Promise<Viewer> {
    let payload: jwt.JwtPayload;
    try {
      payload = this.tokens.verify(token);
    } catch (error) {
      if (error instanceof jwt.TokenExpiredError) {
        const sub = (jwt.decode(token) as jwt.JwtPayload | null)?.sub;
        throw new AuthFailure('Token expired: sign in again', 'TOKEN_EXPIRED', isUuid(sub) ? sub : null);
      }
      throw new AuthFailure('Invalid token', 'INVALID_TOKEN');
    }
    // Every token we issue expires and names a user id; anything else was not made here.
    if (typeof payload.exp !== 'number') throw new AuthFailure('Invalid token: it has no expiry', 'NO_EXPIRY');
    const user = isUuid(payload.sub) ? await this.users.byId(payload.sub) : null;
    if (!user) throw new AuthFailure('Invalid token', 'UNKNOWN_USER');
    // Tokens issued before the password last changed (made before generations, none: the first).
    if ((typeof payload.gen === 'number' ? payload.gen : 0) !== user.tokenGeneration) {
      throw new AuthFailure('Token revoked (the password changed): sign in again', 'TOKEN_REVOKED', user.id);
    }
    return { user, apiKeyId: null, expiresAt: payload.exp };
  }

  private async authenticateApiKey(secret: string, origin: RequestOrigin): Promise<Viewer> {
    const key = await this.apiKeys.bySecretHash(sha256(secret));
    const user = key ? await this.users.byId(key.userId) : null;
    if (!key || !user) throw new AuthFailure('Invalid or revoked API key', 'INVALID_API_KEY');
    if (key.revokedAt) throw new AuthFailure('Invalid or revoked API key', 'REVOKED_API_KEY', key.userId, { apiKeyId: key.id });
    const now = this.clock.now().getTime();
    // lastUsedAt is informative: write it at most once a minute per key.
    const lastUsed = Math.max(key.lastUsedAt?.getTime() ?? 0, this.keyUseWritten.get(key.id) ?? 0);
    if (now - lastUsed > 60_000) {
      this.keyUseWritten.set(key.id, now);
      await this.db.getRepository(ApiKey).update({ id: key.id }, { lastUsedAt: new Date(now) });
    }
    if (origin.ip && (await this.keyAddresses.isNew(key.id, origin.ip))) {
      await this.audit.record({ kind: AuditEventKind.API_KEY_NEW_ADDRESS, actorId: key.userId, origin, details: { apiKeyId: key.id, name: key.name } });
    }
    return { user, apiKeyId: key.id, expiresAt: null };
  }

  async createApiKey(user: User, nameRaw: string, origin: RequestOrigin = {}): Promise<{ apiKey: ApiKey; secret: string }> {
    const name = nameRaw.trim();
    if (!name || name.length > 80) throw badInput('name', 'Name must be 1 to 80 characters');
    const secret = API_KEY_PREFIX + randomBytes(32).toString('base64url');
    const apiKey = this.db.getRepository(ApiKey).create({
      userId: user.id,
      name,
      prefix: secret.slice(0, 12),
      secretHash: sha256(secret),
      lastUsedAt: null,
      revokedAt: null,
    });
    await this.db.transaction(async (manager) => {
      // Under the user's row lock, so two creations at once cannot both take the last place.
      await manager.getRepository(User).createQueryBuilder('u').setLock('pessimistic_write').where('u.id = :id', { id: user.id }).getOne();
      const active = await manager.getRepository(ApiKey).countBy({ userId: user.id, revokedAt: IsNull() });
      if (active >= MAX_ACTIVE_API_KEYS) {
        throw quotaExceeded(`You have ${active} API keys that are not revoked, the most an account may hold; revoke one you no longer use first`, MAX_ACTIVE_API_KEYS, null, 'name');
      }
      await manager.getRepository(ApiKey).insert(apiKey);
    });
    await this.audit.record({ kind: AuditEventKind.API_KEY_CREATED, actorId: user.id, origin, details: { apiKeyId: apiKey.id, name, prefix: apiKey.prefix } });
    return { apiKey, secret };
  }

  async revokeApiKey(user: User, id: string, origin: RequestOrigin = {}): Promise<ApiKey> {
    assertUuid('id', id);
    const keys = this.db.getRepository(ApiKey);
    const key = await keys.findOneBy({ id, userId: user.id });
    if (!key) throw notFound('API key');
    if (!key.revokedAt) {
      key.revokedAt = this.clock.now();
      await keys.update({ id }, { revokedAt: key.revokedAt });
      await this.stamps.bump(user.id); // open sockets using the key close
      await this.audit.record({ kind: AuditEventKind.API_KEY_REVOKED, actorId: user.id, origin, details: { apiKeyId: key.id, name: key.name } });
    }
    return key;
  }

  /**
   * The user's keys newest first: every key not revoked (at most
   * MAX_ACTIVE_API_KEYS) and the MAX_LISTED_REVOKED_API_KEYS revoked last, so
   * the answer stays bounded however many keys were made and revoked
   * (docs/limits.md, "API keys").
   */
  listApiKeys(user: User): Promise<ApiKey[]> {
    return this.db.getRepository(ApiKey).createQueryBuilder('k')
      .where('k.userId = :userId', { userId: user.id })
      .andWhere(new Brackets((w) => {
        w.where('k.revokedAt IS NULL').orWhere(`k.id IN (${this.db.getRepository(ApiKey).createQueryBuilder('r').select('r.id')
          .where('r.userId = :userId').andWhere('r.revokedAt IS NOT NULL')
          .orderBy('r.revokedAt', 'DESC').addOrderBy('r.id', 'DESC').limit(MAX_LISTED_REVOKED_API_KEYS).getQuery()})`);
      }))
      .orderBy('k.createdAt', 'DESC').addOrderBy('k.id', 'DESC')
      .getMany();
  }

  /** Creates the admin from configuration, or resets its password and role. */
  async ensureAdmin(emailRaw: string, password: string): Promise<User> {
    const email = normaliseEmail(emailRaw);
    checkPassword(password);
    const users = this.db.getRepository(User);
    const passwordHash = await argonHash(password);
    const existing = await users.findOneBy({ email });
    if (existing) {
      const passwordChanged = !existing.passwordHash || !(await argonVerify(existing.passwordHash, password));
      // A password changed here revokes the admin's tokens issued before, as changePassword does.
      await users.update({ id: existing.id }, { passwordHash, role: Role.ADMIN, ...(passwordChanged ? { tokenGeneration: () => 'token_generation + 1' } : {}) });
      await this.stamps.bump(existing.id);
      const source = { source: 'ATELIER_ADMIN_PASSWORD' };
      if (passwordChanged) await this.audit.record({ kind: AuditEventKind.PASSWORD_CHANGED, targetUserId: existing.id, details: source });
      if (existing.role !== Role.ADMIN) {
        await this.audit.record({ kind: AuditEventKind.ROLE_CHANGED, targetUserId: existing.id, details: { ...source, before: existing.role, after: Role.ADMIN } });
      }
      return { ...existing, passwordHash, role: Role.ADMIN, tokenGeneration: existing.tokenGeneration + (passwordChanged ? 1 : 0) } as User;
    }
    // The operator's own account is not held to FREE limits; an admin can still change it later.
    const admin = users.create({ email, passwordHash, role: Role.ADMIN, tier: Tier.ENTERPRISE, displayName: 'Admin' });
    await users.insert(admin);
    await this.audit.record({ kind: AuditEventKind.ACCOUNT_CREATED, targetUserId: admin.id, details: { email, source: 'ATELIER_ADMIN_EMAIL', role: Role.ADMIN } });
    return admin;
  }
}
