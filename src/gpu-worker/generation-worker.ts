import { rm } from 'node:fs/promises';
import path from 'node:path';
import { DelayedError, UnrecoverableError, WaitingError, Worker, type ConnectionOptions, type Job as BullJob } from 'bullmq';
import type { Redis } from 'ioredis';
import { DataSource, In } from 'typeorm';
import { AiModel, InferenceBackend as BackendKind, Job, JobKind, JobStatus, Lora, OPEN_JOB_STATUSES } from '../entities';
import type { Logger } from '../observability/logger';
import type { RunningJob } from '../observability/worker-registry';
import { closeWorker } from '../redis/worker-close';
import { logRedisErrors } from '../redis/error-log';
import { redactPrompt } from '../observability/logger';
import { NO_WORKER_METRICS, type WorkerMetrics } from '../observability/metrics';
import { runInJobTrace } from '../observability/tracing';
import { isServiceOutage } from '../kernel/errors';
import type { Clock } from '../kernel/clock';
import type { JobLifecycle } from '../services/job-lifecycle';
import type { NewImage } from '../services/job-transitions';
import { cancelFlagKey } from '../kernel/queues';
import type { ArtifactStore } from '../storage/artifact-store';
import type { ArtifactFileCache } from '../storage/artifact-file-cache';
import { ModelFetchError, ModelFolders } from '../storage/model-folders';
import { jobImageKey } from '../storage/job-files';
import { OutageGate } from './outage-gate';
import { RenderSlots } from './render-slots';
import { StepReporter } from './step-reporter';
import { PipelineAbortedError, PipelineError } from './pipeline/errors';
import { samplerKind } from './pipeline/scheduler';
import { type GeneratedImage, type ImagePipeline, type LoraApplication, type StepProgress } from './pipeline/types';
import { COMFYUI_SAMPLERS } from '../kernel/generation-parameters';
import { BackendError } from './backends/backend-error';
import type { InferenceBackend } from './backends/inference-backend';
import { OnnxBackend } from './backends/onnx-backend';
import type { RemoteBackend, RemoteBackends } from './backends/remote-backends';
import type { PipelineCache } from './models/pipeline-cache';
import { recordStepCost } from '../services/queue-positions';
import { onnxFolderOf } from '../services/model-input';
import { loraLabelInOutput } from '../services/access-rules';
import { withoutServerPaths } from './server-paths';
import { type JobFailure } from '../kernel/events';
import { GENERATION_QUEUE, type GenerationJobData } from '../kernel/queues';
import { ensureFfmpeg } from './video-encoder';
import { renderVideoJob } from './video-job';

export interface WorkerOptions {
  db: DataSource;
  redis: Redis;
  connection: ConnectionOptions;
  prefix: string;
  /** Every state change of a job goes through it (transitions, quota, events, positions, webhooks). */
  lifecycle: JobLifecycle;
  store: ArtifactStore;
  /** Local paths of stored LoRA files (downloaded and cached when the store is remote). */
  artifactFiles: ArtifactFileCache;
  pipelines: PipelineCache;
  modelsDir: string;
  clock: Clock;
  logger: Logger;
  concurrency: number;
  previewEvery: number;
  jobTimeoutMs: number;
  /** How long a job's lock lives without renewal: a dead worker's job is picked up after about this. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Job duration, failures by reason, step time, jobs in progress, model load time. */
  metrics?: WorkerMetrics;
  /**
   * How long a job's bookkeeping is retried while PostgreSQL or Redis is
   * unreachable before the job goes back to the queue (without spending one
   * of its attempts).
   */
  outageRetryMs?: number;
  /** Models read per job and the ComfyUI / OpenAI-Images backends built from them (docs/backends.md). */
  remote?: RemoteBackends;
  /** How long a job waits, back in the queue, before it checks again a backend whose breakers are all open. */
  backendWaitMs?: number;
  /** The ffmpeg that encodes VIDEO jobs (default: found, or installed, at the first clip; docs/video.md). */
  ffmpegPath?: string;
}

