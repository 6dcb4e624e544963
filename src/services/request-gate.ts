import type { TierPolicy } from '../entities';
import { addressSubjects } from '../kernel/client-network';
import { ErrorCode, findAppError } from '../kernel/errors';
import type { RequestOrigin } from './audit-log';
import type { AuthService, Viewer } from './auth';
import type { QuotaService } from './quotas';
import type { RateLimiter } from './rate-limits';

/** Who a request counts against for rate limits: the user and, when present, the API key. */
export function rateSubjects(viewer: Viewer): string[] {
  return viewer.apiKeyId ? [`user:${viewer.user.id}`, `key:${viewer.apiKeyId}`] : [`user:${viewer.user.id}`];
}

/**
 * The one way in for every transport (GraphQL over HTTP, graphql-ws, uploads):
 * authenticate the credential, read the caller's tier policy once, and count
 * the request against the per-minute limit of the user and the API key, or,
 * for a caller without a valid credential, of its address.
 */
export class RequestGate {
  constructor(
    private readonly auth: AuthService,
    private readonly quotas: QuotaService,
    private readonly limiter: RateLimiter,
    /** ATELIER_SIGNED_OUT_REQUESTS_PER_MINUTE. */
    private readonly signedOutPerMinute: number,
  ) {}

  /**
   * Authenticates `authorization` (null when anonymous; refusals are audited with `origin`) and throttles the
   * caller: a signed-in one per user and key, a signed-out one or a refused credential per address.
   */
  async admit(authorization: string | null | undefined, origin: RequestOrigin = {}): Promise<Viewer | null> {
    const viewer = await this.authenticate(authorization, origin);
    await this.count(viewer, origin);
    return viewer;
  }

  /**
   * Authenticates `authorization` without counting a request (a graphql-ws connection: its operations are
   * counted, by `count`). A refused credential is a signed-out request all the same: past the address's
   * window it is answered RATE_LIMITED, so a client trying tokens gets nothing more from us
   * (docs/request-limits.md, "Signed-out requests").
   */
  async authenticate(authorization: string | null | undefined, origin: RequestOrigin = {}): Promise<Viewer | null> {
    try {
      return await this.auth.authenticate(authorization, origin);
    } catch (error) {
      if (findAppError(error)?.code === ErrorCode.UNAUTHENTICATED) await this.throttleSignedOut(origin);
      throw error;
    }
  }

  /** Counts one request: against the viewer's limits, or against its address when signed out. */
  async count(viewer: Viewer | null, origin: RequestOrigin = {}): Promise<void> {
    if (viewer) await this.throttle(viewer);
    else await this.throttleSignedOut(origin);
  }

  /** Counts one more request of an already authenticated viewer (each operation on a socket). */
  async throttle(viewer: Viewer): Promise<TierPolicy> {
    const policy = await this.quotas.policyFor(viewer.user.tier);
    viewer.policy = policy;
    // Admins have their own limits instead of their tier's (ATELIER_ADMIN_REQUESTS_PER_MINUTE).
    await this.limiter.hit('requests', rateSubjects(viewer), this.quotas.rateLimitsOf(viewer.user, policy).requestsPerMinute);
    return policy;
  }

  /**
   * Counts one request without a valid credential against its client address (the address sign-in attempts are
   * counted by, per ATELIER_TRUST_PROXY; an IPv6 one by its /64: clientNetworkOf), one round trip; throws
   * RATE_LIMITED past the window.
   */
  async throttleSignedOut(origin: RequestOrigin): Promise<void> {
    await this.limiter.hit('signedOut', addressSubjects(origin.ip), this.signedOutPerMinute);
  }
}
