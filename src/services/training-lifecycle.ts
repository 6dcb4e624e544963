import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { DataSource, In } from 'typeorm';
import { FINAL_TRAINING_STATUSES, Lora, LoraVisibility, OPEN_TRAINING_STATUSES, TrainingRun, TrainingSampleImage, TrainingStatus, type LoraTrainingMetrics } from '../entities';
import type { Clock } from '../kernel/clock';
import { AppError, isServiceOutage } from '../kernel/errors';
import { appendedOnce, FINAL_TRAINING_EVENT_TYPES, type EventOrder, type JobFailure, type TrainingEventBody, type TrainingEventPublisher } from '../kernel/events';
import { sha256 } from '../kernel/hashing';
import { trainingCancelKey, type TrainingQueue } from '../kernel/queues';
import type { Logger } from '../observability/logger';
import type { ArtifactStore } from '../storage/artifact-store';
import { failFast, type Bookkeeping } from './job-lifecycle';
import { loraStorageKey } from './loras';
import { OwedEnds, OwedEndsLedger } from './owed-ends';

/** What a finished training hands to `complete` (the trainer's TrainingResult, as the domain needs it). */
export interface TrainedLora {
  lora: Buffer;
  lossCurve: { step: number; loss: number }[];
  evaluationCurve: { step: number; loss: number }[];
  initialLoss: number;
  finalLoss: number;
  datasetHash: string;
}

/**
 * Where a run's checkpoints and samples live in the artifact store. A
 * checkpoint's two files name the attempt that wrote them (`-a<attempts>`):
 * a trainer that lost its run to a later start and writes the same save
 * point writes files of its own, never over the ones the run's row points at
 * (docs/training.md, "Resume guarantees"). Checkpoints from before that have
 * no attempt in their names (`training/<run>/checkpoint-<step>.safetensors`).
 */
export const trainingCheckpointKey = (runId: string, step: number, attempt: number): string =>
  `training/${runId}/checkpoint-${step}-a${attempt}.safetensors`;
/** A checkpoint's name from before it carried the attempt (still read: a row may point at one). */
const unattemptedCheckpointKey = (runId: string, step: number): string => `training/${runId}/checkpoint-${step}.safetensors`;
/** The optimizer state saved with the checkpoint `checkpointKey` (either form). */
export const trainingOptimizerKey = (checkpointKey: string): string =>
  checkpointKey.replace(/\/checkpoint-([^/]+)\.safetensors$/, '/optimizer-$1.bin');
/** A checkpoint's two files: its weights and the optimizer state saved with them. */
const checkpointFiles = (checkpointKey: string): string[] => [checkpointKey, trainingOptimizerKey(checkpointKey)];
/** A save point's sample image, named by the attempt that rendered it, as its checkpoint is. */
export const trainingSampleKey = (runId: string, step: number, index: number, attempt: number): string =>
  `training/${runId}/sample-${step}-${index}-a${attempt}.png`;

/** Save points whose checkpoint files a deletion tries, at most: a run checkpointed before superseded ones were removed may have left them. */
const MAX_SAVE_POINTS_SWEPT = 1_000;

/**
 * The checkpoint and optimizer files a run may have in the store, for a
 * deletion: its last save point's (`checkpointKey`), and each save point's
 * under every attempt's name and the name from before attempts (each is
 * removed once the next is recorded, or once its writer was refused, but a
 * crash between may have left one, and runs from before that kept theirs).
 */
