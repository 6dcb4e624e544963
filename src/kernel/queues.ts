/**
 * The queue contracts shared by the API and the workers: queue names, what
 * rides on each BullMQ entry, and the cancel signal. Both sides import this
 * file, so a change here is checked by the compiler everywhere it matters
 * (docs/architecture.md, "Contracts").
 *
 * Ordering rule: a job's row commits BEFORE its queue entry is added, so a
 * worker that receives an entry always finds its row (no waiting for it). A
 * crash between the commit and the add leaves a PENDING row without an entry;
 * the job reconciler (services/job-reconciler.ts) enqueues it again. An entry
 * whose row is missing (deleted with its owner) is dropped. The entry id is
 * the job id, so adding the same job twice is a no-op.
 */
import type { Queue } from 'bullmq';
import type { JobEventType } from './events';

export const GENERATION_QUEUE = 'generation';

/** What rides on a generation entry. Parameters live in the jobs table (the source of truth). */
export interface GenerationJobData {
  jobId: string;
  /**
   * The job's model, so a worker with it loaded can start the job without
   * reading the row first: the start's UPDATE checks it and returns the row
   * (docs/architecture.md, "The job path"). Absent on entries added before it.
   */
  modelId?: string;
  /** Request id of the mutation that created the job, for log correlation. */
  requestId: string | null;
  /** W3C trace context (`traceparent`, `tracestate`) of the request that enqueued the job. */
  traceContext?: Record<string, string>;
}

export type GenerationQueue = Queue<GenerationJobData, void, 'generate'>;

/** Redis key whose presence asks the worker running `jobId` to stop at its next step. */
export const cancelFlagKey = (prefix: string, jobId: string): string => `${prefix}:cancel:${jobId}`;

export const WEBHOOK_QUEUE = 'webhooks';

/** Job events integrators hear about; PROGRESS and POSITION are too chatty for webhooks. */
export const WEBHOOK_EVENT_TYPES = ['QUEUED', 'STARTED', 'COMPLETED', 'FAILED', 'CANCELLED'] as const satisfies readonly JobEventType[];
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What rides on a webhook delivery entry. The delivery worker reads the job row and key when it sends. */
export interface WebhookJobData {
  /** Stable across retries (the `Atelier-Webhook-Id` header), so receivers can dedupe. */
  deliveryId: string;
  jobId: string;
  type: WebhookEventType;
  /** ISO time of the event (the payload's `createdAt`). */
  eventAt: string;
}

export type WebhookQueue = Queue<WebhookJobData, string, 'deliver'>;

/** BullMQ refuses ':' in custom ids, hence '-'. One delivery entry per job and event type. */
export const webhookDeliveryJobId = (jobId: string, type: WebhookEventType): string => `${jobId}-${type}`;

/** The JSON body POSTed to an integrator's webhook (README, "Webhooks"). */
export interface WebhookPayload {
  /** Delivery id, the same on every retry of one event. */
  id: string;
  /** `ping`, or `job.queued`, `job.started`, `job.completed`, `job.failed`, `job.cancelled`. */
  type: string;
  /** ISO time of the event. */
  createdAt: string;
  data: Record<string, unknown>;
}

export const TRAINING_QUEUE = 'training';

/** What rides on a training entry. The run's configuration lives in the training_runs table. The entry id is the run id. */
export interface TrainingJobData {
  runId: string;
  requestId: string | null;
}

export type TrainingQueue = Queue<TrainingJobData, void, 'train'>;

/** Redis key whose presence asks the worker training `runId` to stop before its next step. */
export const trainingCancelKey = (prefix: string, runId: string): string => `${prefix}:cancel-training:${runId}`;
