import { DelegateBackoff, handleWhen, retry, type IRetryBackoffContext, type RetryPolicy } from 'cockatiel';

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
 * What a failed call says about its answer: the HTTP status (null when no
 * answer came) and the Retry-After it asked for (null without one).
 * `AtelierError` has both, and so does the CLI's error (src/cli/cli-error.ts),
 * which uses this same policy.
 */
export interface AnsweredFailure {
  status: number | null;
  retryAfterSeconds: number | null;
}

const isAnsweredFailure = (error: unknown): error is AnsweredFailure =>
  typeof error === 'object' && error !== null && 'status' in error && 'retryAfterSeconds' in error;

/**
 * Whether a failed call may be made again. Atelier's "come back later"
 * answers (HTTP 429, and 503 with a Retry-After: RATE_LIMITED,
 * SERVICE_UNAVAILABLE, a QUOTA_EXCEEDED that frees up) come before anything
 * changed, so any call is made again, after the answer's Retry-After. A call
 * that got no answer, or a proxy's 502, 503 or 504 (no Retry-After), may have
 * been carried out: it is made again only when doing it twice is harmless
 * (`repeatable`: a query, a download, a generation with its idempotency key).
 * A wait longer than `maxRetryWaitMs` is not waited for.
 */
export function isRetryable(error: unknown, repeatable: boolean, maxRetryWaitMs: number): boolean {
  if (!isAnsweredFailure(error)) return false;
  const { status, retryAfterSeconds } = error;
  if (retryAfterSeconds !== null && retryAfterSeconds * 1000 > maxRetryWaitMs) return false;
  if (status === 429 || (status === 503 && retryAfterSeconds !== null)) return true;
  return repeatable && (status === null || status === 502 || status === 503 || status === 504);
}

/** The wait before the next attempt: the answer's Retry-After, else an exponential backoff with jitter. */
function delayOf(context: IRetryBackoffContext<unknown>, firstDelayMs: number): number {
  const error = 'error' in context.result ? context.result.error : null;
  if (isAnsweredFailure(error) && error.retryAfterSeconds !== null) return error.retryAfterSeconds * 1000;
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

/** An HTTP answer's status and Retry-After in seconds (Atelier sends a number of seconds; null without one). */
export function answerOf(response: Pick<Response, 'status' | 'headers'>): AnsweredFailure & { status: number } {
  const header = response.headers.get('retry-after');
  const seconds = header === null ? NaN : Number(header);
  return { status: response.status, retryAfterSeconds: Number.isFinite(seconds) && seconds >= 0 ? seconds : null };
}

/** Whether a GraphQL document's text is a query (reading only, so harmless to repeat). */
export const isQueryText = (document: string): boolean => /^\s*(query\b|\{)/.test(document);