/** How often the cancel flag is read while a remote backend runs a job (it may send no steps for a while). */
const REMOTE_CANCEL_POLL_MS = 500;

/**
 * Why an abort happened, so the job ends in the right state. `lockLost`: the
 * queue entry's lock lapsed (an outage longer than the lock), so BullMQ may
 * give the job to another worker; this run stops and touches nothing.
 * `superseded`: the row says so first (another worker's start counted a
 * later attempt before this one's lock renewal failed); the same stop.
 */
type AbortReason = 'cancelled' | 'timeout' | 'shutdown' | 'lockLost' | 'superseded';

/**
 * Runs generation jobs from the BullMQ queue through the ONNX pipeline: a
 * thin driver that loads the job, runs the pipeline and tells the job
 * lifecycle how it ended. Its bookkeeping rides out database and Redis
 * outages (OutageGate) instead of spending the job's attempts.
 */
export class GenerationWorker {
  private readonly worker: Worker<GenerationJobData, void>;
  private readonly lifecycle: JobLifecycle;
  private readonly gate: OutageGate;
  /**
   * Where images, clips and posters are stored: through an outage of the
   * store (S3 unreachable) a rendered one is kept and stored once it is back.
   */
  private readonly results: Pick<ArtifactStore, 'put'>;
  /** Jobs rendered at once (`concurrency`), plus one being recorded beside each. */
  private readonly slots: RenderSlots;
  private readonly metrics: WorkerMetrics;
  /**
   * Running jobs by id, in the order they began, each with the function that stops it (on shutdown: handed back;
   * when its lock is lost) and what its heartbeat says of it (queue ETAs).
   */
  private readonly running = new Map<string, { stop: (why: 'shutdown' | 'lockLost') => void; work: RunningJob }>();
  /** Told when a job begins or ends here: the heartbeat beats then (worker-observability.ts). */
  private runningChanged: () => void = () => undefined;
  private modelReady = false;
  private lastProvider: string | null = null;
  /** The models folder, filled from the artifact store when a model is not on this machine. */
  private readonly folders: ModelFolders;

  constructor(private readonly o: WorkerOptions) {
    this.metrics = o.metrics ?? NO_WORKER_METRICS;
    this.folders = new ModelFolders(o.store, o.modelsDir);
    this.gate = OutageGate.forWorker(o, () => this.worker);
    this.lifecycle = o.lifecycle.withBookkeeping(this.gate.durable, o.db);
    this.results = { put: (key, data, type) => this.gate.durable(() => o.store.put(key, data, type)) };
    this.worker = new Worker<GenerationJobData, void>(GENERATION_QUEUE, (job, token) =>
      runInJobTrace(job.data, 'generation.job', { 'atelier.job.id': job.data.jobId }, () => this.process(job, token)), {
      connection: o.connection,
      prefix: `${o.prefix}:bull`,
      concurrency: o.concurrency,
      lockDuration: o.lockDurationMs ?? 30_000,
      stalledInterval: o.stalledIntervalMs ?? 30_000,
      maxStalledCount: 3,
      autorun: true,
    });
    logRedisErrors(this.worker, o.logger, 'worker error');
    this.worker.on('lockRenewalFailed', (jobIds) => {
      for (const jobId of jobIds) this.running.get(jobId)?.stop('lockLost');
    });
    // Another worker's job whose lock lapsed is back in the queue: its stream hears it waits (docs/architecture.md, "Back in the queue").
    this.worker.on('stalled', (jobId) => {
      this.lifecycle.foundStalled(jobId).catch((err) => o.logger.warn({ err, jobId }, 'a stalled job\'s return to the queue could not be announced'));
    });
    this.slots = new RenderSlots(this.worker, o.concurrency);
  }

  /**
   * Drives one queue entry. An outage that outlasts the bookkeeping retries
   * puts the entry back in the queue as delayed, which BullMQ does not count
   * as an attempt; the row stays open and is picked up again from either state.
   */
  private async process(bullJob: BullJob<GenerationJobData>, token?: string): Promise<void> {
    const log = this.o.logger.child({ jobId: bullJob.data.jobId, requestId: bullJob.data.requestId });
    await this.gate.putBackThrough(bullJob, token, log, 'job', () => this.drive(bullJob, log, token));
  }

