import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import jwt from 'jsonwebtoken';
import { DataSource, IsNull } from 'typeorm';
import { ApiKey, Role, Tier, User, type TierPolicy } from '../entities';
import { AppError, badInput, notFound, unauthenticated } from '../kernel/errors';
import type { Clock } from '../kernel/clock';
import { sha256 } from '../kernel/hashing';
import type { PrincipalStamps } from './principal-stamps';
import { isUuid } from '../kernel/ids';
import type { RateLimiter } from './rate-limits';

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
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;


/** Trims and lower-cases an email; refuses what is not an address. */
export function normaliseEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (email.length > 254 || !EMAIL_RE.test(email)) throw badInput('email', 'Enter a valid email address');
  return email;
}

function checkPassword(password: string): void {
  if (password.length < 8) throw badInput('password', 'Password must be at least 8 characters');
  if (password.length > 256) throw badInput('password', 'Password must be at most 256 characters');
}

export class AuthService {
  /** Parsed once: jsonwebtoken otherwise re-parses a string secret on every sign and verify. */
  private readonly key: KeyObject;

  constructor(
    private readonly db: DataSource,
    private readonly options: { jwtSecret: string; jwtTtlSeconds: number; attemptsPerMinute: number },
    private readonly clock: Clock,
    private readonly limiter: RateLimiter,
    private readonly stamps: PrincipalStamps,
  ) {
    this.key = createSecretKey(Buffer.from(options.jwtSecret, 'utf8'));
  }

  /**
   * Sign-up and sign-in run argon2 and reveal whether a password is right, so
   * they are throttled per address (and sign-in per account) before any work.
   */
  private async throttle(kind: 'register' | 'login', clientIp: string | undefined, email?: string): Promise<void> {
    const subjects = [`ip:${clientIp ?? 'unknown'}`, ...(email ? [`email:${email}`] : [])];
    await this.limiter.hit(kind === 'login' ? 'login' : 'register', subjects, this.options.attemptsPerMinute);
  }

  async register(emailRaw: string, password: string, displayName?: string | null, clientIp?: string): Promise<{ token: string; user: User }> {
    await this.throttle('register', clientIp);
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
    return { token: this.issueToken(user), user };
  }

  async login(emailRaw: string, password: string, clientIp?: string): Promise<{ token: string; user: User }> {
    const email = emailRaw.trim().toLowerCase();
    await this.throttle('login', clientIp, email);
    const user = await this.db.getRepository(User).findOneBy({ email });
    // Same message whether the email or the password is wrong, or the account signs in only through single sign-on.
    if (!user?.passwordHash || !(await argonVerify(user.passwordHash, password))) {
      throw unauthenticated('Email or password is incorrect');
    }
    return { token: this.issueToken(user), user };
  }

  /**
   * Single sign-on: the provider vouched for this email, so it opens the
   * account that has it (linking a password account), or a new one (EDITOR,
   * default tier, no password). Throttled by the caller, before the exchange.
   */
  async accountForVerifiedEmail(emailRaw: string, displayName: string | null): Promise<User> {
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
    return users.findOneByOrFail({ id: user.id });
  }

  /** A token for an account found by id (a redeemed sign-in code); null when the account is gone. */
  async signInById(userId: string): Promise<{ token: string; user: User } | null> {
    const user = await this.db.getRepository(User).findOneBy({ id: userId });
    return user ? { token: this.issueToken(user), user } : null;
  }

  issueToken(user: User): string {
    return jwt.sign({ sub: user.id }, this.key, {
      algorithm: 'HS256',
      expiresIn: this.options.jwtTtlSeconds,
    });
  }

  /**
   * Resolves an `Authorization` value (with or without `Bearer `) to a viewer.
   * No credentials gives null; bad or revoked credentials throw UNAUTHENTICATED.
   */
  async authenticate(authorization: string | undefined | null): Promise<Viewer | null> {
    if (!authorization) return null;
    const token = authorization.replace(/^Bearer\s+/i, '').trim();
    if (!token) return null;
    if (token.startsWith(API_KEY_PREFIX)) return this.authenticateApiKey(token);
    let payload: jwt.JwtPayload;
    try {
      payload = jwt.verify(token, this.key, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    } catch (error) {
      throw unauthenticated(error instanceof jwt.TokenExpiredError ? 'Token expired: sign in again' : 'Invalid token');
    }
    // Every token we issue expires and names a user id; anything else was not made here.
    if (typeof payload.exp !== 'number') throw unauthenticated('Invalid token: it has no expiry');
    const user = isUuid(payload.sub) ? await this.db.getRepository(User).findOneBy({ id: payload.sub }) : null;
    if (!user) throw unauthenticated('Invalid token');
    return { user, apiKeyId: null, expiresAt: payload.exp };
  }

  private async authenticateApiKey(secret: string): Promise<Viewer> {
    const keys = this.db.getRepository(ApiKey);
    const key = await keys.findOne({ where: { secretHash: sha256(secret), revokedAt: IsNull() }, relations: { user: true } });
    if (!key || !key.user) throw unauthenticated('Invalid or revoked API key');
    const now = this.clock.now();
    // lastUsedAt is informative: write it at most once a minute per key.
    if (!key.lastUsedAt || now.getTime() - key.lastUsedAt.getTime() > 60_000) {
      await keys.update({ id: key.id }, { lastUsedAt: now });
    }
    return { user: key.user, apiKeyId: key.id, expiresAt: null };
  }

  async createApiKey(user: User, nameRaw: string): Promise<{ apiKey: ApiKey; secret: string }> {
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
    await this.db.getRepository(ApiKey).insert(apiKey);
    return { apiKey, secret };
  }

  async revokeApiKey(user: User, id: string): Promise<ApiKey> {
    const keys = this.db.getRepository(ApiKey);
    const key = await keys.findOneBy({ id, userId: user.id });
    if (!key) throw notFound('API key');
    if (!key.revokedAt) {
      key.revokedAt = this.clock.now();
      await keys.update({ id }, { revokedAt: key.revokedAt });
      await this.stamps.bump(user.id); // open sockets using the key close
    }
    return key;
  }

  listApiKeys(user: User): Promise<ApiKey[]> {
    return this.db.getRepository(ApiKey).find({ where: { userId: user.id }, order: { createdAt: 'DESC' } });
  }

  /** Creates the admin from configuration, or resets its password and role. */
  async ensureAdmin(emailRaw: string, password: string): Promise<User> {
    const email = normaliseEmail(emailRaw);
    checkPassword(password);
    const users = this.db.getRepository(User);
    const passwordHash = await argonHash(password);
    const existing = await users.findOneBy({ email });
    if (existing) {
      await users.update({ id: existing.id }, { passwordHash, role: Role.ADMIN });
      await this.stamps.bump(existing.id);
      return { ...existing, passwordHash, role: Role.ADMIN } as User;
    }
    // The operator's own account is not held to FREE limits; an admin can still change it later.
    const admin = users.create({ email, passwordHash, role: Role.ADMIN, tier: Tier.ENTERPRISE, displayName: 'Admin' });
    await users.insert(admin);
    return admin;
  }
}
