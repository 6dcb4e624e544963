import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { DataSource, In, IsNull, MoreThan } from 'typeorm';
import { Batch, BatchStatus, Job, OPEN_JOB_STATUSES, Preset, type User } from '../entities';
import { stateConflict } from '../kernel/errors';
import { decodePositionCursor, encodePositionCursor } from '../kernel/paging';
import type { Logger } from '../observability/logger';
import type { AccessPolicy } from './access';
import type { Viewer } from './auth';
import type { BatchProgress } from './batch-progress';
import { blaming, planBatch, type BatchRequest } from './batch-plan';
import { assertWithinTier, presetDefaults, resolveGenerationParameters } from './generation-input';
import { IdempotencyKeys } from './idempotency';
import type { JobLifecycle } from './job-lifecycle';
import type { JobQueries, Page } from './job-queries';
import { randomFraction, type JobService } from './jobs';
import { assertPageSize, pageNewestFirst } from './keyset-page';
import type { QuotaService } from './quotas';
import type { RateLimiter } from './rate-limits';
import { rateSubjects } from './request-gate';
import type { FairScheduler } from './scheduling';
import type { Clock } from '../kernel/clock';

export interface BatchServiceDeps {
  db: DataSource;
  redis: Redis;
  prefix: string;
  quotas: QuotaService;
  rateLimiter: RateLimiter;
  scheduler: FairScheduler;
  lifecycle: JobLifecycle;
  jobs: JobService;
  queries: JobQueries;
  access: AccessPolicy;
  progress: BatchProgress;
  clock: Clock;
  logger: Logger;
}

/** Batches: many jobs submitted, admitted, tracked and cancelled as one (docs/batches.md). */
export class BatchService {
  private readonly idempotency: IdempotencyKeys;

  constructor(private readonly deps: BatchServiceDeps) {
    this.idempotency = new IdempotencyKeys(deps.redis, `${deps.prefix}:idem-batch`);
  }

  /**
   * Checks every job like createGeneration would, then admits all of them
   * against the quotas in one step and writes the batch, its jobs and their
   * queue entries, or refuses and leaves nothing behind.
   */
  async createBatch(viewer: Viewer, input: BatchRequest, idempotencyKey: string | null, requestId: string | null): Promise<Batch> {
    const { user } = viewer;
    IdempotencyKeys.check(idempotencyKey);
    const find = (id: string) => this.deps.db.getRepository(Batch).findOneBy({ id, ownerId: user.id });
    // A replay gets its batch even if the checks below would refuse it now (a LoRA taken private since).
    const made = idempotencyKey ? await this.idempotency.made(user.id, idempotencyKey, input, find) : null;
    if (made) return made;
    const plan = planBatch(input);
    const policy = await this.deps.quotas.policyOf(viewer);
    // Model, preset, LoRAs, session and album are shared: checked once, on the first job.
    const { model, preset } = await blaming(plan.jobs[0], () => this.deps.jobs.admissible(viewer, plan.jobs[0].input, policy));
    const defaults = presetDefaults(preset, policy);
    const params = await Promise.all(plan.jobs.map((job) => blaming(job, () => {
      const resolved = resolveGenerationParameters(job.input, defaults, randomFraction);
      assertWithinTier(resolved, policy);
      return resolved;
    })));

    const batchId = randomUUID();
    if (idempotencyKey) {
      const existing = await this.idempotency.claim(user.id, idempotencyKey, batchId, input, find);
      if (existing) return existing;
    }
    const jobIds = plan.jobs.map(() => randomUUID());
    const images = params.reduce((sum, p) => sum + p.count, 0);
    try {
      // Counted against the per-minute limit once its checks have passed, as a single generation is (JobService.admit).
      await this.deps.rateLimiter.hit('generations', rateSubjects(viewer), this.deps.quotas.rateLimitsOf(user, policy).generationsPerMinute);
      await this.deps.quotas.admitBatch(user.id, batchId, jobIds, images, policy);
    } catch (error) {
      if (idempotencyKey) await this.idempotency.abandon(user.id, idempotencyKey);
      throw error;
    }
    const now = this.deps.clock.now();
    const batch = this.deps.db.getRepository(Batch).create({
      id: batchId, ownerId: user.id, sessionId: input.sessionId ?? null, name: plan.name, kind: plan.kind, total: jobIds.length,
      completed: 0, failed: 0, cancelled: 0, status: BatchStatus.RUNNING, axes: plan.axes, gridKey: null, gridWidth: null, gridHeight: null,
      idempotencyKey, cancelRequestedAt: null, completedAt: null, createdAt: now,
    });
    let jobs: Job[];
    try {
      const priorities = await this.deps.scheduler.prioritiesFor(policy.queuePriority, user.id, jobIds.length);
      jobs = plan.jobs.map((job, i) => this.deps.jobs.jobRow(jobIds[i], viewer, params[i], model, { ...job.input, presetId: preset?.id ?? null }, {
        idempotencyKey: null, requestId, priority: priorities[i], batchId, batchIndex: i,
      }));
      await this.deps.lifecycle.submitBatch(batch, jobs);
    } catch (error) {
      await this.deps.quotas.releaseBatch(user.id, batchId, jobIds, now, images);
      if (idempotencyKey) await this.idempotency.abandon(user.id, idempotencyKey);
      throw error;
    }
    if (idempotencyKey) await this.idempotency.commit(user.id, idempotencyKey, batchId, input);
    if (preset) await this.deps.db.getRepository(Preset).increment({ id: preset.id }, 'usageCount', jobs.length);
    await this.announce(batch, jobs, user.id);
    this.deps.logger.info({ requestId, batchId, jobs: jobs.length, userId: user.id, sessionId: batch.sessionId }, 'batch queued');
    return batch;
  }