  private async drive(bullJob: BullJob<GenerationJobData>, log: Logger, token?: string): Promise<void> {
    if (bullJob.data.modelId && (await this.startWarm(bullJob, bullJob.data.modelId, log, token))) return;
    const durable = this.gate.durable;
    // The row and the cancel flag are read together (one wait, not two).
    const [job, cancelFlag] = await durable(() => Promise.all([
      this.lifecycle.transitions.find(bullJob.data.jobId), this.o.redis.get(cancelFlagKey(this.o.prefix, bullJob.data.jobId)),
    ]));
    // The row commits before its entry is added (docs/operations.md): no row means it was deleted since.
    if (!job) return void log.warn('queue entry without a job row (deleted): discarded');
    if (job.status !== JobStatus.PENDING && job.status !== JobStatus.PROCESSING) {
      // Its end may be unsaid: an outage longer than the retries came between the row and the event (docs/operations.md).
      log.info({ status: job.status }, 'job already final: its end announced again where it was not');
      return void (await this.lifecycle.announceEnd(job));
    }
    if (job.status === JobStatus.PENDING && job.deadlineAt && job.deadlineAt < this.o.clock.now()) {
      return void (await this.fail(job, { code: 'DEADLINE_EXCEEDED', message: 'The job could not start before its deadline' }, log));
    }
    if (cancelFlag) return void (await this.cancel(job, log));

    let model: AiModel;
    try {
      model = await durable(() => this.modelOf(job.modelId));
    } catch (error) {
      return this.failFromError(job, bullJob, error, log);
    }
    if (model.backend !== BackendKind.ONNX && this.o.remote) return this.driveRemote(job, bullJob, model, log, token);

    let pipeline: ImagePipeline;
    let modelDir: string;
    try {
      // <models dir>/<path> (or <name>), fetched from the artifact store when missing.
      modelDir = await this.modelFolder(model);
      pipeline = await this.acquire(modelDir);
    } catch (error) {
      return this.failFromError(job, bullJob, error, log);
    }
    // Held for the whole job: with concurrency > 1, another job's model load must
    // not evict (and release) the sessions this one is using.
    const release = this.o.pipelines.hold(modelDir);
    try {
      await this.run(job, bullJob, new OnnxBackend(pipeline), path.basename(pipeline.modelDir), log, token);
    } finally {
      release();
    }
  }

  /**
   * The usual job, started with one statement: its entry names its model,
   * and that model runs on ONNX and is loaded. The model (a cached copy)
   * says first whether the job can start this way, so a remote or cold
   * model's job goes to `drive` without a Redis read it would repeat; the
   * start's UPDATE returns the row instead of a read before it, and the
   * cancel flag is read beside it (docs/architecture.md, "The job path").
   * False when any of that does not hold, or the start matched no row
   * (final, past its deadline, deleted): `drive` then reads the row and
   * deals with the job as it always has.
   */
  private async startWarm(bullJob: BullJob<GenerationJobData>, modelId: string, log: Logger, token?: string): Promise<boolean> {
    const { jobId } = bullJob.data;
    const model = await this.gate.durable(() => this.modelOf(modelId).catch(() => null));
    // A loaded model's sessions are in memory: its folder need not be looked for on disk again.
    const modelDir = model?.backend === BackendKind.ONNX ? this.folders.pathOf({ name: onnxFolderOf(model) }) : null;
    if (!modelDir || !this.o.pipelines.has(modelDir)) return false;
    const release = this.o.pipelines.hold(modelDir);
    try {
      const pipeline = await this.acquire(modelDir).catch(() => null);
      if (!pipeline) return false;
      // The cancel flag is read while the start is written: one wait before the render, not two.
      const [cancelFlag, begun] = await Promise.all([
        this.gate.durable(() => this.o.redis.get(cancelFlagKey(this.o.prefix, jobId))),
        this.lifecycle.beginById(jobId, modelId, pipeline.executionProvider),
      ]);
      if (!begun) return false;
      if (cancelFlag) {
        // A cancel that came as the entry was taken (JobService.stop): the job ends before anything renders,
        // its CANCELLED after its STARTED.
        await begun.announced;
        await this.cancel(begun.job, log);
        return true;
      }
      await this.run(begun.job, bullJob, new OnnxBackend(pipeline), path.basename(pipeline.modelDir), log, token, begun);
      return true;
    } finally {
      release();
    }
  }

