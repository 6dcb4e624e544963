import { AtelierError } from './errors';
import { SdkJobUpdatedDocument, SdkSessionEventsDocument, type SdkJobEventFragment, type SdkSessionEventFragment } from './generated/graphql';
import type { Transport } from './transport';

/** One step of a job's life: QUEUED, POSITION, STARTED, PROGRESS, then COMPLETED, FAILED or CANCELLED. */
export type JobEvent = SdkJobEventFragment;
/** Everything happening in a session: its jobs' events, members joining and leaving, presence. */
export type SessionEvent = SdkSessionEventFragment;

/** Event types after which a job's stream ends. */
export const FINAL_EVENT_TYPES: ReadonlySet<JobEvent['type']> = new Set<JobEvent['type']>(['COMPLETED', 'FAILED', 'CANCELLED']);

/** How an event stream resumes after a dropped connection. */
export interface JobEventOptions {
  /** Start after this eventId (for a job: instead of at its first event; for a session: instead of live). */
  after?: string | null;
  /** How many times in a row to reconnect before giving up (default 5). */
  reconnectAttempts?: number;
  /** Milliseconds before the first reconnect, doubled each time (default 250). */
  reconnectDelayMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Events of one stream. When the socket drops, it subscribes again with
 * `after` = the last eventId it yielded, so the server replays exactly what
 * was missed from its event log: no event lost, none twice.
 */
async function* resumable<E extends { eventId: string }>(
  open: (after: string | null) => AsyncIterable<E>, isLast: (event: E) => boolean, options: JobEventOptions,
): AsyncGenerator<E> {
  const attempts = options.reconnectAttempts ?? 5;
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
      const lost = error instanceof AtelierError && error.code === 'NETWORK';
      if (!lost || failures >= attempts) throw error;
      await sleep((options.reconnectDelayMs ?? 250) * 2 ** failures);
      failures += 1;
    }
  }
}

/** A job's events until its final one (`jobUpdated`), resuming after a dropped connection. */
export async function* jobEvents(transport: Transport, jobId: string, options: JobEventOptions = {}): AsyncGenerator<JobEvent> {
  const open = async function* (after: string | null) {
    for await (const { jobUpdated } of transport.subscribe(SdkJobUpdatedDocument, { jobId, after })) yield jobUpdated;
  };
  yield* resumable(open, (event) => FINAL_EVENT_TYPES.has(event.type), options);
}

/** A session's events (`sessionEvents`) until you stop iterating, resuming after a dropped connection. */
export async function* sessionEvents(transport: Transport, sessionId: string, options: JobEventOptions = {}): AsyncGenerator<SessionEvent> {
  const open = async function* (after: string | null) {
    for await (const { sessionEvents: event } of transport.subscribe(SdkSessionEventsDocument, { sessionId, after })) yield event;
  };
  yield* resumable(open, () => false, options);
}
