import { DataSource, In, MoreThanOrEqual } from 'typeorm';
import {
  AiModel, Dataset, DatasetImage, InferenceBackend, OPEN_TRAINING_STATUSES, Role, TrainingRun, TrainingStatus, User, type TierPolicy,
} from '../entities';
import { secondsUntilUtcMidnight, utcDay } from '../kernel/clock';
import type { Clock } from '../kernel/clock';
import { AppError, ErrorCode, badInput, forbidden, notFound, quotaExceeded, stateConflict } from '../kernel/errors';
import { checkNumber, type NumberLimit } from '../kernel/generation-parameters';
import { assertUuid } from '../kernel/ids';
import { TRAINING_DEFAULTS, TRAINING_LIMITS as L, modelTrainingDefaults, type ModelTrainingDefaults, type TrainingConfig } from '../kernel/training-parameters';
import { trainingText } from './dataset-images';
import type { DatasetService } from './datasets';
import type { Page } from './job-queries';
import { pageNewestFirst } from './keyset-page';
import type { FairScheduler } from './scheduling';
import { throwIfViolated } from './generation-input';
import { trainingRunVisibleWhere } from './access-rules';
import type { TrainingLifecycle } from './training-lifecycle';

/** What `startTraining` receives; anything left out takes TRAINING_DEFAULTS. */
export interface TrainingInputData {
  datasetId: string;
  baseModelId?: string | null;
  loraName: string;
  rank?: number | null;
  alpha?: number | null;
  learningRate?: number | null;
  steps?: number | null;
  batchSize?: number | null;
  resolution?: number | null;
  seed?: number | null;
  saveEvery?: number | null;
  samplePrompts?: string[] | null;
  minTimestep?: number | null;
  minSnrGamma?: number | null;
}

/** An optional hyperparameter: absent stays absent (the trainer's own behaviour), present is checked. */
function optional(field: 'minTimestep' | 'minSnrGamma', value: number | null | undefined): Partial<Record<typeof field, number>> {
  if (value === null || value === undefined) return {};
  throwIfViolated(checkNumber(field, value, L[field]));
  return { [field]: value };
}

function numberOr(field: keyof typeof L, value: number | null | undefined, fallback: number): number {
  const v = value ?? fallback;
  throwIfViolated(checkNumber(field, v, L[field] as NumberLimit));
  return v;
}

/** Every hyperparameter against the limits table, each refusal naming its field; omitted ones take the base model's defaults, then TRAINING_DEFAULTS. */
export function validateTrainingConfig(input: TrainingInputData, randomSeed: () => number, model: ModelTrainingDefaults = {}): TrainingConfig {
  const D = { ...TRAINING_DEFAULTS, ...(model.learningRate !== undefined ? { learningRate: model.learningRate } : {}) };
  const given = input.samplePrompts ?? [];
  if (given.length > L.samplePrompts.max) throw badInput('samplePrompts', `At most ${L.samplePrompts.max} sample prompts`);
  const prompts = given.map((p, i) => trainingText(p, `samplePrompts[${i}]`, L.samplePromptChars.max, L.samplePromptChars.min));
  const steps = numberOr('steps', input.steps, D.steps);
  const saveEvery = numberOr('saveEvery', input.saveEvery, Math.min(D.saveEvery, steps));
  if (saveEvery > steps) throw badInput('saveEvery', `saveEvery must be at most steps (${steps})`);
  return {
    rank: numberOr('rank', input.rank, D.rank),
    alpha: numberOr('alpha', input.alpha, D.alpha),
    learningRate: numberOr('learningRate', input.learningRate, D.learningRate),
    steps,
    batchSize: numberOr('batchSize', input.batchSize, D.batchSize),
    resolution: numberOr('resolution', input.resolution, D.resolution),
    seed: numberOr('seed', input.seed, randomSeed()),
    saveEvery,
    samplePrompts: prompts,
    ...optional('minTimestep', input.minTimestep ?? model.minTimestep),
    ...optional('minSnrGamma', input.minSnrGamma ?? model.minSnrGamma),
  };
}

/** The pace assumed for a run with no step done yet: 0.1 s a step. */
const ASSUMED_SECONDS_PER_STEP = 0.1;

