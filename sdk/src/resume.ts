/** How an event stream resumes after a dropped connection. */
export interface ResumeOptions {
  /** Start after this eventId (for a job: instead of at its first event; for a session: instead of live). */
  after?: string | null;
  /** How many times in a row to reconnect before giving up (default 5). */
  reconnectAttempts?: number;
  /** Milliseconds before the first reconnect, doubled each time (default 250). */
  reconnectDelayMs?: number;
}

/** `ResumeOptions`' defaults. */
export const RESUME_DEFAULTS = { reconnectAttempts: 5, reconnectDelayMs: 250 } as const;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Whether a stream that failed with `error` is subscribed again after its
 * last event: its connection dropped (NETWORK, or the SERVICE_UNAVAILABLE a
 * client makes of it), or the server could not go on with it
 * (SERVICE_UNAVAILABLE: Redis was away when it subscribed, or the server
 * could not give it every event it missed and ended it; the server's
 * docs/operations.md, "A subscription that cannot be caught up"). A refusal
 * (UNAUTHENTICATED, RATE_LIMITED, FORBIDDEN, BAD_USER_INPUT: an `after`
 * whose events are no longer all kept) is not.
 */
export function resumes(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'NETWORK' || code === 'SERVICE_UNAVAILABLE';
}

/** How long to wait before subscribing again after `failures` tries in a row: the backoff, or the server's Retry-After if longer. */
export function resumeDelayMs(failures: number, error: unknown, options: ResumeOptions = {}): number {
  const retryAfter = (error as { retryAfterSeconds?: unknown } | null)?.retryAfterSeconds;
  const backoff = (options.reconnectDelayMs ?? RESUME_DEFAULTS.reconnectDelayMs) * 2 ** failures;
  return Math.max(backoff, typeof retryAfter === 'number' ? retryAfter * 1000 : 0);
}

/**
 * Events of one stream. When `isLost(error)` says it can be resumed (by
 * default `resumes`), it subscribes again with `after` = the last eventId it
 * yielded, so the server replays exactly what was missed from its event log:
 * no event lost, none twice. Any other error is thrown at once. The SDK, the
 * CLI and the MCP server all resume this way.
 */
export async function* resumable<E extends { eventId: string }>(
  open: (after: string | null) => AsyncIterable<E>, isLast: (event: E) => boolean, isLost: (error: unknown) => boolean = resumes,
  options: ResumeOptions = {},
): AsyncGenerator<E> {
  const attempts = options.reconnectAttempts ?? RESUME_DEFAULTS.reconnectAttempts;
  let after = options.after ?? null;
  let failures = 0;
  for (;;) {
    try {
      for await (const event of open(after)) {
        failures = 0;
        after = event.eventId;
        yield event;
        if (isLast(event)) return;
      }
      return;
    } catch (error) {
      if (!isLost(error) || failures >= attempts) throw error;
      await sleep(resumeDelayMs(failures, error, options));
      failures += 1;
    }
  }
}

/**
 * The error code of a live connection the server closed on purpose, by its
 * close code: 4401/4403 the credential was refused or expired
 * (UNAUTHENTICATED), 4429 too many connections (RATE_LIMITED). Null for any
 * other close (1001 "going away", a dropped socket): a lost connection, to
 * resume.
 */
export function refusalOf(closeCode: unknown): 'UNAUTHENTICATED' | 'RATE_LIMITED' | null {
  if (closeCode === 4401 || closeCode === 4403) return 'UNAUTHENTICATED';
  if (closeCode === 4429) return 'RATE_LIMITED';
  return null;
}
