/**
 * The contract between the API and the GPU workers: queue name, job payload
 * and the events workers publish. Both sides import this file, so a change
 * here is checked by the compiler everywhere it matters.
 */
export const GENERATION_QUEUE = 'generation';

/** What rides on the BullMQ job. Parameters live in the jobs table (the source of truth). */
export interface GenerationJobData {
  jobId: string;
  /** Request id of the mutation that created the job, for log correlation. */
  requestId: string | null;
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
  /** API key the job was submitted with, if any: its webhook is notified of lifecycle events. */
  apiKeyId?: string | null;
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
