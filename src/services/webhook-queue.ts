import { randomUUID } from 'node:crypto';
import { Queue, type ConnectionOptions } from 'bullmq';
import type { Logger } from '../observability/logger';
import {
  WEBHOOK_EVENT_TYPES, WEBHOOK_QUEUE, webhookDeliveryJobId, type WebhookEventType, type WebhookJobData, type WebhookQueue,
} from '../kernel/queues';
import type { JobEventType } from '../kernel/events';
import type { WebhookKeys } from './webhook-keys';


/** Tries per webhook delivery in production: the first, then retries with doubling backoff (docs/limits.md). */
export const WEBHOOK_DELIVERY_ATTEMPTS = 8;

/** Retry policy of deliveries: `attempts` tries, the first retry after `backoffMs`, doubling after that. */
export interface WebhookRetryPolicy {
  attempts: number;
  backoffMs: number;
}

/** Eight tries over about four minutes with the default 2 s base (2, 4, … 128 s). */
export const DEFAULT_WEBHOOK_RETRY: WebhookRetryPolicy = { attempts: 8, backoffMs: 2000 };

/** The BullMQ queue of webhook deliveries, under the same prefix as the generation queue. */
export function createWebhookQueue(connection: ConnectionOptions, prefix: string, retry: WebhookRetryPolicy = DEFAULT_WEBHOOK_RETRY): WebhookQueue {
  return new Queue<WebhookJobData, string, 'deliver'>(WEBHOOK_QUEUE, {
    connection,
    prefix: `${prefix}:bull`,
    defaultJobOptions: {
      attempts: retry.attempts,
      backoff: { type: 'exponential', delay: retry.backoffMs },
      // Kept a day: the deterministic job id dedupes a repeated event (a recovered job's second STARTED) meanwhile.
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });
}


const isWebhookEvent = (type: string): type is WebhookEventType => (WEBHOOK_EVENT_TYPES as readonly string[]).includes(type);

/**
 * Told of every job transition by the job lifecycle (src/services/job-lifecycle.ts):
 * enqueues a webhook delivery for the state changes integrators hear about.
 * A job submitted with an API key costs one Redis round trip (is the key in
 * the set of keys with a webhook, WebhookKeys), and a delivery only when it
 * may have one; the delivery worker reads the webhook when it runs.
 */
export class JobLifecycleNotifier {
  constructor(private readonly queue: WebhookQueue, private readonly keys: WebhookKeys, private readonly logger: Logger) {}

  async notify(job: { id: string; apiKeyId: string | null }, type: JobEventType, at: string): Promise<void> {
    // Only jobs submitted with an API key can have a webhook; others cost nothing here.
    if (!job.apiKeyId || !isWebhookEvent(type)) return;
    const data: WebhookJobData = { deliveryId: randomUUID(), jobId: job.id, type, eventAt: at };
    try {
      if (!(await this.keys.mayHaveWebhook(job.apiKeyId))) return;
      await this.queue.add('deliver', data, { jobId: webhookDeliveryJobId(job.id, type) });
    } catch (err) {
      // The event itself is already logged for subscribers; a lost webhook must not fail the job's lifecycle.
      this.logger.warn({ err, jobId: job.id, type }, 'webhook delivery could not be enqueued');
    }
  }
}
