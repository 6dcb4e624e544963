import type { ErrorCode } from './generated/enums';
import type { AnsweredFailure } from './retries';

/** A GraphQL error's `extensions`, as Atelier formats them. */
interface FormattedError {
  message: string;
  extensions?: { code?: unknown; field?: unknown; retryAfterSeconds?: unknown };
}

/** What an HTTP answer adds to its errors: its status and Retry-After. */
export type AnswerDetails = Partial<AnsweredFailure>;

/**
 * What every SDK call throws: Atelier's `extensions.code` (and `field` for bad
 * input), or NETWORK when no answer came back. `status` is the HTTP status of
 * the answer (null when none came), `retryAfterSeconds` how long the server
 * asked to wait before trying again (RATE_LIMITED, SERVICE_UNAVAILABLE, a
 * QUOTA_EXCEEDED that frees up), else null.
 */
export class AtelierError extends Error {
  readonly status: number | null;
  readonly retryAfterSeconds: number | null;

  constructor(message: string, readonly code: ErrorCode | 'NETWORK', readonly field: string | null = null, details: AnswerDetails = {}) {
    super(message);
    this.name = 'AtelierError';
    this.status = details.status ?? null;
    this.retryAfterSeconds = details.retryAfterSeconds ?? null;
  }

  /** The first error of a GraphQL response; the answer's Retry-After where the error names no wait. */
  static fromGraphQL(errors: readonly FormattedError[], answer: AnswerDetails = {}): AtelierError {
    const [first] = errors;
    const code = typeof first?.extensions?.code === 'string' ? (first.extensions.code as ErrorCode) : 'INTERNAL';
    const field = typeof first?.extensions?.field === 'string' ? first.extensions.field : null;
    const named = first?.extensions?.retryAfterSeconds;
    const retryAfterSeconds = typeof named === 'number' ? named : answer.retryAfterSeconds ?? null;
    return new AtelierError(first?.message ?? 'Unknown GraphQL error', code, field, { status: answer.status, retryAfterSeconds });
  }
}

/** The parts of a Node system error (or one of an AggregateError's) that say what failed where. */
interface SystemErrorLike {
  code?: unknown;
  message?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
  errors?: unknown;
}

function placeOf(error: SystemErrorLike): string | null {
  if (typeof error.address === 'string') {
    const host = error.address.includes(':') ? `[${error.address}]` : error.address;
    return typeof error.port === 'number' ? `${host}:${error.port}` : host;
  }
  return typeof error.hostname === 'string' ? error.hostname : null;
}

/**
 * Why a fetch got no answer. fetch itself says only "fetch failed"; the reason
 * is its `cause`: a system error's code and where it happened
 * (`ECONNREFUSED 127.0.0.1:4000`, both addresses when `localhost` was tried on
 * ::1 and 127.0.0.1, `ENOTFOUND atelier.example`), else the cause's message
 * (a TLS failure), else the error's own.
 */
export function unreachableReason(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause && typeof cause === 'object') {
    const system = cause as SystemErrorLike;
    if (typeof system.code === 'string') {
      const tried = [system, ...(Array.isArray(system.errors) ? system.errors as SystemErrorLike[] : [])];
      const places = [...new Set(tried.map((e) => (e && typeof e === 'object' ? placeOf(e) : null)).filter((p): p is string => p !== null))];
      return places.length ? `${system.code} ${places.join(', ')}` : system.code;
    }
    if (typeof system.message === 'string' && system.message) return system.message;
  }
  return error instanceof Error ? error.message : String(error);
}