export function trainingCheckpointFiles(run: Pick<TrainingRun, 'id' | 'checkpointKey' | 'checkpointStep' | 'config' | 'attempts'>): string[] {
  const last = run.checkpointStep;
  const every = run.config?.saveEvery ?? 0;
  const attempts = Math.max(1, run.attempts ?? 1);
  const saved = last ?? (every > 0 ? run.config.steps : 0);
  const steps = every > 0 && (saved / every) * (attempts + 1) <= MAX_SAVE_POINTS_SWEPT
    ? Array.from({ length: Math.floor(saved / every) }, (_, i) => (i + 1) * every) : [];
  if (last != null) steps.push(last);
  const checkpoints = new Set(run.checkpointKey ? [run.checkpointKey] : []);
  for (const step of steps) {
    checkpoints.add(unattemptedCheckpointKey(run.id, step));
    for (let attempt = 1; attempt <= attempts; attempt += 1) checkpoints.add(trainingCheckpointKey(run.id, step, attempt));
  }
  return [...checkpoints].flatMap(checkpointFiles);
}

/** Queue states in which an entry will still reach a worker (or is with one). */
const LIVE_ENTRY_STATES = new Set(['active', 'waiting', 'wait', 'delayed', 'prioritized', 'waiting-children', 'paused']);

/** Thrown inside the completion transaction when the run is no longer RUNNING: rolls the LoRA back. */
class NotRunning extends Error {}

/**
 * The training_runs table as a state machine, and the one place that
 * publishes a run's events. Every transition is a conditional UPDATE, so two
 * actors racing on a run (a cancel and a completion, a resumed run and a
 * worker that was only slow) cannot both win; only the winner publishes.
 *
 *   QUEUED ──start──▶ RUNNING ──complete──▶ COMPLETED (one LoRA version)
 *     │  ▲               │ │ (start again: resumed from the last checkpoint)
 *     └──┴─cancel/fail───┴─┴──▶ CANCELLED / FAILED
 *
 * In a worker each read, write and transition event goes through its
 * bookkeeping (`withBookkeeping`: retried through an outage); `publish`,
 * `recordStep` and `cancelRequested` stay one try, for the worker's best-effort
 * progress reports.
 */
export class TrainingLifecycle {
  /** Ends whose bookkeeping failed after the row went final, told again until told (shared with `withBookkeeping`'s copies). */
  readonly owedEnds: OwedEnds<TrainingRun>;

  constructor(
    private readonly o: {
      db: DataSource; redis: Redis; prefix: string; queue: TrainingQueue; events: TrainingEventPublisher; store: ArtifactStore; clock: Clock;
      logger: Logger;
    },
    private readonly bookkeeping: Bookkeeping = failFast,
    owedEnds?: OwedEnds<TrainingRun>,
  ) {
    this.owedEnds = owedEnds ?? new OwedEnds({
      what: 'training run', finalAmong: (ids) => this.finalAmong(ids), announceEnd: (run) => this.announceEnd(run), logger: o.logger,
      ledger: new OwedEndsLedger(o.db, 'training'),
    });
  }

  /**
   * The same lifecycle with its reads, writes and transition events run through `bookkeeping` (the worker's
   * retries), owing its untold ends to `owedEnds` (this one's, unless told otherwise).
   */
  withBookkeeping(bookkeeping: Bookkeeping, owedEnds = this.owedEnds): TrainingLifecycle {
    return new TrainingLifecycle(this.o, bookkeeping, owedEnds);
  }

  find(runId: string): Promise<TrainingRun | null> {
    return this.bookkeeping(() => this.o.db.getRepository(TrainingRun).findOneBy({ id: runId }));
  }

  /** The final rows among these runs. */
  finalAmong(runIds: string[]): Promise<TrainingRun[]> {
    if (runIds.length === 0) return Promise.resolve([]);
    return this.bookkeeping(() => this.o.db.getRepository(TrainingRun).findBy({ id: In(runIds), status: In([...FINAL_TRAINING_STATUSES]) }));
  }

  /** Publishes an event of `run`, filling in its time, run id and owner (`order`: EventOrder). */
  async publish(run: TrainingRun, body: TrainingEventBody, order?: EventOrder): Promise<void> {
    await this.o.events.publishTraining({ ...body, at: this.o.clock.now().toISOString(), runId: run.id, actorId: run.ownerId } as never, order);
  }

