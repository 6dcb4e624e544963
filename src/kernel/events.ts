/**
 * Live events: what the API and the workers publish, what the event log
 * stores, and what `jobUpdated` / `sessionEvents` deliver. A discriminated
 * union keyed by `type`, so the compiler says which fields each event carries
 * (docs/architecture.md, "Contracts"). The GraphQL enum `EventType` is built
 * from `EVENT_TYPES`.
 */
import type { JobFailureCode } from './errors';

/** Events in one job's life, in the order they can happen. */
export const JOB_EVENT_TYPES = ['QUEUED', 'POSITION', 'STARTED', 'PROGRESS', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
/** Events only sessions have. */
export const SESSION_EVENT_TYPES = ['MEMBER_JOINED', 'MEMBER_LEFT', 'PRESENCE'] as const;
/** A batch's counts after one of its jobs changed state (docs/batches.md). */
export const BATCH_EVENT_TYPES = ['BATCH_PROGRESS'] as const;
export const EVENT_TYPES = [...JOB_EVENT_TYPES, ...SESSION_EVENT_TYPES, ...BATCH_EVENT_TYPES] as const;

export type JobEventType = (typeof JOB_EVENT_TYPES)[number];
export type SessionEventType = (typeof SESSION_EVENT_TYPES)[number];
export type BatchEventType = (typeof BATCH_EVENT_TYPES)[number];
export type EventType = (typeof EVENT_TYPES)[number];

export const FINAL_EVENT_TYPES: ReadonlySet<EventType> = new Set<EventType>(['COMPLETED', 'FAILED', 'CANCELLED']);

interface EventBase {
  /** ISO timestamp. */
  at: string;
  /** The user whose action caused the event (job owner, joining member, …). */
  actorId: string | null;
}

/** Every job event names its job, the session it runs in (if any) and the API key it came with (webhooks). */
interface JobEventBase extends EventBase {
  jobId: string;
  sessionId: string | null;
  apiKeyId?: string | null;
  /** The batch the job belongs to: the event also goes to the batch's stream. */
  batchId?: string | null;
}

interface SessionEventBase extends EventBase {
  jobId: null;
  sessionId: string;
}

/** A job's failure as events and `Job.error` carry it. */
export interface JobFailure {
  code: JobFailureCode;
  message: string;
}

/**
 * Why a job that had started waits in the queue again (docs/architecture.md, "Back in the queue"): its
 * worker stopped without handing it back (it died, lost its queue lock, or lost PostgreSQL or Redis mid-job)
 * and the job was found stalled; its worker handed it back (shutting down); or its run failed in a way that
 * is tried again.
 */
export const REQUEUE_REASONS = ['WORKER_LOST', 'HANDED_BACK', 'RETRY'] as const;
export type RequeueReason = (typeof REQUEUE_REASONS)[number];

/** A job waiting in the queue: its first QUEUED, or, with `requeueReason`, one after a run that did not finish. */
export type QueuedEvent = JobEventBase & { type: 'QUEUED'; step: 0; totalSteps: number; queuePosition: number; requeueReason?: RequeueReason };
export type PositionEvent = JobEventBase & { type: 'POSITION'; step: 0; totalSteps: number; queuePosition: number; etaMs?: number };
export type StartedEvent = JobEventBase & { type: 'STARTED'; step: 0; totalSteps: number };
export type ProgressEvent = JobEventBase & {
  type: 'PROGRESS'; step: number; totalSteps: number; elapsedMs: number; etaMs: number;
  /** Small PNG preview of the latent, as a data URL (published live, not stored). */
  preview?: string;
};
export type CompletedEvent = JobEventBase & { type: 'COMPLETED'; step: number; totalSteps: number; imageIds: string[] };
export type FailedEvent = JobEventBase & { type: 'FAILED'; totalSteps: number; error: JobFailure };
export type CancelledEvent = JobEventBase & { type: 'CANCELLED'; totalSteps: number; step?: number };
export type MemberEvent = SessionEventBase & { type: 'MEMBER_JOINED' | 'MEMBER_LEFT' };
export type PresenceEvent = SessionEventBase & { type: 'PRESENCE'; /** User ids connected now. */ online: string[] };

/** Where a batch stands: RUNNING while any of its jobs is open, then a final status. */
export type BatchState = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';

/** A batch's counts as BATCH_PROGRESS carries them. */
export interface BatchCounts {
  total: number;
  completed: number;
  failed: number;
  cancelled: number;
  status: BatchState;
}

/** Published after every state change of a batch's jobs (and once when the batch is created). */
export type BatchProgressEvent = EventBase & { type: 'BATCH_PROGRESS'; jobId: null; sessionId: string | null; batchId: string; counts: BatchCounts };

export type JobLifecycleEvent = QueuedEvent | PositionEvent | StartedEvent | ProgressEvent | CompletedEvent | FailedEvent | CancelledEvent;
export type SessionOnlyEvent = MemberEvent | PresenceEvent;
export type AtelierEvent = JobLifecycleEvent | SessionOnlyEvent | BatchProgressEvent;

/** An event with the id the event log gave it (usable as `after`). */
export type LoggedEvent = AtelierEvent & { eventId: string };

/** Every field any event may carry, for readers that handle all types alike (the GraphQL event types). */
export type AnyEventFields = Partial<
  Omit<ProgressEvent, 'type'> & Omit<CompletedEvent, 'type'> & Omit<FailedEvent, 'type'> & Omit<PresenceEvent, 'type' | 'jobId' | 'sessionId'>
> & {
  type: EventType; at: string; jobId: string | null; sessionId: string | null; actorId: string | null; queuePosition?: number;
  requeueReason?: RequeueReason;
  batchId?: string | null; counts?: BatchCounts;
};

export const isJobEvent = (event: AtelierEvent): event is JobLifecycleEvent => event.jobId !== null;

/**
 * The event streams: a job's, a session's and a batch's (an AtelierEvent goes
 * to those of `topicsOf`, one topic map for publishers and subscribers), and
 * a training run's (its own event union, published apart).
 */
export type StreamKind = TopicKind | 'training';
export type TopicKind = 'job' | 'session' | 'batch';

export function topicsOf(event: AtelierEvent): { kind: TopicKind; id: string }[] {
  const topics: { kind: TopicKind; id: string }[] = [];
  if (event.jobId) topics.push({ kind: 'job', id: event.jobId });
  if (event.sessionId) topics.push({ kind: 'session', id: event.sessionId });
  const batchId = 'batchId' in event ? event.batchId : null;
  if (batchId) topics.push({ kind: 'batch', id: batchId });
  return topics;
}

/**
 * How an event is ordered against others under `key` (the event log's append
 * script keeps the key's rank). A ranked event supersedes the earlier ones of
 * its kind: it is appended only above the key's rank, which it then becomes,
 * so a publisher that computed it earlier but got to append it later drops it
 * (BATCH_PROGRESS; `appendedOnce`: rank 0 on a key of its own). A counted event is appended once per `member`: it
 * adds its `member` to the set `counter` (a member already there drops it)
 * and raises the key's rank to 2 × the set's size − 1, so a ranked event
 * published after it must rank higher than that (batch-progress.ts: counts
 * that leave out a job whose final event is already out are stale).
 */
export type EventOrder = RankedOrder | CountedOrder;
type CountedOrder = { key: string; counter: string; member: string };
/**
 * `notAfter`: the event is dropped too once the event that order names was
 * appended (a requeued job's QUEUED never comes after the job's final event,
 * docs/architecture.md "Back in the queue").
 */
type RankedOrder = { key: string; rank: number; notAfter?: { key: string; rank: number } | CountedOrder };

/** An event appended once under `key`, however often it is published: a job's or a run's final event. */
export function appendedOnce(key: string): EventOrder {
  return { key, rank: 0 };
}

/** What services publish through; the event log (subscriptions/) implements it. */
export interface EventPublisher {
  /** `order`: append only if newer than what was appended under its key (then the result is empty when dropped). */
  publish(event: AtelierEvent, order?: EventOrder): Promise<{ jobEventId?: string; sessionEventId?: string }>;
  /**
   * Several events of one job, in order, in one append (its steps sent
   * together); with `notAfter`, none once the event of that order is in.
   */
  publishAll(events: readonly AtelierEvent[], notAfter?: EventOrder): Promise<void>;
}

/** What a job's stream already holds (the event log implements it). */
export interface JobEventHistory {
  /** Whether the job's stream holds an event of `type` among its first entries. */
  hasJobEvent(jobId: string, type: JobEventType): Promise<boolean>;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A job event as its publisher states it; the job's ids and the time are filled in from the job row. */
export type JobEventBody = DistributiveOmit<JobLifecycleEvent, 'at' | 'jobId' | 'sessionId' | 'apiKeyId' | 'actorId'>;

// ---- Training runs ------------------------------------------------------------

/** Events in one training run's life (`trainingUpdated`), kept apart from job events: a run is not a job. */
export const TRAINING_EVENT_TYPES = ['QUEUED', 'STARTED', 'PROGRESS', 'EVALUATION', 'SAMPLE', 'CHECKPOINT', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export type TrainingEventType = (typeof TRAINING_EVENT_TYPES)[number];
export const FINAL_TRAINING_EVENT_TYPES: ReadonlySet<TrainingEventType> = new Set<TrainingEventType>(['COMPLETED', 'FAILED', 'CANCELLED']);

interface TrainingEventBase extends EventBase {
  runId: string;
  /** Steps done so far and in all. */
  step: number;
  totalSteps: number;
}

export type TrainingQueuedEvent = TrainingEventBase & { type: 'QUEUED' };
/** `resumedFrom`: the checkpoint step a worker continued from after another one stopped. */
export type TrainingStartedEvent = TrainingEventBase & { type: 'STARTED'; resumedFrom: number | null };
export type TrainingProgressEvent = TrainingEventBase & { type: 'PROGRESS'; loss: number; learningRate: number; etaMs: number };
/**
 * The loss on the run's fixed evaluation draw with the weights of `step`:
 * comparable between steps, unlike PROGRESS's per-step loss (docs/training.md, "Losses reported").
 */
export type TrainingEvaluationEvent = TrainingEventBase & { type: 'EVALUATION'; evaluationLoss: number };
/** Images rendered with the weights of `step`, one per sample prompt (artifact store keys). */
export type TrainingSampleEvent = TrainingEventBase & { type: 'SAMPLE'; samples: { prompt: string; key: string }[] };
export type TrainingCheckpointEvent = TrainingEventBase & { type: 'CHECKPOINT' };
export type TrainingCompletedEvent = TrainingEventBase & { type: 'COMPLETED'; loraId: string; finalLoss: number };
export type TrainingFailedEvent = TrainingEventBase & { type: 'FAILED'; error: JobFailure };
export type TrainingCancelledEvent = TrainingEventBase & { type: 'CANCELLED'; checkpointStep: number | null };

export type TrainingEvent =
  | TrainingQueuedEvent | TrainingStartedEvent | TrainingProgressEvent | TrainingEvaluationEvent | TrainingSampleEvent
  | TrainingCheckpointEvent | TrainingCompletedEvent | TrainingFailedEvent | TrainingCancelledEvent;

/** A training event with the id the event log gave it (usable as `after`). */
export type LoggedTrainingEvent = TrainingEvent & { eventId: string };

/** A training event as its publisher states it; time, run and actor are filled in from the run. */
export type TrainingEventBody = DistributiveOmit<TrainingEvent, 'at' | 'runId' | 'actorId'>;

/** What the training service publishes through; the event log implements it (one stream per run). */
export interface TrainingEventPublisher {
  /** `order`: as `EventPublisher.publish`'s (the result is undefined when dropped). */
  publishTraining(event: TrainingEvent, order?: EventOrder): Promise<string | undefined>;
}
