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
 * Events of one stream. When `isLost(error)` says the connection dropped (no
 * answer, not a refusal), it subscribes again with `after` = the last eventId
 * it yielded, so the server replays exactly what was missed from its event
 * log: no event lost, none twice. Any other error is thrown at once. The SDK
 * and the MCP server both resume this way.
 */
export async function* resumable<E extends { eventId: string }>(
  open: (after: string | null) => AsyncIterable<E>, isLast: (event: E) => boolean, isLost: (error: unknown) => boolean, options: ResumeOptions = {},
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
      await sleep((options.reconnectDelayMs ?? RESUME_DEFAULTS.reconnectDelayMs) * 2 ** failures);
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
