import { Worker, type ConnectionOptions, type Job as BullJob } from 'bullmq';
import { DataSource } from 'typeorm';
import { ApiKey, Image, Job } from '../entities';
import type { Logger } from '../observability/logger';
import { closeWorker } from '../redis/worker-close';
import { logRedisErrors } from '../redis/error-log';
import type { AtelierMetrics } from '../observability/metrics';
import type { UrlSigner } from '../storage/artifact-store';
import type { Clock } from '../kernel/clock';
import { sendWebhook, type WebhookPayload } from './webhook-delivery';
import type { WebhookTargets } from './webhook-targets';
import { WEBHOOK_QUEUE, type WebhookJobData } from '../kernel/queues';

export interface WebhookWorkerOptions {
  db: DataSource;
  connection: ConnectionOptions;
  prefix: string;
  urlSigner: UrlSigner;
  /** The SSRF guard: which addresses deliveries may connect to. */
  targets: WebhookTargets;
  clock: Clock;
  logger: Logger;
  /** Deliveries in flight at once; they only wait on the network. */
  concurrency?: number;
  /** Where delivery outcomes and durations are counted (/metrics). */
  metrics?: Pick<AtelierMetrics, 'webhookDeliveries' | 'webhookDuration'>;
}

/** What became of one delivery job (its BullMQ return value). */
export type WebhookOutcome = 'delivered' | 'skipped' | 'gone';

/** A failed attempt: thrown so BullMQ retries it with backoff. */
export class WebhookDeliveryError extends Error {
  override name = 'WebhookDeliveryError';
}

/**
 * Sends queued webhook deliveries. Everything it needs is read from the
 * database at send time (the key may have been revoked or its webhook changed
 * since the event), so any API replica can run it and none keeps state.
 */
export class WebhookWorker {
  private readonly worker: Worker<WebhookJobData, WebhookOutcome>;
  private inFlight = 0;

  constructor(private readonly o: WebhookWorkerOptions) {
    this.worker = new Worker<WebhookJobData, WebhookOutcome>(WEBHOOK_QUEUE, (job) => this.process(job), {
      connection: o.connection,
      prefix: `${o.prefix}:bull`,
      concurrency: o.concurrency ?? 8,
      autorun: true,
    });
    logRedisErrors(this.worker, o.logger, 'webhook worker error');
    this.worker.on('failed', (job, err) => {
      if (!job) return;
      const final = job.attemptsMade >= (job.opts.attempts ?? 1);
      if (final) o.metrics?.webhookDeliveries.inc({ outcome: 'gave_up' });
      o.logger[final ? 'warn' : 'debug']({ jobId: job.data.jobId, type: job.data.type, attempt: job.attemptsMade, err: err.message },
        final ? 'webhook delivery gave up' : 'webhook delivery failed; will retry');
    });
  }

  private async process(bullJob: BullJob<WebhookJobData>): Promise<WebhookOutcome> {
    this.inFlight += 1;
    try {
      return await this.deliver(bullJob);
    } finally {
      this.inFlight -= 1;
    }
  }

  private async deliver(bullJob: BullJob<WebhookJobData>): Promise<WebhookOutcome> {
    const { deliveryId, jobId, type, eventAt } = bullJob.data;
    const job = await this.o.db.getRepository(Job).findOneBy({ id: jobId });
    if (!job?.apiKeyId) return 'skipped';
    const key = await this.o.db.getRepository(ApiKey).findOneBy({ id: job.apiKeyId });
    if (!key || key.revokedAt || !key.webhookUrl || !key.webhookSecret) return 'skipped';

    const payload: WebhookPayload = { id: deliveryId, type: `job.${type.toLowerCase()}`, createdAt: eventAt, data: { job: await this.describe(job) } };
    const attempt = await sendWebhook(key.webhookUrl, key.webhookSecret, payload, this.o.clock.now(), this.o.targets);
    this.o.metrics?.webhookDuration.observe(attempt.durationMs / 1000);
    this.o.metrics?.webhookDeliveries.inc({ outcome: attempt.delivered ? 'delivered' : attempt.statusCode === 410 ? 'gone' : 'failed' });
    if (attempt.delivered) return 'delivered';
    if (attempt.statusCode === 410) {
      // 410 Gone: the receiver asks us to stop. Only if the URL is still the one that answered.
      await this.o.db.getRepository(ApiKey).update({ id: key.id, webhookUrl: key.webhookUrl }, { webhookUrl: null, webhookSecret: null });
      this.o.logger.info({ apiKeyId: key.id }, 'webhook answered 410 Gone: removed');
      return 'gone';
    }
    throw new WebhookDeliveryError(attempt.error ?? 'delivery failed');
  }

  /** The job as the payload shows it: its state now, with signed image URLs (and, for a finished clip, its video's). */
  private async describe(job: Job): Promise<Record<string, unknown>> {
    const images = await this.o.db.getRepository(Image).find({ where: { jobId: job.id }, order: { index: 'ASC' } });
    const now = this.o.clock.now();
    return {
      id: job.id,
      status: job.status,
      seed: job.seed,
      width: job.width,
      height: job.height,
      steps: job.steps,
      error: job.errorCode ? { code: job.errorCode, message: job.errorMessage ?? '' } : null,
      images: images.map((image) => ({
        id: image.id, url: this.o.urlSigner.sign(image.storageKey, now), width: image.width, height: image.height, seed: image.seed,
      })),
      kind: job.kind,
      video: job.video ? {
        url: this.o.urlSigner.sign(job.video.storageKey, now), posterUrl: this.o.urlSigner.sign(job.video.posterKey, now), mimeType: job.video.mimeType,
        durationSeconds: job.video.durationSeconds, fps: job.video.fps, frames: job.video.frames, bytes: job.video.bytes,
      } : null,
    };
  }

  /** Stops taking deliveries and waits for the ones in flight (at most the 10 s HTTP timeout). */
  /** Stops taking deliveries; those in flight get `graceMs` (one cut short is retried: receivers dedupe on its id). */
  close(graceMs = 30_000): Promise<void> {
    return closeWorker(this.worker, { graceMs, running: () => this.inFlight, logger: this.o.logger });
  }
}