  /** A job's model: the remote backends' short-lived copy when there are any, else its row. */
  private modelOf(modelId: string): Promise<AiModel> {
    return this.o.remote?.model(modelId) ?? this.o.db.getRepository(AiModel).findOneByOrFail({ id: modelId });
  }

  /**
   * A ComfyUI or OpenAI-Images model. While every endpoint's breaker is open
   * the job goes back to the queue, still PENDING and without spending an
   * attempt, and checks again a little later: it fails only at its deadline
   * (checked in `drive`), and runs as soon as a probe closes a breaker.
   */
  private async driveRemote(job: Job, bullJob: BullJob<GenerationJobData>, model: AiModel, log: Logger, token?: string): Promise<void> {
    let backend: RemoteBackend;
    try {
      backend = this.o.remote!.backendFor(model);
    } catch (error) {
      return this.failFromError(job, bullJob, error, log);
    }
    if (!(backend.available() && (await backend.recover()))) {
      const waitMs = this.o.backendWaitMs ?? 2000;
      await this.o.remote!.markWaiting(model.id, model.backend, waitMs * 3);
      log.info({ backend: model.backend, model: model.name }, 'every endpoint of the backend is open: job waits in the queue');
      await bullJob.moveToDelayed(Date.now() + waitMs, token);
      throw new DelayedError();
    }
    // ComfyUI's socket opens (when it is not open already) while the job's start is written.
    backend.warm();
    await this.run(job, bullJob, backend, model.name, log, token);
  }

