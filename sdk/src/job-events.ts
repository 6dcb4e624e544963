import { AtelierError } from './errors';
import { SdkJobUpdatedDocument, type SdkJobEventFragment } from './generated/graphql';
import type { Transport } from './transport';

/** One step of a job's life: QUEUED, POSITION, STARTED, PROGRESS, then COMPLETED, FAILED or CANCELLED. */
export type JobEvent = SdkJobEventFragment;

/** Event types after which a job's stream ends. */
export const FINAL_EVENT_TYPES: ReadonlySet<JobEvent['type']> = new Set<JobEvent['type']>(['COMPLETED', 'FAILED', 'CANCELLED']);

/** How a job's event stream resumes after a dropped connection. */
export interface JobEventOptions {
  /** Start after this eventId instead of at the job's first event. */
  after?: string | null;
  /** How many times in a row to reconnect before giving up (default 5). */
  reconnectAttempts?: number;
  /** Milliseconds before the first reconnect, doubled each time (default 250). */
  reconnectDelayMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A job's events until its final one. When the socket drops, it subscribes
 * again with `after` = the last eventId it yielded, so the server replays
 * exactly what was missed: no event lost, none twice.
 */
export async function* jobEvents(transport: Transport, jobId: string, options: JobEventOptions = {}): AsyncGenerator<JobEvent> {
  const attempts = options.reconnectAttempts ?? 5;
  let after = options.after ?? null;
  let failures = 0;
  for (;;) {
    try {
      for await (const { jobUpdated: event } of transport.subscribe(SdkJobUpdatedDocument, { jobId, after })) {
        failures = 0;
        after = event.eventId;
        yield event;
        if (FINAL_EVENT_TYPES.has(event.type)) return;
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
