import path from 'node:path';
import { WaitingError, Worker, type ConnectionOptions, type Job as BullJob } from 'bullmq';
import { DataSource } from 'typeorm';
import { AiModel, DatasetImage, OPEN_TRAINING_STATUSES, type TrainingRun } from '../entities';
import { AppError, type JobFailureCode } from '../kernel/errors';
import { TRAINING_QUEUE, type TrainingJobData } from '../kernel/queues';
import type { Logger } from '../observability/logger';
import { closeWorker } from '../redis/worker-close';
import { logRedisErrors } from '../redis/error-log';
import { NO_TRAINING_METRICS, type TrainingMetrics } from '../observability/metrics';
import type { FairScheduler } from '../services/scheduling';
import type { TrainedLora, TrainingLifecycle } from '../services/training-lifecycle';
import type { ArtifactStore } from '../storage/artifact-store';
import { TrainingError, type TrainingBackend, type TrainingProgress, type TrainingSpec } from './training/types';

export interface TrainingWorkerOptions {
  db: DataSource;
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
}

/** How often PROGRESS is published and the row updated at most (the last step always is): events, not a firehose. */
const PROGRESS_EVERY_MS = 200;

type StopReason = 'cancelled' | 'shutdown';

const FAILURE_CODES: Record<string, JobFailureCode> = { INVALID_SPEC: 'INVALID_PARAMETERS', UNSUPPORTED_MODEL: 'MODEL_INVALID', FAILED: 'WORKER_ERROR' };

/**
 * Runs training entries from their BullMQ queue through a TrainingBackend: a
 * thin driver that loads the run's dataset and last checkpoint, reports the
 * trainer's hooks to the TrainingLifecycle (events, checkpoints, samples) and
 * tells it how the run ended. A run whose worker died is given to another
 * worker by BullMQ's stalled check and resumes from its last checkpoint.
 */
export class TrainingWorker {
  private readonly worker: Worker<TrainingJobData, void>;
  private readonly metrics: TrainingMetrics;
  /** Running runs by id, each with the function that stops it for shutdown. */
  private readonly running = new Map<string, () => void>();

  constructor(private readonly o: TrainingWorkerOptions) {
    this.metrics = o.metrics ?? NO_TRAINING_METRICS;
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
  }

  private async process(entry: BullJob<TrainingJobData>, token?: string): Promise<void> {
    const log = this.o.logger.child({ runId: entry.data.runId, requestId: entry.data.requestId });
    const found = await this.o.lifecycle.find(entry.data.runId);
    if (!found) return void log.warn('training entry without a run row (deleted): discarded');
    if (!(OPEN_TRAINING_STATUSES as readonly string[]).includes(found.status)) return void log.info({ status: found.status }, 'run already final: skipped');
    if (await this.o.lifecycle.cancelRequested(found.id)) return void (await this.o.lifecycle.cancel(found, found.step));
    if (entry.opts.priority) await this.o.scheduler.started(entry.opts.priority).catch((err) => log.warn({ err }, 'fair clock not advanced'));
    const run = await this.o.lifecycle.start(found);
    if (!run) return;
    log.info({ resumedFrom: run.checkpointStep, steps: run.config.steps }, run.checkpointStep ? 'training resumed' : 'training started');
    let spec: TrainingSpec;
    try {
      spec = await this.specOf(run);
    } catch (error) {
      await this.o.lifecycle.fail(run, { code: 'WORKER_ERROR', message: (error as Error).message }, run.step);
      return void this.metrics.runEnded(run.id, 'failed');
    }
    await this.train(run, spec, entry, token, log);
  }

  private async train(run: TrainingRun, spec: TrainingSpec, entry: BullJob<TrainingJobData>, token: string | undefined, log: Logger): Promise<void> {
    const controller = new AbortController();
    let reason: StopReason | null = null;
    this.running.set(run.id, () => { reason = 'shutdown'; controller.abort(); });
    const reporter = new ProgressReporter(run, this.o.lifecycle, this.metrics);
    let outcome = 'failed';
    try {
      const result = await this.o.backend.train(spec, {
        onProgress: async (p) => {
          await reporter.report(p);
          if (await this.o.lifecycle.cancelRequested(run.id)) { reason ??= 'cancelled'; controller.abort(); }
        },
        // Every evaluation is published (a few dozen a run), unlike the throttled PROGRESS.
        onEvaluation: (e) => this.o.lifecycle.publish(run, { type: 'EVALUATION', step: e.step, totalSteps: run.config.steps, evaluationLoss: e.loss }),
        onCheckpoint: (c) => this.o.lifecycle.checkpoint(run, c.step, c.lora, c.optimizerState),
        onSample: (s) => this.o.lifecycle.samples(run, s.step, s.images),
      }, controller.signal);
      await reporter.flush();
      const lora = await this.complete(run, result);
      outcome = lora ? 'completed' : 'superseded';
      log.info({ loraId: lora?.id, finalLoss: result.finalLoss }, lora ? 'training completed' : 'run was finished elsewhere meanwhile');
    } catch (error) {
      await reporter.flush().catch(() => undefined);
      if (reason === 'shutdown') outcome = 'handed-back';
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
    if (reason === 'shutdown') {
      // Left RUNNING: the next worker resumes it from the last checkpoint.
      await entry.moveToWait(token);
      log.warn({ step }, 'worker shutting down: run handed back to the queue');
      throw new WaitingError();
    }
    if (reason === 'cancelled' || (error instanceof TrainingError && error.code === 'CANCELLED')) {
      await this.o.lifecycle.cancel(run, step);
      return 'cancelled';
    }
    const code = error instanceof TrainingError ? FAILURE_CODES[error.code] ?? 'WORKER_ERROR' : 'WORKER_ERROR';
    log.warn({ err: error, code }, 'training failed');
    await this.o.lifecycle.fail(run, { code, message: (error as Error).message }, step);
    return 'failed';
  }

  /** Registers the LoRA; a version number taken by another run at the same moment is retried. */
  private async complete(run: TrainingRun, result: TrainedLora) {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.o.lifecycle.complete(run, result);
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'CONFLICT') || attempt >= 3) throw error;
      }
    }
  }

  /** The trainer's spec: the dataset's images from the store, the model's folder, and the last checkpoint to resume from. */
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
    return { modelDir: path.join(this.o.modelsDir, model.name), images, ...run.config, resume: resume ?? undefined };
  }

  get bullWorker(): Worker<TrainingJobData, void> {
    return this.worker;
  }

  /** Stops taking runs; a run still going after `graceMs` is handed back (it resumes from its last checkpoint elsewhere). */
  async close(graceMs = 30_000): Promise<void> {
    await closeWorker(this.worker, {
      graceMs, running: () => this.running.size, logger: this.o.logger,
      handBack: () => { for (const stop of this.running.values()) stop(); },
    });
  }
}

/** Turns every step's report into at most one PROGRESS event and row update per PROGRESS_EVERY_MS, and the metrics. */
class ProgressReporter {
  step = 0;
  private last: TrainingProgress | null = null;
  private sentAt = 0;
  private rateFrom = { at: Date.now(), step: 0 };

  constructor(private readonly run: TrainingRun, private readonly lifecycle: TrainingLifecycle, private readonly metrics: TrainingMetrics) {
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
    await this.lifecycle.recordStep(this.run, p.step, p.loss);
    await this.lifecycle.publish(this.run, {
      type: 'PROGRESS', step: p.step, totalSteps: p.totalSteps, loss: p.loss, learningRate: p.learningRate, etaMs: Math.round(p.etaSeconds * 1000),
    });
  }
}
