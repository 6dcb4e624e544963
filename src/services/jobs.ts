import { randomInt, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { DataSource, In } from 'typeorm';
import { AiModel, Album, AlbumShare, Image, InferenceBackend, Job, JobKind, JobStatus, Lora, Preset, PresetCategory, type TierPolicy, type User } from '../entities';
import { GENERATION_LIMITS } from '../kernel/generation-parameters';
import { assertUuid } from '../kernel/ids';
import { cancelFlagKey } from '../kernel/queues';
import { badInput, forbidden, quotaExceeded, stateConflict } from '../kernel/errors';
import type { CachedModels } from './cached-models';
import type { QueuePlace } from './queue-positions';
import { IdempotencyKeys } from './idempotency';
import { runScriptChain } from '../redis/script';
import type { Logger } from '../observability/logger';
import type { AccessPolicy } from './access';
import { AlbumAccessRole, albumRoleWith, allowedWithSessionRole, loraListedFor, loraOpenTo, presetVisibleTo, tierAllows } from './access-rules';
import type { Viewer } from './auth';
import type { Clock } from '../kernel/clock';
import {
  assertWithinTier, presetDefaults, resolveGenerationParameters,
  type GenerationParameters, type GenerationRequestInput,
} from './generation-input';
import type { JobLifecycle } from './job-lifecycle';
import { quotaCharge, type QuotaMeter, type QuotaService } from './quotas';
import { RateLimiter } from './rate-limits';
import { rateSubjects } from './request-gate';
import type { FairScheduler } from './scheduling';
import { resolveVideoRequest, type VideoRequestInput, type VideoSettings } from './video-input';
import { visibleImageIds } from './image-access';

export interface JobServiceDeps {
  db: DataSource;
  redis: Redis;
  prefix: string;
  quotas: QuotaService;
  rateLimiter: RateLimiter;
  scheduler: FairScheduler;
  lifecycle: JobLifecycle;
  access: AccessPolicy;
  clock: Clock;
  logger: Logger;
  /** The models submissions name, kept a second per process. */
  models: CachedModels;
}

/** The clip columns of a VIDEO job's row. */
/** A clip's columns, and whether its model was named (by the caller or its preset) rather than the default's or its source image's. */
type ClipColumns = VideoSettings & { sourceImageId: string | null; modelNamed: boolean };

export { IDEMPOTENCY_TTL_SECONDS } from './idempotency';

/** An image job's parameters: the input over the preset's defaults, within the limits and the tier. */
function imageParameters(input: GenerationRequestInput, preset: Preset | null, policy: TierPolicy): GenerationParameters {
  const params = resolveGenerationParameters(input, presetDefaults(preset, policy), randomFraction);
  assertWithinTier(params, policy);
  return params;
}

/** Submission, cancellation and retry of generation jobs. */
export class JobService {
  private readonly idempotency: IdempotencyKeys;

  /** QUEUED appends issued and not yet done (`announce`). */
  private readonly announcing = new Set<Promise<void>>();

  constructor(private readonly deps: JobServiceDeps) {
    this.idempotency = new IdempotencyKeys(deps.redis, `${deps.prefix}:idem`);
  }

  /**
   * Validates, checks permission and quota, writes the row and enqueues in one
   * step, and returns the PENDING job at once. A refusal leaves nothing behind.
   */
  async createGeneration(viewer: Viewer, input: GenerationRequestInput, idempotencyKey: string | null, requestId: string | null): Promise<Job> {
    const { policy, preset } = await this.begin(viewer, input.presetId, idempotencyKey);
    // A VIDEO preset makes a clip: its duration and fps apply (docs/video.md).
    if (preset?.category === PresetCategory.VIDEO) return this.submitVideo(viewer, policy, preset, input, idempotencyKey, requestId);
    const params = imageParameters(input, preset, policy);
    return this.submit(viewer, policy, params, { ...input, presetId: preset?.id ?? null }, idempotencyKey, requestId, null);
  }

  /**
   * A VIDEO job: a clip of `durationSeconds` at `fps` (or a VIDEO preset's),
   * optionally animated from an image (its prompt, seed and settings).
   * Counted against the tier's video seconds per day, not its images.
   */
  async createVideo(viewer: Viewer, input: VideoRequestInput, idempotencyKey: string | null, requestId: string | null): Promise<Job> {
    const { policy, preset } = await this.begin(viewer, input.presetId, idempotencyKey);
    if (preset && preset.category !== PresetCategory.VIDEO) throw badInput('presetId', `Preset ${preset.name} is not a VIDEO preset`);
    return this.submitVideo(viewer, policy, preset, input, idempotencyKey, requestId);
  }

  /**
   * What every submission does first: the key's shape, the caller's tier
   * policy, then the preset. The per-minute limit is counted with admission,
   * once the request has passed every check (`submit`).
   */
  private async begin(viewer: Viewer, presetId: string | null | undefined, idempotencyKey: string | null): Promise<{ policy: TierPolicy; preset: Preset | null }> {
    IdempotencyKeys.check(idempotencyKey);
    const policy = await this.deps.quotas.policyOf(viewer);
    const preset = presetId ? await this.visiblePreset(viewer.user, assertUuid('presetId', presetId)) : null;
    return { policy, preset };
  }

  private async submitVideo(
    viewer: Viewer, policy: TierPolicy, preset: Preset | null, input: VideoRequestInput, idempotencyKey: string | null, requestId: string | null,
  ): Promise<Job> {
    const source = input.fromImageId ? await this.visibleImage(viewer.user, assertUuid('fromImageId', input.fromImageId)) : null;
    const { params, video } = resolveVideoRequest(input, preset, source, policy, randomFraction);
    return this.submit(viewer, policy, params, { ...input, prompt: params.prompt, presetId: preset?.id ?? null }, idempotencyKey, requestId,
      { ...video, sourceImageId: source?.id ?? null, modelNamed: Boolean(input.modelId ?? preset?.modelId) });
  }

  private async visibleImage(user: User, imageId: string): Promise<Image> {
    const image = await this.deps.db.getRepository(Image).findOneBy({ id: imageId });
    if (!image || !(await visibleImageIds(this.deps.db, user, [imageId])).has(imageId)) throw badInput('fromImageId', 'Image not found');
    return image;
  }

  /**
   * Checks model, LoRAs, session and album, then admits against the quotas
   * (images, or video seconds), writes the row and enqueues in one step, and
   * returns the PENDING job at once. A refusal leaves nothing behind.
   */
  private async submit(
    viewer: Viewer, policy: TierPolicy, params: GenerationParameters, input: GenerationRequestInput,
    idempotencyKey: string | null, requestId: string | null, video: ClipColumns | null,
  ): Promise<Job> {
    const { user } = viewer;
    // What the key names: the input as given, and whether it makes a clip or images.
    const request = { kind: video ? JobKind.VIDEO : JobKind.IMAGE, input };
    const find = (id: string) => this.deps.db.getRepository(Job).findOneBy({ id, ownerId: user.id });
    // A replay gets its job even if the checks below would refuse it now (a LoRA taken private since).
    const made = idempotencyKey ? await this.idempotency.made(user.id, idempotencyKey, request, find) : null;
    if (made) return made;
    const model = await this.usableModel(user, params, input, video);

    const jobId = randomUUID();
    if (idempotencyKey) {
      const existing = await this.idempotency.claim(user.id, idempotencyKey, jobId, request, find);
      if (existing) return existing;
    }
    const charge = quotaCharge(video
      ? { kind: JobKind.VIDEO, count: 1, videoFrames: video.frames, videoFps: video.fps }
      : { kind: JobKind.IMAGE, count: params.count, videoFrames: null, videoFps: null });
    let entry: { priority: number; place: QueuePlace };
    try {
      entry = await this.admit(viewer, policy, jobId, charge);
    } catch (error) {
      if (idempotencyKey) await this.idempotency.abandon(user.id, idempotencyKey);
      throw error;
    }
    let job: Job;
    try {
      job = this.jobRow(jobId, viewer, params, model, input, { idempotencyKey, requestId, priority: entry.priority, video });
      await this.deps.lifecycle.submit(job);
    } catch (error) {
      await this.deps.quotas.release(user.id, jobId, this.deps.clock.now(), charge.amount, charge.meter);
      if (idempotencyKey) await this.idempotency.abandon(user.id, idempotencyKey);
      throw error;
    }
    if (idempotencyKey) await this.idempotency.commit(user.id, idempotencyKey, jobId, request);
    if (input.presetId) await this.deps.db.getRepository(Preset).increment({ id: input.presetId }, 'usageCount', 1);
    this.announce(job, user.id, entry.place);
    this.deps.logger.info({ requestId, jobId, userId: user.id, sessionId: job.sessionId, kind: job.kind }, 'job queued');
    return job;
  }

  /**
   * QUEUED for a new job, without holding the answer for it. Its append is
   * issued at once on the connection that carries the job's events, so it
   * reaches the streams before any event the answer leads to; the worker's
   * STARTED waits for it (`JobLifecycle.begin`). A failure is logged: the job
   * is written and queued, and will run.
   */
  private announce(job: Job, actorId: string, { position, wentAhead }: QueuePlace): void {
    const announced = this.deps.lifecycle.queued(job, actorId, position, wentAhead)
      .catch((err) => this.deps.logger.warn({ err, jobId: job.id }, 'QUEUED could not be announced'))
      .finally(() => this.announcing.delete(announced));
    this.announcing.add(announced);
  }

  /** Resolves once every QUEUED issued so far is out (shutdown waits for it before closing Redis). */
  async announced(): Promise<void> {
    await Promise.all([...this.announcing]);
  }

  /**
   * The per-minute limit, admission and the fair-scheduling tag with the
   * job's place in line, in one Redis round trip (`runScriptChain`): a
   * refusal stops the chain, so a request the limit refuses takes no quota
   * and one admission refuses gets no tag. Admission's slower answers (its
   * daily counter to rebuild, a full set to reconcile) go on as `admit`
   * alone would, and the tag follows on its own. Once this returns, the job
   * holds its quota: a failure after it must release it (`submit`).
   */
  private async admit(viewer: Viewer, policy: TierPolicy, jobId: string, charge: { meter: QuotaMeter; amount: number }): Promise<{ priority: number; place: QueuePlace }> {
    const { user } = viewer;
    const { quotas, scheduler } = this.deps;
    const limit = quotas.rateLimitsOf(user, policy).generationsPerMinute;
    const subjects = rateSubjects(viewer);
    const [rate, admission, tag] = await runScriptChain(this.deps.redis, [
      this.deps.rateLimiter.call('generations', subjects, limit),
      quotas.admitCall(user.id, jobId, charge.amount, policy, charge.meter),
      scheduler.enterCall(policy.queuePriority, user.id),
    ]) as number[][];
    RateLimiter.check(rate, subjects, limit, 'generations');
    if (tag) return scheduler.entered(policy.queuePriority, tag);
    await quotas.admit(user.id, jobId, charge.amount, policy, charge.meter, admission);
    try {
      return await scheduler.enter(policy.queuePriority, user.id);
    } catch (error) {
      await quotas.release(user.id, jobId, this.deps.clock.now(), charge.amount, charge.meter);
      throw error;
    }
  }

  /**
   * Everything a request must pass before it may take quota: parameters
   * within the limits and the tier, a usable model, preset and LoRAs, and the
   * right to add to its session and album. Batches run it on their first job.
   */
  async admissible(viewer: Viewer, input: GenerationRequestInput, policy: TierPolicy): Promise<{ params: GenerationParameters; model: AiModel; preset: Preset | null }> {
    const { user } = viewer;
    const preset = input.presetId ? await this.visiblePreset(user, assertUuid('presetId', input.presetId)) : null;
    if (preset?.category === PresetCategory.VIDEO) throw badInput('presetId', `Preset ${preset.name} makes videos; a batch takes IMAGE presets`);
    const params = imageParameters(input, preset, policy);
    const model = await this.usableModel(user, params, input, null);
    return { params, model, preset };
  }

  /** The job's model, LoRAs, session and album, each usable by this user. */
  private async usableModel(user: User, params: GenerationParameters, input: GenerationRequestInput, video: ClipColumns | null): Promise<AiModel> {
    let model = await this.resolveModel(user, params.modelId);
    // Frames come from the ONNX pipeline; remote workflows that output video are not wired (docs/video.md).
    if (video && model.backend !== InferenceBackend.ONNX) {
      if (video.modelNamed) throw badInput('modelId', `Model ${model.name} runs on ${model.backend}; videos need an ONNX model`);
      model = await this.clipModelInstead(user, model);
    }
    await this.assertLorasUsable(user, params, model);
    if (input.sessionId) await this.deps.access.assertCanGenerateInto(user, assertUuid('sessionId', input.sessionId));
    if (input.albumId) await this.assertCanAddToAlbum(user, assertUuid('albumId', input.albumId));
    return model;
  }

  /** The PENDING row of a new job (not yet written: the lifecycle commits it, then adds its queue entry). */
  jobRow(
    jobId: string, { user, apiKeyId }: Viewer, params: GenerationParameters, model: AiModel, input: GenerationRequestInput,
    extra: { idempotencyKey: string | null; requestId: string | null; priority: number; batchId?: string; batchIndex?: number; video?: ClipColumns | null },
  ): Job {
    const video = extra.video ?? null;
    const now = this.deps.clock.now();
    // A plain assignment: Repository.create walks every column and relation (a profile hot spot).
    return Object.assign(new Job(), {
      id: jobId, ownerId: user.id, sessionId: input.sessionId ?? null, albumId: input.albumId ?? null,
      modelId: model.id, presetId: input.presetId ?? null, apiKeyId, status: JobStatus.PENDING,
      prompt: params.prompt, negativePrompt: params.negativePrompt, width: params.width, height: params.height,
      steps: params.steps, guidanceScale: params.guidanceScale, seed: params.seed, count: params.count, sampler: params.sampler,
      loras: params.loras, idempotencyKey: extra.idempotencyKey, requestId: extra.requestId, priority: extra.priority, step: 0, attempts: 0,
      batchId: extra.batchId ?? null, batchIndex: extra.batchIndex ?? null,
      kind: video ? JobKind.VIDEO : JobKind.IMAGE, videoFrames: video?.frames ?? null, videoFps: video?.fps ?? null,
      endPrompt: video?.endPrompt ?? null, sourceImageId: video?.sourceImageId ?? null, video: null,
      deadlineAt: params.deadlineSeconds ? new Date(now.getTime() + params.deadlineSeconds * 1000) : null,
      createdAt: now,
    });
  }

  private async visiblePreset(user: User, presetId: string): Promise<Preset> {
    const preset = await this.deps.db.getRepository(Preset).findOneBy({ id: presetId });
    const visible = preset && await allowedWithSessionRole(presetVisibleTo, preset, user, (sessionId) => this.deps.access.sessionRole(sessionId, user.id));
    if (!preset || !visible) throw badInput('presetId', 'Preset not found');
    return preset;
  }

  private async resolveModel(user: User, modelId: string | null): Promise<AiModel> {
    const model = modelId ? await this.deps.models.byId(modelId) : await this.deps.models.theDefault();
    if (!model) throw badInput('modelId', modelId ? 'Model not found' : 'No default model is installed');
    if (!model.enabled) throw badInput('modelId', `Model ${model.name} is disabled`);
    if (!tierAllows(user.tier, model.minTier)) {
      // As a LoRA above the tier (assertLorasUsable): QUOTA_EXCEEDED on the field, none of it open to this tier.
      throw quotaExceeded(`Model ${model.name} needs the ${model.minTier} tier (yours is ${user.tier}); upgrade to use it`, 0, null, 'modelId');
    }
    return model;
  }

  /**
   * The model a clip nobody named a model for is made with when the default
   * (or the model of the image it animates) runs on a remote backend: the
   * first enabled ONNX model by name that the caller's tier may use
   * (docs/video.md, "Which model makes a clip").
   */
  private async clipModelInstead(user: User, remote: AiModel): Promise<AiModel> {
    const models = await this.deps.db.getRepository(AiModel).find({ where: { backend: InferenceBackend.ONNX, enabled: true }, order: { name: 'ASC' } });
    const model = models.find((candidate) => tierAllows(user.tier, candidate.minTier));
    if (!model) throw badInput('modelId', `Model ${remote.name} runs on ${remote.backend}, and no enabled ONNX model is open to your tier: videos need one`);
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
      select: { id: true, name: true, active: true, ownerId: true, visibility: true, baseModelId: true, minTier: true },
      where: { id: In(params.loras.map((l) => l.loraId)) },
    });
    for (const [i, applied] of params.loras.entries()) {
      const lora = rows.find((row) => row.id === applied.loraId);
      const field = `loras[${i}].loraId`;
      // One the caller cannot list (someone else's inactive or private LoRA) reads exactly as an unknown id (docs/security.md).
      if (!lora || !loraListedFor(lora, user)) throw badInput(field, 'LoRA not found');
      // Listed but not theirs to apply: an admin looking at someone's private LoRA.
      if (!loraOpenTo(lora, user)) throw badInput(field, `LoRA ${lora.name} is private: only its owner generates with it`);
      if (!lora.active) throw badInput(field, `LoRA ${lora.name} is inactive`);
      if (lora.baseModelId !== model.id) throw badInput(field, `LoRA ${lora.name} is for another base model`);
      if (!tierAllows(user.tier, lora.minTier)) {
        // Beyond the tier, as a generation's other tier caps answer (docs/generation-parameters.md): none of it on this tier.
        throw quotaExceeded(`LoRA ${lora.name} needs the ${lora.minTier} tier (yours is ${user.tier}); upgrade to use it`, 0, null, field);
      }
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
    if (await this.stop(job, viewer.user.id)) return this.deps.db.getRepository(Job).findOneByOrFail({ id: jobId });
    const fresh = await this.deps.db.getRepository(Job).findOneByOrFail({ id: jobId });
    if (fresh.status === JobStatus.COMPLETED || fresh.status === JobStatus.FAILED) {
      throw stateConflict('id', `Job is already ${fresh.status}`);
    }
    if (fresh.status === JobStatus.CANCELLED) {
      // Cancelled already: if that cancel lost its end to an outage (its caller got SERVICE_UNAVAILABLE and
      // retries), the end is told now; otherwise this is a no-op (`announceEnd`).
      await this.deps.lifecycle.announceEnd(fresh);
      return fresh;
    }
    return this.waitForStatus(jobId, [JobStatus.CANCELLED, JobStatus.COMPLETED, JobStatus.FAILED], 3000);
  }

  /**
   * The cancel path of one job, for cancelJob and cancelBatch: a waiting job
   * is withdrawn (true: it is CANCELLED now); otherwise the worker running
   * it is asked to stop at its next step (false). A final job is left alone.
   */
  async stop(job: Job, actorId: string): Promise<boolean> {
    if (job.status === JobStatus.PENDING && (await this.deps.lifecycle.withdraw(job, actorId))) return true;
    const fresh = await this.deps.db.getRepository(Job).findOneByOrFail({ id: job.id });
    if (fresh.status !== JobStatus.PENDING && fresh.status !== JobStatus.PROCESSING) return false;
    // Running (or just picked up): the worker polls this flag before every step.
    await this.deps.redis.set(cancelFlagKey(this.deps.prefix, job.id), actorId, 'EX', 24 * 3600);
    return false;
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
      throw stateConflict('id', `Only FAILED or CANCELLED jobs can be retried; this one is ${job.status}`);
    }
    if (job.kind === JobKind.VIDEO) {
      // The stored prompt already has any template; the clip's settings are the row's.
      // An image-to-video clip starts from its image again, moving toward its end prompt (if any).
      const fromImage = job.sourceImageId ? { fromImageId: job.sourceImageId, prompt: job.endPrompt } : { prompt: job.prompt };
      return this.createVideo(viewer, {
        ...fromImage, negativePrompt: job.negativePrompt, width: job.width, height: job.height, steps: job.steps,
        guidanceScale: job.guidanceScale, seed: job.seed, sampler: job.sampler, modelId: job.modelId, loras: job.loras,
        durationSeconds: (job.videoFrames ?? 1) / (job.videoFps ?? 1), fps: job.videoFps, sessionId: job.sessionId, albumId: job.albumId,
      }, null, requestId);
    }
    return this.createGeneration(viewer, {
      prompt: job.prompt, negativePrompt: job.negativePrompt, width: job.width, height: job.height, steps: job.steps,
      guidanceScale: job.guidanceScale, seed: job.seed, count: job.count, sampler: job.sampler, modelId: job.modelId, loras: job.loras,
      sessionId: job.sessionId, albumId: job.albumId,
    }, null, requestId);
  }
}

/** A uniform fraction in [0, 1) with as many steps as there are seeds, from the crypto RNG. */
export function randomFraction(): number {
  const seeds = GENERATION_LIMITS.seed.max + 1;
  return randomInt(0, seeds) / seeds;
}