  /** BATCH_PROGRESS first (so a session shows the batch before its jobs), then each job's QUEUED with its place. */
  private async announce(batch: Batch, jobs: Job[], actorId: string): Promise<void> {
    await this.deps.progress.announce(batch);
    let wentAhead = false;
    const places = await this.deps.queries.placesOf(jobs);
    for (const job of jobs) {
      const place = places.get(job.id);
      wentAhead ||= place?.wentAhead ?? false;
      // A job already started (or cancelled) before its place was read has none.
      await this.deps.lifecycle.queued(job, actorId, place?.position ?? 0, false);
    }
    if (wentAhead) this.deps.lifecycle.announcePositionsSoon();
  }

  get(user: User, batchId: string): Promise<Batch> {
    return this.deps.access.assertCanSeeBatch(user, batchId);
  }

  /** The caller's batches, newest first. */
  list(user: User, first = 20, after?: string | null): Promise<Page<Batch>> {
    const qb = this.deps.db.getRepository(Batch).createQueryBuilder('b').where('b.ownerId = :ownerId', { ownerId: user.id });
    return pageNewestFirst('batches', qb, 'id', first, after);
  }

  /** A batch's jobs in batch order (a matrix row by row). */
  async jobsOf(batch: Batch, first = 20, after?: string | null): Promise<Page<Job>> {
    assertPageSize(first);
    const from = after ? decodePositionCursor('Batch.jobs', after) : -1;
    const rows = await this.deps.db.getRepository(Job).find({
      where: { batchId: batch.id, batchIndex: MoreThan(from) }, order: { batchIndex: 'ASC' }, take: first + 1,
    });
    const nodes = rows.slice(0, first);
    return { nodes, cursors: nodes.map((j) => encodePositionCursor('Batch.jobs', j.batchIndex ?? 0)), hasNextPage: rows.length > first };
  }

  /**
   * Cancels a batch through each job's own cancel path: waiting jobs are
   * withdrawn at once, running ones stop at their next step. The batch ends
   * CANCELLED when its last job is final.
   */
  async cancelBatch(viewer: Viewer, batchId: string): Promise<Batch> {
    const batch = await this.deps.access.assertCanControlBatch(viewer.user, batchId);
    if (batch.status !== BatchStatus.RUNNING) throw stateConflict('id', `Batch is already ${batch.status}`);
    await this.deps.db.getRepository(Batch).update({ id: batch.id, cancelRequestedAt: IsNull() }, { cancelRequestedAt: this.deps.clock.now() });
    const open = await this.deps.db.getRepository(Job).find({ where: { batchId: batch.id, status: In([...OPEN_JOB_STATUSES]) }, order: { batchIndex: 'DESC' } });
    // Last first: a waiting job further back is never picked up while the ones ahead of it are withdrawn.
    for (const job of open) await this.deps.jobs.stop(job, viewer.user.id);
    return this.deps.db.getRepository(Batch).findOneByOrFail({ id: batch.id });
  }
}
