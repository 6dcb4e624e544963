import { randomInt, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { DataSource, In } from 'typeorm';
import { AiModel, Album, AlbumShare, InferenceBackend, Job, JobStatus, Lora, Preset, type User } from '../entities';
import { GENERATION_LIMITS } from '../kernel/generation-parameters';
import { assertUuid } from '../kernel/ids';
import { cancelFlagKey } from '../kernel/queues';
import { AppError, badInput, forbidden } from '../kernel/errors';
import type { Logger } from '../observability/logger';
import type { AccessPolicy } from './access';
import { AlbumAccessRole, albumRoleWith, allowedWithSessionRole, presetVisibleTo, tierAllows } from './access-rules';
import type { JobQueries } from './job-queries';
import type { Viewer } from './auth';
import type { Clock } from '../kernel/clock';
import {
  assertWithinTier, presetDefaults, resolveGenerationParameters,
  type GenerationParameters, type GenerationRequestInput,
} from './generation-input';
import type { JobLifecycle } from './job-lifecycle';
import type { QuotaService } from './quotas';
import type { RateLimiter } from './rate-limits';
import { rateSubjects } from './request-gate';
import type { FairScheduler } from './scheduling';

export interface JobServiceDeps {
  db: DataSource;
  redis: Redis;
  prefix: string;
  quotas: QuotaService;
  rateLimiter: RateLimiter;
  scheduler: FairScheduler;
  lifecycle: JobLifecycle;
  access: AccessPolicy;
  queries: JobQueries;
  clock: Clock;
  logger: Logger;
}

/** How long an idempotencyKey returns the job it first created (docs/limits.md). */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

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
    const policy = await this.deps.quotas.policyOf(viewer);
    await this.deps.rateLimiter.hit('generations', rateSubjects(viewer), this.deps.quotas.rateLimitsOf(user, policy).generationsPerMinute);
    const preset = input.presetId ? await this.visiblePreset(user, assertUuid('presetId', input.presetId)) : null;
    const params = resolveGenerationParameters(input, presetDefaults(preset, policy), randomFraction);
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
    await this.deps.lifecycle.queued(job, user.id, position, wentAhead);
    this.deps.logger.info({ requestId, jobId, userId: user.id, sessionId: job.sessionId }, 'job queued');
    return job;
  }

  /** Builds the PENDING row; the lifecycle commits it and then adds its queue entry. */
  private async insertAndEnqueue(
    jobId: string, { user, apiKeyId }: Viewer, params: GenerationParameters, model: AiModel, input: GenerationRequestInput,
    idempotencyKey: string | null, requestId: string | null, priority: number,
  ): Promise<Job> {
    const now = this.deps.clock.now();
    const job = this.deps.db.getRepository(Job).create({
      id: jobId, ownerId: user.id, sessionId: input.sessionId ?? null, albumId: input.albumId ?? null,
      modelId: model.id, presetId: input.presetId ?? null, apiKeyId, status: JobStatus.PENDING,
      prompt: params.prompt, negativePrompt: params.negativePrompt, width: params.width, height: params.height,
      steps: params.steps, guidanceScale: params.guidanceScale, seed: params.seed, count: params.count, sampler: params.sampler,
      loras: params.loras, idempotencyKey, requestId, priority, step: 0, attempts: 0,
      deadlineAt: params.deadlineSeconds ? new Date(now.getTime() + params.deadlineSeconds * 1000) : null,
      createdAt: now,
    });
    await this.deps.lifecycle.submit(job);
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
    const visible = preset && await allowedWithSessionRole(presetVisibleTo, preset, user, (sessionId) => this.deps.access.sessionRole(sessionId, user.id));
    if (!preset || !visible) throw badInput('presetId', 'Preset not found');
    return preset;
  }

  private async resolveModel(user: User, modelId: string | null): Promise<AiModel> {
    const models = this.deps.db.getRepository(AiModel);
    const model = modelId ? await models.findOneBy({ id: modelId }) : await models.findOneBy({ isDefault: true, enabled: true });
    if (!model) throw badInput('modelId', modelId ? 'Model not found' : 'No default model is installed');
    if (!model.enabled) throw badInput('modelId', `Model ${model.name} is disabled`);
    if (!tierAllows(user.tier, model.minTier)) throw forbidden(`Model ${model.name} needs the ${model.minTier} tier`);
    return model;
  }

  private async assertLorasUsable(user: User, params: GenerationParameters, model: AiModel): Promise<void> {
    if (params.loras.length === 0) return;
    // Remote backends cannot take Atelier's LoRA files; a ComfyUI workflow carries its own LoraLoader nodes (docs/backends.md).
    if (model.backend !== InferenceBackend.ONNX) {
      throw badInput('loras', `Model ${model.name} runs on ${model.backend}, which takes no LoRAs from Atelier; use an ONNX model or LoraLoader nodes in the workflow`);
    }
    // One query for all of them; errors still name the first LoRA at fault.
    const rows = await this.deps.db.getRepository(Lora).find({
      select: { id: true, name: true, active: true, baseModelId: true, minTier: true },
      where: { id: In(params.loras.map((l) => l.loraId)) },
    });
    for (const [i, applied] of params.loras.entries()) {
      const lora = rows.find((row) => row.id === applied.loraId);
      const field = `loras[${i}].loraId`;
      if (!lora) throw badInput(field, 'LoRA not found');
      if (!lora.active) throw badInput(field, `LoRA ${lora.name} is inactive`);
      if (lora.baseModelId !== model.id) throw badInput(field, `LoRA ${lora.name} is for another base model`);
      if (!tierAllows(user.tier, lora.minTier)) throw forbidden(`LoRA ${lora.name} needs the ${lora.minTier} tier`);
    }
  }

  private async assertCanAddToAlbum(user: User, albumId: string): Promise<void> {
    const album = await this.deps.db.getRepository(Album).findOneBy({ id: albumId });
    if (!album) throw badInput('albumId', 'Album not found');
    const role = await albumRoleWith(album, user.id, async () =>
      (await this.deps.db.getRepository(AlbumShare).findOneBy({ albumId, userId: user.id }))?.role ?? null);
    if (!role) throw badInput('albumId', 'Album not found');
    if (role === AlbumAccessRole.VIEWER) throw forbidden('You can only view this album');
  }

  /** Cancels a pending job at once; a running one stops at its next step. */
  async cancelJob(viewer: Viewer, jobId: string): Promise<Job> {
    const job = await this.deps.access.assertCanControlJob(viewer.user, assertUuid('id', jobId));
    if (job.status === JobStatus.PENDING && (await this.deps.lifecycle.withdraw(job, viewer.user.id))) {
      return this.deps.db.getRepository(Job).findOneByOrFail({ id: jobId });
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
      guidanceScale: job.guidanceScale, seed: job.seed, count: job.count, sampler: job.sampler, modelId: job.modelId, loras: job.loras,
      sessionId: job.sessionId, albumId: job.albumId,
    }, null, requestId);
  }
}

/** A uniform fraction in [0, 1) with as many steps as there are seeds, from the crypto RNG. */
function randomFraction(): number {
  const seeds = GENERATION_LIMITS.seed.max + 1;
  return randomInt(0, seeds) / seeds;
}



