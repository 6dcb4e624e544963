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