  /**
   * Runs an acquired job through its backend and records how it ended;
   * `begunAlready` when the job's start is written already (`startWarm`).
   */
  private async run(
    job: Job, bullJob: BullJob<GenerationJobData>, backend: InferenceBackend, modelName: string, log: Logger, token?: string,
    begunAlready?: { announced: Promise<void> },
  ): Promise<void> {
    // The render starts once the row says PROCESSING; STARTED goes out meanwhile, ahead of every PROGRESS.
    const begun = begunAlready ?? await this.lifecycle.begin(job, backend.executionProvider);
    if (!begun) return;
    log.info({ userId: job.ownerId, prompt: redactPrompt(job.prompt), steps: job.steps, provider: backend.executionProvider }, 'job started');

    const controller = new AbortController();
    let reason: AbortReason | null = null;
    const timer = setTimeout(() => { reason = 'timeout'; controller.abort(); }, this.o.jobTimeoutMs);
    const started = Date.now();
    let outcome = 'failed';
    let lastStepMs = 0;
    // Set when the render slot is given up; called once the job is recorded: until then the worker may take
    // its next job beside it.
    let recorded: (() => void) | undefined;
    this.running.set(job.id, { stop: (why) => { reason ??= why; controller.abort(); }, work: runningJob(job, started) });
    this.runningChanged();
    this.metrics.jobStarted();
    const reporter = new StepReporter({
      redis: this.o.redis,
      cancelKey: cancelFlagKey(this.o.prefix, job.id),
      recordStep: (step) => this.lifecycle.recordStep(job, step),
      // Another worker started the job again (this one missed its lock's loss), or it stopped running.
      onSuperseded: () => { reason ??= 'superseded'; controller.abort(); },
      // Several steps sent together are appended in one script call, in order.
      publishProgress: (steps) => this.lifecycle.progress(job, steps.map((p) => ({
        step: p.step, elapsedMs: Math.round(p.elapsedMs), etaMs: Math.round(p.etaMs),
        preview: p.preview ? previewDataUrl(p.preview) : undefined,
      }))),
      after: begun.announced,
      onCancelRequested: () => { reason = 'cancelled'; controller.abort(); },
      // Progress is best effort; an outage seen here stops the worker taking more jobs.
      onError: (err) => {
        log.warn({ err }, 'progress bookkeeping failed');
        this.gate.report(err);
      },
    });
    /**
     * The sampler is done with this job: only its decode to pixels (in the render thread), its PNGs, storing
     * and recording remain. The next job may be taken now: its run waits for the decode in the render thread,
     * then renders while this one is encoded, stored and recorded. Once only.
     */
    const renderOver = () => {
      recorded ??= this.slots.renderEnded();
    };
    /**
     * The images are in (a clip's last frame is): the timeout stops, the render slot is given up if it was
     * not yet, and every event goes out first. A failed announcement (an outage) puts the job back before
     * anything is recorded.
     */
    const rendered = async () => {
      clearTimeout(timer);
      renderOver();
      await reporter.flush();
      await begun.announced;
    };
    const remote = backend.kind !== BackendKind.ONNX;
    // On a local store the render thread writes the PNGs into place itself (docs/architecture.md, "The job path").
    const saveTo = this.o.store.localPathOf && job.kind !== JobKind.VIDEO
      ? Array.from({ length: job.count }, (_, index) => this.o.store.localPathOf!(jobImageKey(job.id, index)))
      : undefined;
    const cancelPoll = remote ? setInterval(() => reporter.checkCancel(), REMOTE_CANCEL_POLL_MS) : null;
    try {
      if (job.kind === JobKind.VIDEO) {
        // Frames come from the ONNX pipeline only; a remote model's VIDEO job is refused at admission too (docs/video.md).
        if (!(backend instanceof OnnxBackend)) throw new PipelineError('INVALID_PARAMETERS', `Videos are rendered by ONNX models only; ${modelName} runs on ${backend.kind}`);
        await this.runVideo(job, backend.pipeline, controller.signal, (p) => reporter.step(p), rendered, log);
        outcome = 'completed';
        return;
      }
      const images = await backend.generate({
        jobId: job.id, prompt: job.prompt, negativePrompt: job.negativePrompt ?? undefined, width: job.width, height: job.height,
        steps: job.steps, guidanceScale: job.guidanceScale, seed: job.seed, count: job.count,
        sampler: job.sampler ? samplerKind(job.sampler) : undefined, comfySampler: job.sampler ? COMFYUI_SAMPLERS[job.sampler] : null,
        // Remote backends refuse LoRAs; they get the job's list only to say so.
        loras: remote ? job.loras.map((l) => ({ name: l.loraId, path: '', weight: l.weight })) : await this.loraFiles(job),
        previewEvery: this.o.previewEvery, modelName,
      }, {
        signal: controller.signal,
        saveTo,
        onSampled: renderOver,
        onStep: (p: StepProgress) => {
          this.metrics.step(modelName, (p.elapsedMs - lastStepMs) / 1000);
          lastStepMs = p.elapsedMs;
          reporter.step(p);
        },
      });
      await rendered();
      // Only ETAs read it: not worth delaying the completion for. The render's own clock (its last step's
      // elapsed time) leaves out a wait for the render thread behind another job (concurrency > 1).
      const renderMs = lastStepMs || Date.now() - started;
      void recordStepCost(this.o.redis, this.o.prefix, job, renderMs)
        .catch((err) => log.warn({ err }, 'step time not recorded'));
      await this.completeJob(job, images, log);
      outcome = 'completed';
    } catch (error) {
      clearTimeout(timer);
      // The completion found a later start holding the job (`giveWay`): nothing more to do here.
      if (error instanceof WaitingError) throw error;
      await reporter.flush();
      if (error instanceof PipelineAbortedError || controller.signal.aborted) {
        outcome = reason ?? 'cancelled';
        if (reason === 'shutdown') return await this.handBack(job, bullJob, token, log, reporter.reached);
        if (reason === 'lockLost') {
          outcome = 'lock_lost';
          return this.letGo(log);
        }
        if (reason === 'superseded') {
          outcome = 'lock_lost';
          return this.giveWay(log);
        }
        const ended = reason === 'timeout'
          ? await this.fail(job, { code: 'TIMEOUT', message: `The job ran longer than ${Math.round(this.o.jobTimeoutMs / 1000)} s` }, log)
          : await this.cancel(job, log);
        // The render thread may have written the PNGs before the abort reached it: the job ended without
        // them, so no row will name them.
        if (ended && saveTo) await Promise.all(saveTo.map((file) => rm(file, { force: true }).catch(() => undefined)));
        return;
      }
      return await this.failFromError(job, bullJob, error, log);
    } finally {
      if (cancelPoll) clearInterval(cancelPoll);
      recorded?.();
      this.running.delete(job.id);
      this.runningChanged();
      this.metrics.jobFinished(modelName, outcome, (Date.now() - started) / 1000);
    }
  }

