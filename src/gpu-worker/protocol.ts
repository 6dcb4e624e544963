/**
 * The contract between the API and the GPU workers: queue name, job payload
 * and the events workers publish. Both sides import this file, so a change
 * here is checked by the compiler everywhere it matters.
 *
 * Ordering rule: a job's row commits BEFORE its queue entry is added, so a
 * worker that receives an entry always finds its row (no waiting for it). A
 * crash between the commit and the add leaves a PENDING row without an entry;
 * the job reconciler (src/services/job-reconciler.ts) enqueues it again. An
 * entry whose row is missing (the row was deleted with its owner) is dropped.
 * The queue entry id is the job id, so adding the same job twice is a no-op.
 */
export const GENERATION_QUEUE = 'generation';

/** What rides on the BullMQ job. Parameters live in the jobs table (the source of truth). */
export interface GenerationJobData {
  jobId: string;
  /** Request id of the mutation that created the job, for log correlation. */
  requestId: string | null;
  /**
   * W3C trace context (`traceparent`, `tracestate`) of the request that
   * enqueued the job, so the worker's span joins the request's trace.
   * Absent when tracing is off or the job was re-enqueued by the reconciler.
   */
  traceContext?: Record<string, string>;
}

/** Event types shared by `jobUpdated` and `sessionEvents`. */
export type JobEventType = 'QUEUED' | 'POSITION' | 'STARTED' | 'PROGRESS' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
export type SessionOnlyEventType = 'MEMBER_JOINED' | 'MEMBER_LEFT' | 'MEMBER_REMOVED' | 'PRESENCE';
export type EventType = JobEventType | SessionOnlyEventType;

export const FINAL_EVENT_TYPES: ReadonlySet<EventType> = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/** One event as stored in the Redis streams and delivered to subscribers. */
export interface AtelierEvent {
  type: EventType;
  /** ISO timestamp. */
  at: string;
  jobId: string | null;
  sessionId: string | null;
  /** The user whose action caused the event (job owner, joining member, …). */
  actorId: string | null;
  step?: number;
  totalSteps?: number;
  elapsedMs?: number;
  etaMs?: number;
  queuePosition?: number;
  /** Small PNG preview of the latent, as a data URL. */
  preview?: string;
  imageIds?: string[];
  error?: { code: string; message: string };
  /** PRESENCE: user ids connected now. */
  online?: string[];
}

/** An event with the id the event log gave it (usable as `after`). */
export interface LoggedEvent extends AtelierEvent {
  eventId: string;
}
