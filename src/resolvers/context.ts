import type { TierPolicy } from '../entities';
import type { RequestOrigin } from '../services/audit-log';
import type { Viewer } from '../services/auth';
import type { DomainServices } from '../services/container';
import type { LiveEvents } from '../subscriptions/live-events';
import type { Presence } from '../subscriptions/presence';

/** Everything a request can reach: the domain services plus the live streams built on the event log. */
export type Services = DomainServices & { presence: Presence; live: LiveEvents };
import type { Loaders } from './loaders';

/** Per-request (or per-WebSocket-operation) context handed to every resolver. */
export interface AppContext {
  requestId: string;
  viewer: Viewer | null;
  services: Services;
  loaders: Loaders;
  transport: 'http' | 'ws';
  /** Caller's address (behind a proxy, per ATELIER_TRUST_PROXY); for sign-in throttling and the audit log. */
  clientIp?: string;
  /** Caller's User-Agent header, for the audit log. */
  userAgent?: string;
}

/** Where the request came from, as the audit log records it. */
export function originOf(ctx: Pick<AppContext, 'clientIp' | 'userAgent'>): RequestOrigin {
  return { ip: ctx.clientIp ?? null, userAgent: ctx.userAgent ?? null };
}

/** The viewer, asserted present (shield guarantees it on signed-in fields). */
export function viewerOf(ctx: AppContext): Viewer {
  if (!ctx.viewer) throw new Error('viewer missing on a signed-in field: check the permissions');
  return ctx.viewer;
}

/** The viewer's tier policy, as the RequestGate read it for this request. */
export async function policyOf(ctx: AppContext): Promise<TierPolicy> {
  return ctx.services.quotas.policyOf(viewerOf(ctx));
}