/**
 * Retry-After of the runs-at-once refusal: when the first of the user's open runs is likely to end, from its steps
 * left at the pace it has kept since it started (ASSUMED_SECONDS_PER_STEP before its first step); 1 s to a day.
 */
export function secondsUntilOneEnds(open: readonly Pick<TrainingRun, 'config' | 'step' | 'startedAt'>[], now: Date): number {
  const left = open.map((run) => {
    const pace = run.startedAt && run.step > 0 ? Math.max(0, now.getTime() - run.startedAt.getTime()) / 1000 / run.step : ASSUMED_SECONDS_PER_STEP;
    return Math.max(0, run.config.steps - run.step) * pace;
  });
  return Math.min(86_400, Math.max(1, Math.ceil(Math.min(...left))));
}

/**
 * Training runs from the API's side: validation, tier limits, submission to
 * the training queue (fairly: every user's next run is interleaved by the
 * FairScheduler in the tier's band), reads and cancel. What happens to a run
 * afterwards is TrainingLifecycle's (docs/training.md).
 */
export class TrainingService {
  constructor(
    private readonly db: DataSource,
    private readonly datasets: DatasetService,
    private readonly lifecycle: TrainingLifecycle,
    private readonly scheduler: FairScheduler,
    private readonly clock: Clock,
  ) {}

  async start(user: User, input: TrainingInputData, policy: TierPolicy, requestId: string | null): Promise<TrainingRun> {
    const model = await this.baseModel(input.baseModelId);
    const config = validateTrainingConfig(input, () => Math.floor(Math.random() * L.seed.max), modelTrainingDefaults(model.name));
    const loraName = trainingText(input.loraName, 'loraName', L.nameChars.max, L.nameChars.min);
    if (config.steps > policy.maxTrainingSteps && policy.trainingRunsPerDay > 0) {
      // Beyond the tier, not the table: QUOTA_EXCEEDED with the limit, as a generation's tier caps answer.
      throw quotaExceeded(`Your ${policy.tier} tier allows at most ${policy.maxTrainingSteps} training steps per run; upgrade for more`, policy.maxTrainingSteps, null, 'steps');
    }
    const dataset = await this.datasets.get(user, assertUuid('datasetId', input.datasetId)).catch(() => {
      throw badInput('datasetId', 'Dataset not found');
    });
    const run = this.db.getRepository(TrainingRun).create({
      ownerId: user.id, datasetId: dataset.id, baseModelId: model.id, loraName, status: TrainingStatus.QUEUED, config,
      step: 0, loss: null, checkpointKey: null, checkpointStep: null, datasetHash: null, loraId: null, error: null, attempts: 0,
      startedAt: null, finishedAt: null,
    });
    await this.admit(user, policy, run);
    const priority = await this.scheduler.priorityFor(policy.queuePriority, user.id);
    try {
      await this.lifecycle.submit(run, requestId, priority);
    } catch (error) {
      await this.db.getRepository(TrainingRun).delete({ id: run.id, status: TrainingStatus.QUEUED });
      throw error;
    }
    return run;
  }