  /**
   * A VIDEO job: frames are rendered in the render thread and streamed to
   * ffmpeg; each frame is a PROGRESS event (frame k of n). `rendered` runs
   * once the last frame is in (stop the timeout, flush the events) before the
   * clip is encoded, stored and recorded.
   */
  private async runVideo(
    job: Job, pipeline: ImagePipeline, signal: AbortSignal, onFrame: (p: StepProgress) => void, rendered: () => Promise<void>, log: Logger,
  ): Promise<void> {
    this.o.ffmpegPath ??= ensureFfmpeg((msg) => log.info(msg));
    const { file, timings } = await renderVideoJob(job, {
      pipeline, store: this.results, ffmpegPath: this.o.ffmpegPath, loras: await this.loraFiles(job), signal, onFrame,
    });
    await rendered();
    if (await this.lifecycle.completeVideo(job, file)) log.info({ frames: file.frames, bytes: file.bytes, ...timings }, 'video job completed');
    else await this.completionRefused(job, 'video', log);
  }

  /**
   * The model's folder in the models folder (its registered `path`, else its name), fetched from the artifact
   * store when this machine lacks it (storage/model-folders.ts).
   */
  private async modelFolder(model: AiModel): Promise<string> {
    try {
      return await this.folders.folderOf({ name: onnxFolderOf(model), files: model.files });
    } catch (error) {
      if (!(error instanceof ModelFetchError)) throw error;
      // Bytes that do not match the row will not match on a retry either.
      throw new PipelineError(error.kind === 'checksum' ? 'MODEL_INVALID' : 'MODEL_LOAD_FAILED', error.message);
    }
  }

  /** Loads (or finds loaded) a model, timing real loads for the metrics. */
  private async acquire(modelDir: string) {
    const loadsBefore = this.o.pipelines.loadCount;
    const started = Date.now();
    const pipeline = await this.o.pipelines.acquire(modelDir);
    if (this.o.pipelines.loadCount > loadsBefore) this.metrics.modelLoaded(path.basename(modelDir), pipeline.executionProvider, (Date.now() - started) / 1000);
    this.modelReady = true;
    this.lastProvider = pipeline.executionProvider;
    return pipeline;
  }

  /** Loads the default model at start, so the first job does not pay for it and /readyz can say a model is loaded. */
  async preload(modelDir: string): Promise<void> {
    await this.acquire(modelDir);
  }

  /** True once a model has loaded (the worker's readiness). */
  get hasModelLoaded(): boolean {
    return this.modelReady;
  }

  /** Calls `listener` whenever a job begins or ends here (what `describe` says changed). */
  onRunningChange(listener: () => void): void {
    this.runningChanged = listener;
  }

  /** What the worker reports in its heartbeat. */
  describe() {
    return {
      executionProvider: this.lastProvider,
      activeJobs: this.running.size,
      runningJobs: [...this.running.values()].map((entry) => entry.work),
      loadedModels: this.o.pipelines.loadedDirs.map((dir) => path.basename(dir)),
      backends: this.o.remote?.states() ?? [],
    };
  }

