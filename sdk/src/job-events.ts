import { AtelierError } from './errors';
import { SdkJobUpdatedDocument, SdkSessionEventsDocument, type SdkJobEventFragment, type SdkSessionEventFragment } from './generated/graphql';
import { resumable, resumes, type ResumeOptions } from './resume';
import type { Transport } from './transport';

/** One step of a job's life: QUEUED, POSITION, STARTED, PROGRESS, then COMPLETED, FAILED or CANCELLED. */
export type JobEvent = SdkJobEventFragment;
/** Everything happening in a session: its jobs' events, members joining and leaving, presence. */
export type SessionEvent = SdkSessionEventFragment;

/** Event types after which a job's stream ends. */
export const FINAL_EVENT_TYPES: ReadonlySet<JobEvent['type']> = new Set<JobEvent['type']>(['COMPLETED', 'FAILED', 'CANCELLED']);

/** How an event stream resumes after a dropped connection. */
export type JobEventOptions = ResumeOptions;

/**
 * A lost connection (NETWORK) and a stream the server could not go on with (SERVICE_UNAVAILABLE) are resumed
 * (`resumes`); a refusal (UNAUTHENTICATED, RATE_LIMITED, …) is thrown at once.
 */
const isLost = (error: unknown) => error instanceof AtelierError && resumes(error);

/** A job's events until its final one (`jobUpdated`), resuming after a dropped connection. */
export async function* jobEvents(transport: Transport, jobId: string, options: JobEventOptions = {}): AsyncGenerator<JobEvent> {
  const open = async function* (after: string | null) {
    for await (const { jobUpdated } of transport.subscribe(SdkJobUpdatedDocument, { jobId, after })) yield jobUpdated;
  };
  yield* resumable(open, (event) => FINAL_EVENT_TYPES.has(event.type), isLost, options);
}

/** A session's events (`sessionEvents`) until you stop iterating, resuming after a dropped connection. */
export async function* sessionEvents(transport: Transport, sessionId: string, options: JobEventOptions = {}): AsyncGenerator<SessionEvent> {
  const open = async function* (after: string | null) {
    for await (const { sessionEvents: event } of transport.subscribe(SdkSessionEventsDocument, { sessionId, after })) yield event;
  };
  yield* resumable(open, () => false, isLost, options);
}