  /**
   * Checks the tier's runs per day and runs at once and inserts the run, under the user's row lock (no two calls pass
   * together) and a share lock on the dataset's row: an edit of the dataset (which takes that row's write lock and
   * refuses while a run on it is open, DatasetService) either commits before the run exists or sees it.
   * A refusal that waiting lifts carries retryAfterSeconds (HTTP 429 with Retry-After, as a generation's quotas).
   */
  private async admit(user: User, policy: TierPolicy, run: TrainingRun): Promise<void> {
    const tierText = `your ${policy.tier} tier`;
    if (policy.trainingRunsPerDay === 0 || policy.maxConcurrentTrainingRuns === 0) {
      throw new AppError(ErrorCode.QUOTA_EXCEEDED, `LoRA training is not part of ${tierText}`, { limit: 0 });
    }
    await this.db.transaction(async (manager) => {
      await manager.getRepository(User).createQueryBuilder('u').setLock('pessimistic_write').where('u.id = :id', { id: user.id }).getOne();
      const dataset = await manager.getRepository(Dataset).createQueryBuilder('d').setLock('pessimistic_read').where('d.id = :id', { id: run.datasetId }).getOne();
      if (!dataset) throw badInput('datasetId', 'Dataset not found');
      if ((await manager.getRepository(DatasetImage).countBy({ datasetId: dataset.id })) === 0) throw badInput('datasetId', 'The dataset has no images yet');
      const runs = manager.getRepository(TrainingRun);
      const now = this.clock.now();
      const today = await runs.countBy({ ownerId: user.id, createdAt: MoreThanOrEqual(new Date(`${utcDay(now)}T00:00:00Z`)) });
      if (today >= policy.trainingRunsPerDay) {
        throw quotaExceeded(`${policy.trainingRunsPerDay} training runs per day on ${tierText}: try again tomorrow (UTC)`, policy.trainingRunsPerDay, secondsUntilUtcMidnight(now));
      }
      const open = await runs.findBy({ ownerId: user.id, status: In([...OPEN_TRAINING_STATUSES]) });
      if (open.length >= policy.maxConcurrentTrainingRuns) {
        throw quotaExceeded(`At most ${policy.maxConcurrentTrainingRuns} training runs at once on ${tierText}; wait for one to end or cancel it`,
          policy.maxConcurrentTrainingRuns, secondsUntilOneEnds(open, now));
      }
      await runs.insert(run);
    });
  }

  private async baseModel(id: string | null | undefined): Promise<AiModel> {
    const repo = this.db.getRepository(AiModel);
    const model = id ? await repo.findOneBy({ id: assertUuid('baseModelId', id) }) : await repo.findOneBy({ isDefault: true });
    if (!model) throw badInput('baseModelId', 'Model not found');
    if (!model.enabled) throw badInput('baseModelId', `Model ${model.name} is disabled`);
    // A remote backend's weights are not ours to train (docs/training.md, "Limits"): refused before any quota is used.
    if (model.backend !== InferenceBackend.ONNX) {
      throw badInput('baseModelId', `Model ${model.name} runs on ${model.backend} and cannot be trained here: choose an ONNX model`);
    }
    return model;
  }

  /** A run the user may see (their own; admins all), else NOT_FOUND; an id that is no UUID is BAD_USER_INPUT on `field`. */
  async get(user: User, id: string, field = 'id'): Promise<TrainingRun> {
    const run = await this.db.getRepository(TrainingRun).createQueryBuilder('r')
      .where(trainingRunVisibleWhere('r', user)).andWhere('r.id = :id', { id: assertUuid(field, id) }).getOne();
    if (!run) throw notFound('Training run');
    return run;
  }

  list(user: User, first = 20, after?: string | null, status?: TrainingStatus | null): Promise<Page<TrainingRun>> {
    const qb = this.db.getRepository(TrainingRun).createQueryBuilder('r').where(trainingRunVisibleWhere('r', user));
    if (status) qb.andWhere('r.status = :status', { status });
    return pageNewestFirst('trainingRuns', qb, 'id', first, after);
  }

  /**
   * A queued run is cancelled at once; a running one is asked to stop before
   * its next step (the worker then ends it as CANCELLED, keeping the last
   * checkpoint). A completed or failed run is refused, like a finished job;
   * a cancelled one is answered as it is.
   */
  async cancel(user: User, id: string): Promise<TrainingRun> {
    const run = await this.get(user, id);
    if (run.ownerId !== user.id && user.role !== Role.ADMIN) throw forbidden('Only the run\'s owner or an admin can cancel it');
    if (run.status === TrainingStatus.COMPLETED || run.status === TrainingStatus.FAILED) {
      throw stateConflict('id', `Training run is already ${run.status}`);
    }
    if (run.status === TrainingStatus.QUEUED && (await this.lifecycle.cancel(run, 0, [TrainingStatus.QUEUED]))) {
      return this.get(user, id);
    }
    if (run.status === TrainingStatus.QUEUED || run.status === TrainingStatus.RUNNING) await this.lifecycle.requestCancel(run);
    // Cancelled already: a cancel that lost its end to an outage is told now; otherwise a no-op (`announceEnd`).
    else if (run.status === TrainingStatus.CANCELLED) await this.lifecycle.announceEnd(run);
    return this.get(user, id);
  }
}