  /**
   * The entry's lock lapsed mid-render (an outage of Redis longer than the
   * lock, an event loop that stood still that long): BullMQ's stalled check
   * gives the entry to the next free worker, which starts the job again from
   * its row. This run stops rather than render beside it; it writes nothing,
   * and WaitingError tells BullMQ not to move an entry that is no longer
   * this worker's (docs/operations.md, "A lock that lapses").
   */
  private letGo(log: Logger): never {
    log.warn('queue lock lost (held past its expiry): the job is left to whichever worker takes it next');
    throw new WaitingError();
  }

  /**
   * The row says this run's attempt no longer holds the job: another worker
   * started it again (this one's lock lapsed before its renewal said so), or
   * it ended meanwhile. This run stops and writes nothing more, and leaves the
   * entry to whoever holds it (docs/architecture.md, "A job fenced by its attempt").
   */
  private giveWay(log: Logger): never {
    log.warn('job taken from this worker (started again elsewhere, or ended): it stops here');
    throw new WaitingError();
  }

  /**
   * Shutdown ran out of grace mid-job: the job goes back to the queue as it
   * was (PENDING, no images written) for another worker, at once rather than
   * after the lock expires. WaitingError tells BullMQ the job was moved.
   */
  private async handBack(job: Job, bullJob: BullJob<GenerationJobData>, token: string | undefined, log: Logger, step: number): Promise<void> {
    await this.lifecycle.requeue(job, 'HANDED_BACK');
    await bullJob.moveToWait(token);
    log.warn({ step }, 'worker shutting down: job handed back to the queue');
    throw new WaitingError();
  }

  private async loraFiles(job: Job): Promise<LoraApplication[]> {
    if (job.loras.length === 0) return [];
    const rows = await this.gate.durable(() => this.o.db.getRepository(Lora).findBy({ id: In(job.loras.map((l) => l.loraId)) }));
    return Promise.all(job.loras.map(async (applied) => {
      const lora = rows.find((r) => r.id === applied.loraId);
      if (!lora) throw new PipelineError('LORA_NOT_FOUND', `LoRA ${applied.loraId} no longer exists`);
      // Images and errors are seen by all who see the job: a private LoRA is named there by its id.
      const name = loraLabelInOutput(lora);
      const file = await this.o.artifactFiles.localPath(lora.storageKey, lora.sha256);
      if (!file) throw new PipelineError('LORA_NOT_FOUND', `The file of LoRA ${name} is missing from storage`);
      return { name, path: file, weight: applied.weight };
    }));
  }

  private async completeJob(job: Job, images: GeneratedImage[], log: Logger): Promise<void> {
    const rows: NewImage[] = [];
    for (const [index, image] of images.entries()) {
      const storageKey = jobImageKey(job.id, index);
      // Written already by the render thread (only where `saveTo` asked), or stored now.
      if (!image.savedTo) await this.results.put(storageKey, image.png, 'image/png');
      rows.push({
        jobId: job.id, ownerId: job.ownerId, index, seed: image.seed, width: image.width, height: image.height,
        storageKey, sha256: image.sha256, bytes: image.png.length,
        parameters: {
          prompt: job.prompt, negativePrompt: job.negativePrompt, seed: image.seed, steps: job.steps,
          guidanceScale: job.guidanceScale, width: job.width, height: job.height, modelId: job.modelId, loras: job.loras,
        },
      });
    }
    const stored = await this.lifecycle.complete(job, rows);
    if (stored) return void log.info({ images: stored.length }, 'job completed');
    const now = await this.completionRefused(job, 'images', log);
    // Ended without them (cancelled, failed, given up): nothing will ever name these files. Completed by another
    // run (a lost lock), the same keys are its recorded images and stay.
    if (now?.status !== JobStatus.COMPLETED) await this.lifecycle.discardResults(job);
  }

