import type { TierPolicy } from '../entities';
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
 * the request against the per-minute limit of the user and the API key.
 */
export class RequestGate {
  constructor(
    private readonly auth: AuthService,
    private readonly quotas: QuotaService,
    private readonly limiter: RateLimiter,
  ) {}

  /** Authenticates `authorization` (null when anonymous; refusals are audited with `origin`) and throttles a signed-in caller. */
  async admit(authorization: string | null | undefined, origin: RequestOrigin = {}): Promise<Viewer | null> {
    const viewer = await this.auth.authenticate(authorization, origin);
    if (viewer) await this.throttle(viewer);
    return viewer;
  }

  /** Counts one more request of an already authenticated viewer (each operation on a socket). */
  async throttle(viewer: Viewer): Promise<TierPolicy> {
    const policy = await this.quotas.policyFor(viewer.user.tier);
    viewer.policy = policy;
    // Admins have their own limits instead of their tier's (ATELIER_ADMIN_REQUESTS_PER_MINUTE).
    await this.limiter.hit('requests', rateSubjects(viewer), this.quotas.rateLimitsOf(viewer.user, policy).requestsPerMinute);
    return policy;
  }
}
