import { WaitingError, Worker, type ConnectionOptions, type Job as BullJob } from 'bullmq';
import type { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { AiModel, DatasetImage, OPEN_TRAINING_STATUSES, type TrainingRun } from '../entities';
import { AppError, isServiceOutage, type JobFailureCode } from '../kernel/errors';
import { TRAINING_QUEUE, type TrainingJobData } from '../kernel/queues';
import type { Logger } from '../observability/logger';
import { closeWorker } from '../redis/worker-close';
import { logRedisErrors } from '../redis/error-log';
import { NO_TRAINING_METRICS, type TrainingMetrics } from '../observability/metrics';
import type { FairScheduler } from '../services/scheduling';
import type { TrainedLora, TrainingLifecycle } from '../services/training-lifecycle';
import type { ArtifactStore } from '../storage/artifact-store';
import { ModelFetchError, ModelFolders } from '../storage/model-folders';
import { onnxFolderOf } from '../services/model-input';
import { withoutServerPaths } from './server-paths';
import { OutageGate } from './outage-gate';
import { TrainingError, type TrainingBackend, type TrainingProgress, type TrainingSpec } from './training/types';

export interface TrainingWorkerOptions {
  db: DataSource;
  /** The command client: with `db` and `store`, what the outage probe asks. */
  redis: Redis;
  connection: ConnectionOptions;
  prefix: string;
  lifecycle: TrainingLifecycle;
  /** The training queue's fair scheduler: its band clock advances as runs start. */
  scheduler: FairScheduler;
  store: ArtifactStore;
  backend: TrainingBackend;
  modelsDir: string;
  logger: Logger;
  /** A dead worker's run is resumed elsewhere after about this long. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  metrics?: TrainingMetrics;
  /**
   * How long a run's bookkeeping is retried while PostgreSQL, Redis or the
   * artifact store is unreachable before the run goes back to the queue
   * (still RUNNING, resumed from its last checkpoint).
   */
  outageRetryMs?: number;
}

/** How often PROGRESS is published and the row updated at most (the last step always is): events, not a firehose. */
const PROGRESS_EVERY_MS = 200;

/**
 * `lockLost`: the entry's lock lapsed, so BullMQ may give the run to another worker (GenerationWorker's `letGo`).
 * `superseded`: the row says this worker's attempt no longer holds the run (another worker started it again, or it
 * ended elsewhere; TrainingLifecycle.start), found at the next step recorded or checkpoint, should the lock's loss go
 * unnoticed (its renewal is a timer; a run ahead of it, or a loaded machine, can train on past it).
 */
type StopReason = 'cancelled' | 'shutdown' | 'lockLost' | 'superseded';

/** Best-effort reporting (progress, evaluations, the cancel check): what an outage costs is the report, never the run. */
type BestEffort = <T>(what: string, step: () => Promise<T>) => Promise<T | undefined>;

const FAILURE_CODES: Record<string, JobFailureCode> = { INVALID_SPEC: 'INVALID_PARAMETERS', UNSUPPORTED_MODEL: 'MODEL_INVALID', FAILED: 'WORKER_ERROR' };

/**
 * Runs training entries from their BullMQ queue through a TrainingBackend: a
 * thin driver that loads the run's dataset and last checkpoint, reports the
 * trainer's hooks to the TrainingLifecycle (events, checkpoints, samples) and
 * tells it how the run ended. A run whose worker died is given to another
 * worker by BullMQ's stalled check and resumes from its last checkpoint. Its
 * bookkeeping rides out database, Redis and artifact-store outages
 * (OutageGate), as generations do; one that outlasts the retries puts the run
 * back in the queue instead of failing it.
 */
export class TrainingWorker {
  private readonly worker: Worker<TrainingJobData, void>;
  private readonly metrics: TrainingMetrics;
  /** The base models' folders on this machine, fetched from the artifact store when missing (as the generation worker's). */
  private readonly folders: ModelFolders;
  private readonly gate: OutageGate;
  /** The lifecycle with its bookkeeping retried through outages (`gate.durable`). */
  private readonly lifecycle: TrainingLifecycle;
  /** Running runs by id, each with the function that stops it: on shutdown (handed back) or when its lock is lost. */
  private readonly running = new Map<string, (why: 'shutdown' | 'lockLost') => void>();

  constructor(private readonly o: TrainingWorkerOptions) {
    this.metrics = o.metrics ?? NO_TRAINING_METRICS;
    this.folders = new ModelFolders(o.store, o.modelsDir);
    this.gate = OutageGate.forWorker(o, () => this.worker);
    this.lifecycle = o.lifecycle.withBookkeeping(this.gate.durable);
    this.worker = new Worker<TrainingJobData, void>(TRAINING_QUEUE, (entry, token) => this.process(entry, token), {
      connection: o.connection,
      prefix: `${o.prefix}:bull`,
      // Training takes the machine's cores: one run at a time per worker.
      concurrency: 1,
      lockDuration: o.lockDurationMs ?? 30_000,
      stalledInterval: o.stalledIntervalMs ?? 30_000,
      // Each stall is a dead worker; the run resumes from its checkpoint, so crashes are survivable many times.
      maxStalledCount: 10,
    });
    logRedisErrors(this.worker, o.logger, 'training worker error');
    this.worker.on('lockRenewalFailed', (runIds) => {
      for (const runId of runIds) this.running.get(runId)?.('lockLost');
    });
  }

  /**
   * Drives one queue entry. An outage that outlasts the bookkeeping retries
   * puts the entry back in the queue as delayed, which BullMQ does not count
   * as an attempt; the run stays RUNNING (or QUEUED) and the next worker to
   * take it resumes it from its last checkpoint.
   */
  private async process(entry: BullJob<TrainingJobData>, token?: string): Promise<void> {
    const log = this.o.logger.child({ runId: entry.data.runId, requestId: entry.data.requestId });
    await this.gate.putBackThrough(entry, token, log, 'run', () => this.drive(entry, token, log));
  }

  private async drive(entry: BullJob<TrainingJobData>, token: string | undefined, log: Logger): Promise<void> {
    const found = await this.lifecycle.find(entry.data.runId);
    if (!found) return void log.warn('training entry without a run row (deleted): discarded');
    if (!(OPEN_TRAINING_STATUSES as readonly string[]).includes(found.status)) {
      // Its end may be unsaid: an outage longer than the retries came between the row and the event (docs/operations.md).
      log.info({ status: found.status }, 'run already final: its end announced again where it was not');
      return void (await this.lifecycle.announceEnd(found));
    }
    if (await this.gate.durable(() => this.lifecycle.cancelRequested(found.id))) return void (await this.lifecycle.cancel(found, found.step));
    if (entry.opts.priority) await this.o.scheduler.started(entry.opts.priority).catch((err) => log.warn({ err }, 'fair clock not advanced'));
    const run = await this.lifecycle.start(found);
    if (!run) return;
    log.info({ resumedFrom: run.checkpointStep, steps: run.config.steps }, run.checkpointStep ? 'training resumed' : 'training started');
    let spec: TrainingSpec;
    try {
      spec = await this.gate.durable(() => this.specOf(run));
    } catch (error) {
      if (isServiceOutage(error)) throw error;
      // As the generation worker: bytes that do not match the model row are an invalid model, a missing folder one that did not load.
      const code = error instanceof ModelFetchError ? (error.kind === 'checksum' ? 'MODEL_INVALID' : 'MODEL_LOAD_FAILED') : 'WORKER_ERROR';
      log.warn({ err: error, code }, 'training failed before it started');
      await this.lifecycle.fail(run, { code, message: withoutServerPaths((error as Error).message) }, run.step);
      return void this.metrics.runEnded(run.id, 'failed');
    }
    await this.train(run, spec, entry, token, log);
  }

  private async train(run: TrainingRun, spec: TrainingSpec, entry: BullJob<TrainingJobData>, token: string | undefined, log: Logger): Promise<void> {
    const controller = new AbortController();
    let reason: StopReason | null = null;
    const stop = (why: StopReason) => { reason ??= why; controller.abort(); };
    this.running.set(run.id, stop);
    const bestEffort = this.bestEffort(log);
    const reporter = new ProgressReporter(run, this.lifecycle, this.metrics, bestEffort, () => stop('superseded'));
    // Checkpoints and samples are retried through an outage (`durable`). One the retries did not outlast stops the
    // trainer instead of throwing from its hook; the run then goes back to the queue.
    let outage: unknown = null;
    const bookkeeping = async (step: () => Promise<void>) => {
      if (outage) return;
      try {
        await step();
      } catch (error) {
        if (!isServiceOutage(error)) throw error;
        outage = error;
        controller.abort();
      }
    };
    let outcome = 'failed';
    try {
      const result = await this.o.backend.train(spec, {
        onProgress: async (p) => {
          await reporter.report(p);
          if (await bestEffort('cancel check', () => this.lifecycle.cancelRequested(run.id))) { reason ??= 'cancelled'; controller.abort(); }
        },
        // Every evaluation is published (a few dozen a run), unlike the throttled PROGRESS.
        onEvaluation: (e) => bestEffort('EVALUATION', () => this.lifecycle.publish(run, {
          type: 'EVALUATION', step: e.step, totalSteps: run.config.steps, evaluationLoss: e.loss,
        })),
        onCheckpoint: (c) => bookkeeping(async () => {
          if (!(await this.lifecycle.checkpoint(run, c.step, c.lora, c.optimizerState))) stop('superseded');
        }),
        onSample: (s) => bookkeeping(async () => {
          if (!(await this.lifecycle.samples(run, s.step, s.images))) stop('superseded');
        }),
      }, controller.signal);
      await reporter.flush();
      const lora = await this.complete(run, result);
      if (!lora && (await this.stillOpen(run.id))) {
        // Started again by a later attempt between this one's last step record and its completion.
        stop('superseded');
        throw new WaitingError();
      }
      outcome = lora ? 'completed' : 'superseded';
      log.info({ loraId: lora?.id, finalLoss: result.finalLoss }, lora ? 'training completed' : 'run was finished elsewhere meanwhile');
    } catch (error) {
      await reporter.flush().catch(() => undefined);
      // Bookkeeping an outage outlasted (a hook's, or the completion's; never the trainer's own failure).
      const unreachable = outage ?? (isServiceOutage(error) && !(error instanceof TrainingError) ? error : null);
      if (reason === 'shutdown' || reason === 'lockLost' || reason === 'superseded') outcome = 'handed-back';
      else if (unreachable) {
        // process() puts the run back in the queue, still RUNNING.
        outcome = 'handed-back';
        throw unreachable;
      }
      outcome = await this.ended(run, entry, token, error, reason, reporter.step, log);
    } finally {
      this.running.delete(run.id);
      this.metrics.runEnded(run.id, outcome);
    }
  }

  /** How a run that threw ended: handed back on shutdown, cancelled, or failed. Returns the outcome label. */
  private async ended(
    run: TrainingRun, entry: BullJob<TrainingJobData>, token: string | undefined, error: unknown, reason: StopReason | null, step: number, log: Logger,
  ): Promise<string> {
    if (reason === 'lockLost') {
      // Left RUNNING, and the entry as it is: it is no longer this worker's to move. Whoever takes it next
      // resumes the run from its last checkpoint.
      log.warn({ step }, 'queue lock lost (held past its expiry): the run is left to whichever worker takes it next');
      throw new WaitingError();
    }
    if (reason === 'superseded') {
      // As a lost lock: the entry is whoever started the run last's to move (or, for a run that ended, the stalled
      // check's, which finds it final).
      log.warn({ step }, 'run taken from this worker (started again elsewhere, or ended): it stops here');
      throw new WaitingError();
    }
    if (reason === 'shutdown') {
      // Left RUNNING: the next worker resumes it from the last checkpoint.
      await entry.moveToWait(token);
      log.warn({ step }, 'worker shutting down: run handed back to the queue');
      throw new WaitingError();
    }
    if (reason === 'cancelled' || (error instanceof TrainingError && error.code === 'CANCELLED')) {
      await this.lifecycle.cancel(run, step);
      return 'cancelled';
    }
    const code = error instanceof TrainingError ? FAILURE_CODES[error.code] ?? 'WORKER_ERROR' : 'WORKER_ERROR';
    log.warn({ err: error, code }, 'training failed');
    await this.lifecycle.fail(run, { code, message: withoutServerPaths((error as Error).message) }, step);
    return 'failed';
  }

  /** Whether a run's row is still open (queued or running): a completion refused then was a later attempt's to make. */
  private async stillOpen(runId: string): Promise<boolean> {
    const row = await this.lifecycle.find(runId);
    return row !== null && (OPEN_TRAINING_STATUSES as readonly string[]).includes(row.status);
  }

  /** Registers the LoRA; a version number taken by another run at the same moment is retried. */
  private async complete(run: TrainingRun, result: TrainedLora) {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.lifecycle.complete(run, result);
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'CONFLICT') || attempt >= 3) throw error;
      }
    }
  }

  /**
   * Tries `step` once; an outage is logged (once per outage), reported to the gate and answered with undefined, and
   * while the gate waits one out the step is not tried at all: a command would only wait for the server in vain.
   */
  private bestEffort(log: Logger): BestEffort {
    return async (what, step) => {
      if (this.gate.down) return undefined;
      try {
        return await step();
      } catch (error) {
        if (!isServiceOutage(error)) throw error;
        log.warn({ err: error }, `${what} skipped: database, Redis or the artifact store unreachable`);
        this.gate.report(error);
        return undefined;
      }
    };
  }

  /** The trainer's spec (retried as a whole through an outage): the dataset's images from the store, the model's folder, and the last checkpoint to resume from. */
  private async specOf(run: TrainingRun): Promise<TrainingSpec> {
    if (!run.datasetId) throw new Error('The run\'s dataset was deleted');
    const rows = await this.o.db.getRepository(DatasetImage).find({ where: { datasetId: run.datasetId }, order: { createdAt: 'ASC', id: 'ASC' } });
    if (rows.length === 0) throw new Error('The run\'s dataset has no images');
    const images = await Promise.all(rows.map(async (row) => {
      const bytes = await this.o.store.get(row.storageKey);
      if (!bytes) throw new Error(`Dataset image ${row.id} is missing from storage`);
      return { bytes, caption: row.caption };
    }));
    const model = await this.o.db.getRepository(AiModel).findOneByOrFail({ id: run.baseModelId });
    const resume = await this.o.lifecycle.loadCheckpoint(run);
    return { modelDir: await this.modelFolder(model), images, ...run.config, resume: resume ?? undefined };
  }

  /**
   * The base model's folder, found as the generation worker finds it: the model's registered `path` (a folder of
   * the models folder), else the folder named like the model, fetched from the artifact store into the models folder
   * when this machine lacks it (`atelier models push`; storage/model-folders.ts).
   */
  private modelFolder(model: AiModel): Promise<string> {
    return this.folders.folderOf({ name: onnxFolderOf(model), files: model.files });
  }

  get bullWorker(): Worker<TrainingJobData, void> {
    return this.worker;
  }

  /** Stops taking runs; a run still going after `graceMs` is handed back (it resumes from its last checkpoint elsewhere). */
  async close(graceMs = 30_000): Promise<void> {
    await this.gate.stop();
    await closeWorker(this.worker, {
      graceMs, running: () => this.running.size, logger: this.o.logger,
      handBack: () => { for (const stop of this.running.values()) stop('shutdown'); },
    });
  }
}