  /**
   * A completion that matched no row: a job still open is held by a later run, whose files have the same keys
   * (`giveWay`); otherwise it ended elsewhere, and its row is returned (null when it is gone).
   */
  private async completionRefused(job: Job, what: 'images' | 'video', log: Logger): Promise<Job | null> {
    const now = await this.lifecycle.transitions.find(job.id);
    if (now && (OPEN_JOB_STATUSES as readonly JobStatus[]).includes(now.status)) this.giveWay(log);
    log.info(`job was finished elsewhere meanwhile: ${what} not recorded`);
    return now;
  }

  /** True when this worker's cancel won (the job was still open). */
  private async cancel(job: Job, log: Logger): Promise<boolean> {
    const cancelled = await this.lifecycle.cancel(job, job.ownerId);
    if (cancelled) log.info('job cancelled');
    return cancelled;
  }

  /** True when this worker's failure won (the job was still open). */
  private async fail(job: Job, error: JobFailure, log: Logger): Promise<boolean> {
    const failed = await this.lifecycle.fail(job, error);
    if (failed) {
      this.metrics.jobFailed(error.code);
      log.warn({ code: error.code }, 'job failed');
    }
    return failed;
  }

  /**
   * Bad input or a broken model fail at once (UnrecoverableError); an outage
   * goes back to the queue without spending an attempt (see `process`);
   * anything else is retried with backoff by BullMQ while attempts remain.
   */
  private async failFromError(job: Job, bullJob: BullJob<GenerationJobData>, error: unknown, log: Logger): Promise<void> {
    // The pool already retried transient failures on every endpoint: what reaches here is final. Asked
    // first: a backend's refused connection (its cause) would otherwise read as our database's or
    // Redis's outage, pausing the worker and putting the job back instead of failing it.
    if (error instanceof BackendError) {
      // The job's message names no endpoint; the log keeps the URL and the upstream answer (docs/backends.md, "Who sees what").
      log.warn({ reason: error.reason, detail: error.detail }, 'backend failure');
      await this.fail(job, { code: error.failureCode, message: error.message }, log);
      throw new UnrecoverableError(error.message);
    }
    if (isServiceOutage(error)) throw error;
    const pipelineError = error instanceof PipelineError ? error : null;
    const lastAttempt = bullJob.attemptsMade + 1 >= (bullJob.opts.attempts ?? 1);
    if (pipelineError?.unrecoverable || lastAttempt) {
      // The owner reads no path of this machine; the log keeps the whole error.
      log.warn({ err: error }, 'job failure');
      await this.fail(job, { code: pipelineError?.code ?? 'WORKER_ERROR', message: withoutServerPaths((error as Error).message) }, log);
      throw new UnrecoverableError((error as Error).message);
    }
    log.warn({ err: error, attempt: bullJob.attemptsMade + 1 }, 'transient failure: will retry');
    await this.lifecycle.requeue(job, 'RETRY');
    throw error;
  }

  get bullWorker(): Worker<GenerationJobData, void> {
    return this.worker;
  }

  /**
   * Stops taking jobs and lets the running ones finish for up to `graceMs`;
   * jobs still running then are handed back to the queue. If even that hangs
   * (a step that never returns, Redis away), the worker's connections are
   * dropped and BullMQ's stalled-job recovery gives the job to another worker
   * once its lock expires (src/redis/worker-close.ts).
   */
  async close(graceMs = 30_000): Promise<void> {
    await this.gate.stop();
    await closeWorker(this.worker, {
      graceMs, running: () => this.running.size, logger: this.o.logger,
      handBack: () => { for (const entry of this.running.values()) entry.stop('shutdown'); },
    });
  }
}

/** What a running job's heartbeat entry says of it. */
function runningJob(job: Job, startedAt: number): RunningJob {
  return {
    jobId: job.id, modelId: job.modelId, kind: job.kind, width: job.width, height: job.height, steps: job.steps, count: job.count,
    videoFrames: job.videoFrames, startedAt,
  };
}

/** A preview as a data URL: ComfyUI sends JPEG previews, the ONNX pipeline PNG ones. */
function previewDataUrl(image: Buffer): string {
  const type = image[0] === 0xff && image[1] === 0xd8 ? 'image/jpeg' : 'image/png';
  return `data:${type};base64,${image.toString('base64')}`;
}

