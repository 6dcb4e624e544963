import type { Redis } from 'ioredis';
import { type CircuitState, type EndpointHealth, worseCircuitState } from '../kernel/backends';

/** A report older than this is from a worker that stopped; it no longer counts. */
export const ENDPOINT_HEALTH_STALE_MS = 60_000;
/** The whole hash of a model nobody reports on any more disappears after a day. */
const KEY_TTL_SECONDS = 24 * 3600;

const key = (prefix: string, modelId: string) => `${prefix}:backend-health:${modelId}`;
const waitingKey = (prefix: string, modelId: string) => `${prefix}:backend-waiting:${modelId}`;
/** One field per endpoint and worker: two workers never overwrite each other's in-flight count. */
const field = (url: string, workerId: string) => `${workerId} ${url}`;

/**
 * Where workers publish the health of each endpoint of a model's pool and the
 * API reads it (`Model.endpoints { url, health }`, systemStats). One Redis hash
 * per model; each worker writes its own view of each endpoint, and a read
 * merges the fresh views: in-flight counts add up, the worst breaker state
 * wins, the latest error and check time are shown (docs/backends.md).
 */
export class EndpointHealthStore {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  /** Records what `workerId` sees of the endpoints of `modelId`. */
  async write(modelId: string, workerId: string, reports: readonly EndpointHealth[]): Promise<void> {
    if (reports.length === 0) return;
    const entries = reports.flatMap((report) => [field(report.url, workerId), JSON.stringify(report)]);
    await this.redis.multi().hset(key(this.prefix, modelId), ...entries).expire(key(this.prefix, modelId), KEY_TTL_SECONDS).exec();
  }

  /** Forgets `workerId`'s reports (a clean shutdown). */
  async remove(modelId: string, workerId: string, urls: readonly string[]): Promise<void> {
    if (urls.length) await this.redis.hdel(key(this.prefix, modelId), ...urls.map((url) => field(url, workerId)));
  }

  /**
   * Says that jobs of `modelId` are held back because every endpoint of its
   * backend is open; the mark lapses by itself `forMs` after the last job saw it.
   */
  async markWaiting(modelId: string, backend: string, forMs: number): Promise<void> {
    await this.redis.set(waitingKey(this.prefix, modelId), backend, 'PX', Math.max(1000, forMs));
  }

  /** The backend that jobs of `modelId` wait for (COMFYUI, OPENAI_IMAGES), or null when they do not wait. */
  waitingFor(modelId: string): Promise<string | null> {
    return this.redis.get(waitingKey(this.prefix, modelId));
  }

  /** The merged health of each endpoint of `modelId` that a worker reported recently, by URL. */
  async read(modelId: string, now = Date.now()): Promise<Map<string, EndpointHealth>> {
    const merged = new Map<string, EndpointHealth>();
    for (const raw of Object.values(await this.redis.hgetall(key(this.prefix, modelId)))) {
      const report = parseReport(raw);
      if (!report || now - Date.parse(report.lastCheckedAt) > ENDPOINT_HEALTH_STALE_MS) continue;
      const seen = merged.get(report.url);
      merged.set(report.url, seen ? mergeReports(seen, report) : report);
    }
    return merged;
  }
}

function mergeReports(a: EndpointHealth, b: EndpointHealth): EndpointHealth {
  const [older, newer] = Date.parse(a.lastCheckedAt) <= Date.parse(b.lastCheckedAt) ? [a, b] : [b, a];
  return {
    url: a.url,
    state: worseCircuitState(a.state, b.state),
    inFlight: a.inFlight + b.inFlight,
    lastError: newer.lastError ?? older.lastError,
    lastCheckedAt: newer.lastCheckedAt,
  };
}

const STATES: ReadonlySet<string> = new Set<CircuitState>(['CLOSED', 'HALF_OPEN', 'OPEN']);

function parseReport(raw: string): EndpointHealth | null {
  try {
    const report = JSON.parse(raw) as EndpointHealth;
    return typeof report.url === 'string' && STATES.has(report.state) ? report : null;
  } catch {
    return null;
  }
}
