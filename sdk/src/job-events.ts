import { AtelierError } from './errors';
import {
  SdkBatchUpdatedDocument, SdkJobUpdatedDocument, SdkSessionEventsDocument, SdkSessionPositionDocument, SdkTrainingUpdatedDocument,
  type SdkBatchEventFragment, type SdkJobEventFragment, type SdkSessionEventFragment, type SdkTrainingEventFragment,
} from './generated/graphql';
import { resumable, resumes, type ResumeOptions } from './resume';
import type { Transport } from './transport';

/** One step of a job's life: QUEUED, POSITION, STARTED, PROGRESS, then COMPLETED, FAILED or CANCELLED. */
export type JobEvent = SdkJobEventFragment;
/** Everything happening in a session: its jobs' events, members joining and leaving, presence. */
export type SessionEvent = SdkSessionEventFragment;
/** A batch's events: its jobs' events, and BATCH_PROGRESS with the counts after each change. */
export type BatchEvent = SdkBatchEventFragment;
/** A training run's events: QUEUED, STARTED, PROGRESS, EVALUATION, CHECKPOINT, SAMPLE, then COMPLETED, FAILED or CANCELLED. */
export type TrainingEvent = SdkTrainingEventFragment;

/** Event types after which a job's stream ends. */
export const FINAL_EVENT_TYPES: ReadonlySet<JobEvent['type']> = new Set<JobEvent['type']>(['COMPLETED', 'FAILED', 'CANCELLED']);

/** Event types after which a training run's stream ends. */
export const FINAL_TRAINING_EVENT_TYPES: ReadonlySet<TrainingEvent['type']> = new Set<TrainingEvent['type']>(['COMPLETED', 'FAILED', 'CANCELLED']);

/** Whether a batch's event is its last: the counts with a final status. */
export const isFinalBatchEvent = (event: BatchEvent): boolean => event.type === 'BATCH_PROGRESS' && !!event.counts && event.counts.status !== 'RUNNING';

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

/**
 * A session's events (`sessionEvents`) until you stop iterating, resuming after a dropped connection. Without
 * `after`, from where the session's stream stands as the iteration starts (`Session.lastEventId`, read first):
 * a dropped connection before the first event resumes from there too, so nothing is missed.
 */
export async function* sessionEvents(transport: Transport, sessionId: string, options: JobEventOptions = {}): AsyncGenerator<SessionEvent> {
  const open = async function* (after: string | null) {
    for await (const { sessionEvents: event } of transport.subscribe(SdkSessionEventsDocument, { sessionId, after })) yield event;
  };
  // A session the key cannot read gives no position: the subscription then says why (NOT_FOUND, FORBIDDEN).
  const after = options.after ?? (await transport.request(SdkSessionPositionDocument, { id: sessionId })).session?.lastEventId ?? null;
  yield* resumable(open, () => false, isLost, { ...options, after });
}

/** A batch's events until the counts with a final status (`batchUpdated`), resuming after a dropped connection. */
export async function* batchEvents(transport: Transport, batchId: string, options: JobEventOptions = {}): AsyncGenerator<BatchEvent> {
  const open = async function* (after: string | null) {
    for await (const { batchUpdated } of transport.subscribe(SdkBatchUpdatedDocument, { batchId, after })) yield batchUpdated;
  };
  yield* resumable(open, isFinalBatchEvent, isLost, options);
}

/** A training run's events until its final one (`trainingUpdated`), resuming after a dropped connection. */
export async function* trainingEvents(transport: Transport, runId: string, options: JobEventOptions = {}): AsyncGenerator<TrainingEvent> {
  const open = async function* (after: string | null) {
    for await (const { trainingUpdated } of transport.subscribe(SdkTrainingUpdatedDocument, { runId, after })) yield trainingUpdated;
  };
  yield* resumable(open, (event) => FINAL_TRAINING_EVENT_TYPES.has(event.type), isLost, options);
}
