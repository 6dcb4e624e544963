import { randomInt, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { AiModel, Album, AlbumRole, AlbumShare, Job, JobStatus, Lora, Preset, TIER_RANK, type User } from '../entities';
import type { GenerationQueue } from '../gpu-worker/queue';
import type { AtelierEvent } from '../gpu-worker/protocol';
import { AppError, badInput, forbidden } from '../schema/errors';
import type { EventLog } from '../subscriptions/event-log';
import type { Logger } from '../observability/logger';
import type { AccessPolicy } from './access';
import type { JobQueries } from './job-queries';
import type { Viewer } from './auth';
import type { Clock } from './clock';
import {
  assertUuid, assertWithinTier, presetDefaults, resolveGenerationParameters, MAX_SEED,
  type GenerationParameters, type GenerationRequestInput,
} from './generation-input';
import type { QuotaService } from './quotas';
import { publishQueuePositions } from './queue-positions';
import type { RateLimiter } from './rate-limits';
import type { FairScheduler } from './scheduling';

export interface JobServiceDeps {
  db: DataSource;
  redis: Redis;
  prefix: string;
  queue: GenerationQueue;
  quotas: QuotaService;
  rateLimiter: RateLimiter;
  scheduler: FairScheduler;
  events: EventLog;
  access: AccessPolicy;
  queries: JobQueries;
  clock: Clock;
  logger: Logger;
}

const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/** Submission, cancellation and retry of generation jobs. */
export class JobService {
  constructor(private readonly deps: JobServiceDeps) {}

  /**
   * Validates, checks permission and quota, writes the row and enqueues in one
   * step, and returns the PENDING job at once. A refusal leaves nothing behind.
   */
  async createGeneration(viewer: Viewer, input: GenerationRequestInput, idempotencyKey: string | null, requestId: string | null): Promise<Job> {
    const { user } = viewer;
    if (idempotencyKey != null && (idempotencyKey.length < 1 || idempotencyKey.length > 200)) {
      throw badInput('idempotencyKey', 'idempotencyKey must be 1 to 200 characters');
    }
    const policy = await this.deps.quotas.policyFor(user.tier);
    await this.deps.rateLimiter.hit('generations', rateSubjects(viewer), this.deps.quotas.rateLimitsOf(user, policy).generationsPerMinute);
    const preset = input.presetId ? await this.visiblePreset(user, assertUuid('presetId', input.presetId)) : null;
    const params = resolveGenerationParameters(input, presetDefaults(preset, policy), () => randomInt(0, MAX_SEED + 1) / (MAX_SEED + 1));
    assertWithinTier(params, policy);
    const model = await this.resolveModel(user, params.modelId);
    await this.assertLorasUsable(user, params, model);
    if (input.sessionId) await this.deps.access.assertCanGenerateInto(user, assertUuid('sessionId', input.sessionId));
    if (input.albumId) await this.assertCanAddToAlbum(user, assertUuid('albumId', input.albumId));

    const jobId = randomUUID();
    if (idempotencyKey) {
      const existing = await this.claimIdempotencyKey(user.id, idempotencyKey, jobId);
      if (existing) return existing;
    }
    try {
      await this.deps.quotas.admit(user.id, jobId, params.count, policy);
    } catch (error) {
      if (idempotencyKey) await this.deps.redis.del(this.idempotencyRedisKey(user.id, idempotencyKey));
      throw error;
    }
    let job: Job;
    try {
      const priority = await this.deps.scheduler.priorityFor(policy.queuePriority, user.id);
      job = await this.insertAndEnqueue(jobId, viewer, params, model, { ...input, presetId: preset?.id ?? null }, idempotencyKey, requestId, priority);
    } catch (error) {
      await this.deps.quotas.release(user.id, jobId, this.deps.clock.now(), params.count);
      if (idempotencyKey) await this.deps.redis.del(this.idempotencyRedisKey(user.id, idempotencyKey));
      throw error;
    }
    if (idempotencyKey) {
      await this.deps.redis.set(this.idempotencyRedisKey(user.id, idempotencyKey), jobId, 'EX', IDEMPOTENCY_TTL_SECONDS);
    }
    if (preset) await this.deps.db.getRepository(Preset).increment({ id: preset.id }, 'usageCount', 1);
    const { position, wentAhead } = await this.deps.queries.placeOfNewJob(job);
    await this.publish(job, { type: 'QUEUED', actorId: user.id, totalSteps: job.steps, step: 0, queuePosition: position });
    if (wentAhead) this.announcePositionsSoon();
    this.deps.logger.info({ requestId, jobId, userId: user.id, sessionId: job.sessionId }, 'job queued');
    return job;
  }

  /** Row and queue entry are written so that neither can exist without the other. */
  private async insertAndEnqueue(
    jobId: string, { user, apiKeyId }: Viewer, params: GenerationParameters, model: AiModel, input: GenerationRequestInput,
    idempotencyKey: string | null, requestId: string | null, priority: number,
  ): Promise<Job> {
    const now = this.deps.clock.now();
    const job = this.deps.db.getRepository(Job).create({
      id: jobId, ownerId: user.id, sessionId: input.sessionId ?? null, albumId: input.albumId ?? null,
      modelId: model.id, presetId: input.presetId ?? null, apiKeyId, status: JobStatus.PENDING,
      prompt: params.prompt, negativePrompt: params.negativePrompt, width: params.width, height: params.height,
      steps: params.steps, guidanceScale: params.guidanceScale, seed: params.seed, count: params.count,
      loras: params.loras, idempotencyKey, requestId, priority, step: 0, attempts: 0,
      deadlineAt: params.deadlineSeconds ? new Date(now.getTime() + params.deadlineSeconds * 1000) : null,
      createdAt: now,
    });
    // The queue entry is added inside the transaction: if the add fails nothing
    // commits; if the commit fails the entry is removed. A crash between the two
    // leaves an entry whose row never appears, which the worker discards.
    let enqueued = false;
    try {
      await this.deps.db.transaction(async (manager) => {
        await manager.insert(Job, job);
        await this.deps.queue.add('generate', { jobId, requestId }, { jobId, priority });
        enqueued = true;
      });
    } catch (error) {
      if (enqueued) await this.deps.queue.remove(jobId).catch(() => undefined);
      throw error;
    }
    return job;
  }

  private idempotencyRedisKey(userId: string, key: string): string {
    return `${this.deps.prefix}:idem:${userId}:${key}`;
  }

  /** Claims the key for `jobId`, or returns the job an earlier identical call made. */
  private async claimIdempotencyKey(userId: string, key: string, jobId: string): Promise<Job | null> {
    const redisKey = this.idempotencyRedisKey(userId, key);
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const claimed = await this.deps.redis.set(redisKey, `pending:${jobId}`, 'EX', IDEMPOTENCY_TTL_SECONDS, 'NX');
      if (claimed) return null;
      const value = await this.deps.redis.get(redisKey);
      if (value && !value.startsWith('pending:')) {
        const job = await this.deps.db.getRepository(Job).findOneBy({ id: value, ownerId: userId });
        if (job) return job;
        await this.deps.redis.del(redisKey);
        continue;
      }
      await new Promise((r) => setTimeout(r, 50)); // an identical call is being created right now
    }
    throw new AppError('CONFLICT', 'A request with this idempotencyKey is still being processed', { field: 'idempotencyKey' });
  }

  private async visiblePreset(user: User, presetId: string): Promise<Preset> {
    const preset = await this.deps.db.getRepository(Preset).findOneBy({ id: presetId });
    const visible = preset && (preset.builtIn || preset.ownerId === user.id ||
      (preset.sessionId && (await this.deps.access.sessionRole(preset.sessionId, user.id))));
    if (!preset || !visible) throw badInput('presetId', 'Preset not found');
    return preset;
  }

  private async resolveModel(user: User, modelId: string | null): Promise<AiModel> {
    const models = this.deps.db.getRepository(AiModel);
    const model = modelId ? await models.findOneBy({ id: modelId }) : await models.findOneBy({ isDefault: true, enabled: true });
    if (!model) throw badInput('modelId', modelId ? 'Model not found' : 'No default model is installed');
    if (!model.enabled) throw badInput('modelId', `Model ${model.name} is disabled`);
    if (TIER_RANK[user.tier] < TIER_RANK[model.minTier]) throw forbidden(`Model ${model.name} needs the ${model.minTier} tier`);
    return model;
  }

  private async assertLorasUsable(user: User, params: GenerationParameters, model: AiModel): Promise<void> {
    const repo = this.deps.db.getRepository(Lora);
    for (const [i, applied] of params.loras.entries()) {
      const lora = await repo.findOneBy({ id: applied.loraId });
      const field = `loras[${i}].loraId`;
      if (!lora) throw badInput(field, 'LoRA not found');
      if (!lora.active) throw badInput(field, `LoRA ${lora.name} is inactive`);
      if (lora.baseModelId !== model.id) throw badInput(field, `LoRA ${lora.name} is for another base model`);
      if (TIER_RANK[user.tier] < TIER_RANK[lora.minTier]) throw forbidden(`LoRA ${lora.name} needs the ${lora.minTier} tier`);
    }
  }

  private async assertCanAddToAlbum(user: User, albumId: string): Promise<void> {
    const album = await this.deps.db.getRepository(Album).findOneBy({ id: albumId });
    if (!album) throw badInput('albumId', 'Album not found');
    if (album.ownerId === user.id) return;
    const share = await this.deps.db.getRepository(AlbumShare).findOneBy({ albumId, userId: user.id });
    if (!share) throw badInput('albumId', 'Album not found');
    if (share.role !== AlbumRole.EDITOR) throw forbidden('You can only view this album');
  }

  /** Cancels a pending job at once; a running one stops at its next step. */
  async cancelJob(viewer: Viewer, jobId: string): Promise<Job> {
    const job = await this.deps.access.assertCanControlJob(viewer.user, assertUuid('id', jobId));
    if (job.status === JobStatus.PENDING) {
      const queued = await this.deps.queue.getJob(jobId);
      const removed = queued ? await queued.remove().then(() => true, () => false) : true;
      if (removed) {
        const now = this.deps.clock.now();
        const result = await this.deps.db.getRepository(Job).update(
          { id: jobId, status: JobStatus.PENDING },
          { status: JobStatus.CANCELLED, completedAt: now },
        );
        if (result.affected) {
          await this.deps.quotas.release(job.ownerId, job.id, job.createdAt, job.count);
          const cancelled = { ...job, status: JobStatus.CANCELLED, completedAt: now } as Job;
          await this.publish(cancelled, { type: 'CANCELLED', actorId: viewer.user.id, step: job.step, totalSteps: job.steps });
          await this.announcePositions();
          return cancelled;
        }
      }
    }
    const fresh = await this.deps.db.getRepository(Job).findOneByOrFail({ id: jobId });
    if (fresh.status === JobStatus.COMPLETED || fresh.status === JobStatus.FAILED) {
      throw badInput('id', `Job is already ${fresh.status}`);
    }
    if (fresh.status === JobStatus.CANCELLED) return fresh;
    // Running (or just picked up): the worker polls this flag before every step.
    await this.deps.redis.set(cancelFlagKey(this.deps.prefix, jobId), viewer.user.id, 'EX', 24 * 3600);
    return this.waitForStatus(jobId, [JobStatus.CANCELLED, JobStatus.COMPLETED, JobStatus.FAILED], 3000);
  }

  private async waitForStatus(jobId: string, statuses: JobStatus[], timeoutMs: number): Promise<Job> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.deps.db.getRepository(Job).findOneByOrFail({ id: jobId });
      if (statuses.includes(job.status) || Date.now() > deadline) return job;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Runs a failed or cancelled job again as a new job with the same parameters and seed. */
  async retryJob(viewer: Viewer, jobId: string, requestId: string | null): Promise<Job> {
    const job = await this.deps.access.assertCanControlJob(viewer.user, assertUuid('id', jobId));
    if (job.status !== JobStatus.FAILED && job.status !== JobStatus.CANCELLED) {
      throw badInput('id', `Only FAILED or CANCELLED jobs can be retried; this one is ${job.status}`);
    }
    return this.createGeneration(viewer, {
      prompt: job.prompt, negativePrompt: job.negativePrompt, width: job.width, height: job.height, steps: job.steps,
      guidanceScale: job.guidanceScale, seed: job.seed, count: job.count, modelId: job.modelId, loras: job.loras,
      sessionId: job.sessionId, albumId: job.albumId,
    }, null, requestId);
  }

  private announcePositions(): Promise<void> {
    return publishQueuePositions(this.deps);
  }

  /**
   * A job that went ahead of waiting ones moved them back: tell them, at most
   * once per half second across all replicas (a burst of arrivals makes one
   * announcement, not one per job).
   */
  private announcePositionsSoon(): void {
    const key = `${this.deps.prefix}:positions:pending-announce`;
    void this.deps.redis.set(key, '1', 'PX', 500, 'NX').then((claimed) => {
      if (!claimed) return;
      setTimeout(() => {
        this.announcePositions().catch((err) => this.deps.logger.warn({ err }, 'could not publish queue positions'));
      }, 500).unref();
    }, (err) => this.deps.logger.warn({ err }, 'could not schedule queue positions'));
  }

  async publish(job: Job, event: Omit<AtelierEvent, 'at' | 'jobId' | 'sessionId'>): Promise<void> {
    await this.deps.events.publish({ ...event, at: this.deps.clock.now().toISOString(), jobId: job.id, sessionId: job.sessionId, apiKeyId: job.apiKeyId });
  }
}

export const cancelFlagKey = (prefix: string, jobId: string): string => `${prefix}:cancel:${jobId}`;

/** Who a request counts against for rate limits: the user and, when present, the API key. */
export function rateSubjects(viewer: Viewer): string[] {
  return viewer.apiKeyId ? [`user:${viewer.user.id}`, `key:${viewer.apiKeyId}`] : [`user:${viewer.user.id}`];
}