/** Turns every step's report into at most one PROGRESS event and row update per PROGRESS_EVERY_MS (best effort), and the metrics. */
class ProgressReporter {
  step = 0;
  private last: TrainingProgress | null = null;
  private sentAt = 0;
  private rateFrom = { at: Date.now(), step: 0 };

  constructor(
    private readonly run: TrainingRun, private readonly lifecycle: TrainingLifecycle, private readonly metrics: TrainingMetrics,
    private readonly bestEffort: BestEffort,
    /** Called when the row says the run is no longer this attempt's (`recordStep`). */
    private readonly superseded: () => void,
  ) {
    this.step = run.checkpointStep ?? 0;
    this.rateFrom.step = this.step;
  }

  async report(p: TrainingProgress): Promise<void> {
    this.step = p.step;
    this.last = p;
    const now = Date.now();
    if (now - this.sentAt < PROGRESS_EVERY_MS && p.step < p.totalSteps) return;
    await this.send(p, now);
  }

  async flush(): Promise<void> {
    if (this.last && this.last.step !== this.rateFrom.step) await this.send(this.last, Date.now());
  }

  private async send(p: TrainingProgress, now: number): Promise<void> {
    const seconds = (now - this.rateFrom.at) / 1000;
    if (seconds > 0) this.metrics.progress(this.run.id, (p.step - this.rateFrom.step) / seconds, p.loss);
    this.rateFrom = { at: now, step: p.step };
    this.sentAt = now;
    // Not this attempt's any more: its progress is not the run's to announce.
    if ((await this.bestEffort('step record', () => this.lifecycle.recordStep(this.run, p.step, p.loss))) === false) return this.superseded();
    await this.bestEffort('PROGRESS', () => this.lifecycle.publish(this.run, {
      type: 'PROGRESS', step: p.step, totalSteps: p.totalSteps, loss: p.loss, learningRate: p.learningRate, etaMs: Math.round(p.etaSeconds * 1000),
    }));
  }
}
