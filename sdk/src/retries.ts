import { DelegateBackoff, handleWhen, retry, type IRetryBackoffContext, type RetryPolicy } from 'cockatiel';
import { AtelierError } from './errors';

/** When a call that failed is made again (`AtelierClientOptions`). */
export interface RetryOptions {
  /** Calls made again after the first, at most (default 2; 0 turns retries off). */
  maxRetries?: number;
  /** The first wait when the answer names none (default 500 ms), doubled each time, with jitter. */
  retryDelayMs?: number;
  /** A Retry-After longer than this (default 60,000 ms) is not waited for: the error is thrown. */
  maxRetryWaitMs?: number;
}

export const RETRY_DEFAULTS: Required<RetryOptions> = { maxRetries: 2, retryDelayMs: 500, maxRetryWaitMs: 60_000 };

/**
 * Whether a failed call may be made again. Atelier's "come back later"
 * answers (HTTP 429 or 503: RATE_LIMITED, SERVICE_UNAVAILABLE, a
 * QUOTA_EXCEEDED that frees up) come before anything changed, so any call is
 * made again, after the answer's Retry-After. A call that got no answer
 * (NETWORK: the connection failed, or a proxy answered without Atelier's body)
 * may have been carried out: it is made again only when doing it twice is
 * harmless (`repeatable`: a query, or a generation with its idempotency key).
 */
export function isRetryable(error: unknown, repeatable: boolean, maxRetryWaitMs: number): boolean {
  if (!(error instanceof AtelierError)) return false;
  if (error.retryAfterSeconds !== null && error.retryAfterSeconds * 1000 > maxRetryWaitMs) return false;
  switch (error.code) {
    case 'NETWORK':
      return repeatable;
    case 'SERVICE_UNAVAILABLE':
    case 'RATE_LIMITED':
      return true;
    case 'QUOTA_EXCEEDED':
      return error.status === 429 && error.retryAfterSeconds !== null;
    default:
      return false;
  }
}

/** The wait before the next attempt: the answer's Retry-After, else an exponential backoff with jitter. */
function delayOf(context: IRetryBackoffContext<unknown>, firstDelayMs: number): number {
  const error = 'error' in context.result ? context.result.error : null;
  if (error instanceof AtelierError && error.retryAfterSeconds !== null) return error.retryAfterSeconds * 1000;
  return firstDelayMs * 2 ** (context.attempt - 1) * (0.5 + Math.random() / 2);
}

/** The cockatiel policy one call runs under. */
export function retryPolicy(options: RetryOptions, repeatable: boolean): RetryPolicy {
  const { maxRetries, retryDelayMs, maxRetryWaitMs } = { ...RETRY_DEFAULTS, ...options };
  return retry(handleWhen((error) => isRetryable(error, repeatable, maxRetryWaitMs)), {
    maxAttempts: maxRetries,
    backoff: new DelegateBackoff((context: IRetryBackoffContext<unknown>) => delayOf(context, retryDelayMs)),
  });
}