  /**
   * Publishes a transition's event through the bookkeeping: it must not be
   * lost to an outage. A final one is appended once per run, however many
   * actors announce it (`announceEnd`).
   */
  private announce(run: TrainingRun, body: TrainingEventBody): Promise<void> {
    const order = FINAL_TRAINING_EVENT_TYPES.has(body.type) ? appendedOnce(`training-ended:${run.id}`) : undefined;
    return this.bookkeeping(() => this.publish(run, body, order));
  }

  /** What follows a run's final commit; if it fails (an outage), the end is told again from the row later (`OwedEnds`). */
  private async afterFinal(run: TrainingRun, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.owedEnds.owe(run.id);
      throw error;
    }
  }

  /**
   * The final event of a run whose row is final, published again from the
   * row unless it was (appended once per run): an outage longer than the
   * worker's retries can leave the row final without it (docs/operations.md,
   * "Outages of PostgreSQL or Redis"). Called by the worker that takes such a
   * run's entry again and by a `trainingUpdated` that finds no end in its log.
   */
  async announceEnd(run: TrainingRun): Promise<void> {
    const totalSteps = run.config.steps;
    // `complete` writes the LoRA and the final loss with COMPLETED, `fail` the error with FAILED.
    if (run.status === TrainingStatus.COMPLETED) {
      await this.announce(run, { type: 'COMPLETED', step: totalSteps, totalSteps, loraId: run.loraId!, finalLoss: run.loss! });
    } else if (run.status === TrainingStatus.FAILED) {
      await this.announce(run, { type: 'FAILED', step: run.step, totalSteps, error: run.error! });
    } else if (run.status === TrainingStatus.CANCELLED) {
      await this.announce(run, { type: 'CANCELLED', step: run.step, totalSteps, checkpointStep: run.checkpointStep });
    }
  }

  /** The row is committed first, then the entry (entry id = run id, so adding twice is a no-op), then QUEUED. */
  async submit(run: TrainingRun, requestId: string | null, priority: number): Promise<void> {
    await this.o.queue.add('train', { runId: run.id, requestId }, { jobId: run.id, priority });
    await this.publish(run, { type: 'QUEUED', step: 0, totalSteps: run.config.steps });
  }

  /**
   * Open runs created more than `graceSeconds` ago whose queue entry will
   * never reach a worker (missing, failed, or finished while the row stayed
   * open: a crash between commit and enqueue, stalls past BullMQ's limit, an
   * outage mid-bookkeeping). Each gets a fresh entry; a RUNNING one resumes
   * from its checkpoint. Returns the ids given a new entry.
   */
  async requeueStranded(graceSeconds: number, onceEveryMs = 0): Promise<string[]> {
    // One pass per interval across the cluster (every replica ticks).
    if (onceEveryMs > 0 && !(await this.o.redis.set(`${this.o.prefix}:training-reconcile:lock`, '1', 'PX', Math.max(100, onceEveryMs - 200), 'NX'))) return [];
    const cutoff = new Date(this.o.clock.now().getTime() - graceSeconds * 1000);
    const open = await this.o.db.getRepository(TrainingRun).find({ where: { status: In([...OPEN_TRAINING_STATUSES]) }, order: { createdAt: 'ASC' }, take: 500 });
    const requeued: string[] = [];
    for (const run of open.filter((r) => r.createdAt < cutoff)) {
      if (LIVE_ENTRY_STATES.has(await this.o.queue.getJobState(run.id))) continue;
      const fresh = await this.find(run.id);
      if (!fresh || !(OPEN_TRAINING_STATUSES as readonly string[]).includes(fresh.status)) continue;
      await (await this.o.queue.getJob(run.id))?.remove();
      await this.o.queue.add('train', { runId: run.id, requestId: null }, { jobId: run.id });
      requeued.push(run.id);
    }
    return requeued;
  }

  /**
   * QUEUED → RUNNING, or RUNNING → RUNNING when another worker resumes a run
   * whose worker died or lost its queue lock. Each start is a new attempt: the
   * `attempts` it returns is the worker's fencing token, and the run's step,
   * checkpoints and completion are written only while it is the row's last
   * (`recordStep`, `checkpoint`, `complete`), so a worker that went on past
   * its lock cannot write over the attempt that took the run from it
   * (docs/training.md, "Resume guarantees").
   */
  async start(run: TrainingRun): Promise<TrainingRun | null> {
    const now = this.o.clock.now();
    const result = await this.bookkeeping(() => this.o.db.createQueryBuilder().update(TrainingRun)
      .set({ status: TrainingStatus.RUNNING, attempts: () => 'attempts + 1', startedAt: run.startedAt ?? now, step: run.checkpointStep ?? 0 })
      .where('id = :id AND status IN (:...open)', { id: run.id, open: [...OPEN_TRAINING_STATUSES] })
      .returning(['attempts'])
      .execute());
    if (!result.affected) return null;
    const attempts = Number((result.raw as { attempts: number }[])[0].attempts);
    const started = { ...run, status: TrainingStatus.RUNNING, attempts, startedAt: run.startedAt ?? now } as TrainingRun;
    await this.announce(started, { type: 'STARTED', step: run.checkpointStep ?? 0, totalSteps: run.config.steps, resumedFrom: run.checkpointStep });
    return started;
  }

  /**
   * Records the step and loss on the row (for `trainingRun` readers and resume
   * bookkeeping); false when `run`'s attempt no longer holds it: a later start
   * took it, or it ended (`start`).
   */
  async recordStep(run: TrainingRun, step: number, loss: number): Promise<boolean> {
    const result = await this.o.db.getRepository(TrainingRun).update(this.held(run), { step, loss });
    return Boolean(result.affected);
  }

  /** The row while `run`'s attempt holds it: RUNNING, and started last by that attempt (`start`). */
  private held(run: TrainingRun) {
    return { id: run.id, status: TrainingStatus.RUNNING, attempts: run.attempts };
  }

  /**
   * Stores a checkpoint, then points the row at it; the previous one is kept
   * until this one is recorded, then removed (a run resumes from its last
   * one only; docs/training.md, "Resume guarantees"). False, with the row
   * left as it was, when `run`'s attempt no longer holds the run (`start`).
   */
  async checkpoint(run: TrainingRun, step: number, lora: Buffer, optimizerState: Buffer): Promise<boolean> {
    const key = trainingCheckpointKey(run.id, step, run.attempts);
    await this.bookkeeping(() => this.o.store.put(trainingOptimizerKey(key), optimizerState, 'application/octet-stream'));
    await this.bookkeeping(() => this.o.store.put(key, lora, 'application/octet-stream'));
    const result = await this.bookkeeping(() => this.o.db.getRepository(TrainingRun).update(
      this.held(run), { checkpointKey: key, checkpointStep: step },
    ));
    // A later start holds the run: these files are this attempt's alone, and nothing points at them.
    if (!result.affected) {
      await this.removeFiles(run, checkpointFiles(key), 'could not remove a refused checkpoint file');
      return false;
    }
    const previous = run.checkpointKey;
    run.checkpointKey = key;
    run.checkpointStep = step;
    if (previous && previous !== key) await this.removeFiles(run, checkpointFiles(previous), 'could not remove a superseded checkpoint file');
    await this.announce(run, { type: 'CHECKPOINT', step, totalSteps: run.config.steps });
    return true;
  }

  /** Removes a run's files, logging (not throwing) a failure: a leftover is swept when the run is deleted. */
  private async removeFiles(run: TrainingRun, keys: readonly string[], failure: string): Promise<void> {
    await Promise.all(keys.map((key) => this.o.store.delete(key).catch((err: unknown) => this.o.logger.warn({ err, key, runId: run.id }, failure))));
  }

  /** The last checkpoint of a run, to resume from. */
  async loadCheckpoint(run: TrainingRun): Promise<{ step: number; lora: Buffer; optimizerState: Buffer } | null> {
    if (!run.checkpointKey || run.checkpointStep == null) return null;
    const { checkpointKey } = run;
    const lora = await this.bookkeeping(() => this.o.store.get(checkpointKey));
    const optimizerState = await this.bookkeeping(() => this.o.store.get(trainingOptimizerKey(checkpointKey)));
    return lora && optimizerState ? { step: run.checkpointStep, lora, optimizerState } : null;
  }

  /**
   * Stores a save point's sample images, records them for the run's gallery (`TrainingRun.samples`: rows that
   * outlive the events and move with `atelier export`), then announces them. Fenced as a checkpoint is: the files
   * are named by the attempt, and the rows are written while that attempt holds the run (its row locked against a
   * start meanwhile), else the files are removed and nothing is announced (false). A save point rendered again (a
   * resumed run) points its rows at the new files and removes the ones before.
   */
  async samples(run: TrainingRun, step: number, images: Buffer[]): Promise<boolean> {
    const samples = images.map((png, index) => ({ prompt: run.config.samplePrompts[index] ?? '', key: trainingSampleKey(run.id, step, index, run.attempts), png }));
    for (const sample of samples) await this.bookkeeping(() => this.o.store.put(sample.key, sample.png, 'image/png'));
    const replaced = samples.length === 0 ? [] : await this.bookkeeping(() => this.o.db.transaction(async (manager) => {
      // Also gone when the run was deleted meanwhile (its owner's account with it): nothing left to record for.
      const [held] = await manager.query(
        'SELECT 1 FROM training_runs WHERE id = $1 AND status = $2 AND attempts = $3 FOR SHARE', [run.id, TrainingStatus.RUNNING, run.attempts],
      );
      if (!held) return null;
      const before: { storage_key: string }[] = await manager.query('SELECT storage_key FROM training_samples WHERE run_id = $1 AND step = $2', [run.id, step]);
      await manager.createQueryBuilder().insert().into(TrainingSampleImage)
        .values(samples.map((sample, position) => ({ runId: run.id, step, position, prompt: sample.prompt, storageKey: sample.key })))
        .orUpdate(['prompt', 'storage_key'], ['run_id', 'step', 'position'])
        .execute();
      return before.map((row) => row.storage_key).filter((key) => !samples.some((sample) => sample.key === key));
    }));
    if (replaced === null) {
      await this.removeFiles(run, samples.map((sample) => sample.key), 'could not remove a refused sample image');
      return false;
    }
    await this.removeFiles(run, replaced, 'could not remove a sample image rendered again');
    await this.announce(run, { type: 'SAMPLE', step, totalSteps: run.config.steps, samples: samples.map(({ prompt, key }) => ({ prompt, key })) });
    return true;
  }

  /**
   * RUNNING → COMPLETED and the LoRA registered as the next version of its
   * name, in one transaction: a run ends with exactly one LoRA however many
   * workers reach this point (the conditional UPDATE and the unique index on
   * loras.training_run_id both say so). Returns the LoRA, or null if the run
   * was no longer running.
   */
  async complete(run: TrainingRun, trained: TrainedLora): Promise<Lora | null> {
    const id = randomUUID();
    await this.bookkeeping(() => this.o.store.put(loraStorageKey(id), trained.lora, 'application/octet-stream'));
    const metrics: LoraTrainingMetrics = {
      config: run.config, datasetHash: trained.datasetHash, initialLoss: trained.initialLoss, finalLoss: trained.finalLoss, lossCurve: trained.lossCurve,
      evaluationCurve: trained.evaluationCurve,
    };
    let lora: Lora;
    try {
      lora = await this.bookkeeping(() => this.o.db.transaction(async (manager) => {
        const done = await manager.getRepository(TrainingRun).update(
          this.held(run),
          { status: TrainingStatus.COMPLETED, loraId: id, step: run.config.steps, loss: trained.finalLoss, datasetHash: trained.datasetHash, finishedAt: this.o.clock.now() },
        );
        if (!done.affected) throw new NotRunning();
        // The run's row lock (taken by the UPDATE) serializes versions per run; the unique (owner, name, version) index across runs.
        const last = await manager.getRepository(Lora).maximum('version', { ownerId: run.ownerId, name: run.loraName });
        const row = manager.getRepository(Lora).create({
          id, ownerId: run.ownerId, name: run.loraName, baseModelId: run.baseModelId, triggerWords: [], defaultWeight: 1,
          storageKey: loraStorageKey(id), sha256: sha256(trained.lora), version: (last ?? 0) + 1, active: true,
          // Its owner's until they publish it (setLoraVisibility), whatever the dataset's sharing (docs/training.md).
          visibility: LoraVisibility.PRIVATE, trainingRunId: run.id, metrics,
        });
        await manager.getRepository(Lora).insert(row);
        return row;
      }));
    } catch (error) {
      // An outage may have lost the answer to a commit that went through: the file stays (at worst unused).
      if (isServiceOutage(error)) throw error;
      // A retry after such a commit finds the run completed with this very LoRA.
      const ours = error instanceof NotRunning && (await this.find(run.id))?.loraId === id;
      if (!ours) {
        await this.o.store.delete(loraStorageKey(id));
        if (error instanceof NotRunning) return null;
        if ((error as { code?: string }).code === '23505') throw new AppError('CONFLICT', 'Another version of this LoRA was registered at the same moment');
        throw error;
      }
      lora = await this.bookkeeping(() => this.o.db.getRepository(Lora).findOneByOrFail({ id }));
    }
    await this.afterFinal(run, () => this.announce(run, {
      type: 'COMPLETED', step: run.config.steps, totalSteps: run.config.steps, loraId: id, finalLoss: trained.finalLoss,
    }));
    return lora;
  }

  /**
   * A run its trainer saw fail → FAILED, while `run`'s attempt still holds it
   * (`held`): a trainer whose run a later start took fails nothing.
   */
  async fail(run: TrainingRun, error: JobFailure, step: number): Promise<boolean> {
    const result = await this.bookkeeping(() => this.o.db.getRepository(TrainingRun).update(
      this.held(run), { status: TrainingStatus.FAILED, error, finishedAt: this.o.clock.now() },
    ));
    if (!result.affected) return false;
    await this.afterFinal(run, () => this.announce(run, { type: 'FAILED', step, totalSteps: run.config.steps, error }));
    return true;
  }

  /** An open run → CANCELLED; its last checkpoint stays in the store, downloadable. */
  async cancel(run: TrainingRun, step: number, from: readonly TrainingStatus[] = OPEN_TRAINING_STATUSES): Promise<boolean> {
    const result = await this.bookkeeping(() => this.o.db.getRepository(TrainingRun).update(
      { id: run.id, status: In([...from]) }, { status: TrainingStatus.CANCELLED, finishedAt: this.o.clock.now() },
    ));
    if (!result.affected) return false;
    await this.afterFinal(run, async () => {
      await this.bookkeeping(() => this.o.redis.del(trainingCancelKey(this.o.prefix, run.id)));
      const fresh = await this.find(run.id);
      await this.announce(run, { type: 'CANCELLED', step, totalSteps: run.config.steps, checkpointStep: fresh?.checkpointStep ?? null });
    });
    return true;
  }

  /** Asks the worker running `run` to stop before its next step (it then calls `cancel`). */
  async requestCancel(run: TrainingRun): Promise<void> {
    await this.o.redis.set(trainingCancelKey(this.o.prefix, run.id), '1', 'EX', 24 * 3600);
  }

  cancelRequested(runId: string): Promise<boolean> {
    return this.o.redis.exists(trainingCancelKey(this.o.prefix, runId)).then((n) => n > 0);
  }
}
