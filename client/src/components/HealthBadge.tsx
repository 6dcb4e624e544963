import type { CircuitState } from '../gql/graphql';
import { poolHealth, type PoolHealth } from '../lib/backends';

const TEXT: Record<PoolHealth, string> = {
  healthy: 'Healthy',
  degraded: 'Degraded',
  down: 'Down',
  unknown: 'No reports',
  local: 'In worker',
};

const STATE_TEXT: Record<CircuitState, string> = { CLOSED: 'closed', HALF_OPEN: 'half-open', OPEN: 'open' };

interface Endpoint {
  url: string;
  health?: { state: CircuitState; inFlight: number; lastError?: string | null } | null;
}

/** A model's pool in one badge; the title lists each endpoint's breaker, jobs in flight and last error. */
export function HealthBadge({ endpoints }: { endpoints: Endpoint[] | null | undefined }) {
  const health = poolHealth(endpoints);
  const detail = (endpoints ?? []).map((e) => e.health
    ? `${e.url}: breaker ${STATE_TEXT[e.health.state]}, ${e.health.inFlight} in flight${e.health.lastError ? `, last error: ${e.health.lastError}` : ''}`
    : `${e.url}: no report yet`).join('\n');
  return <span className={`badge health-${health}`} title={detail || undefined} data-health={health}>{TEXT[health]}</span>;
}
