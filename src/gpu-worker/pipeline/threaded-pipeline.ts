import type { Worker } from 'node:worker_threads';
import { firstMessage, startThread } from '../../kernel/threads';
import { PipelineAbortedError, PipelineError, type PipelineErrorCode } from './errors';
import type {
  GeneratedImage, GenerationRequest, ImagePipeline, PipelineLoadOptions, RunOptions, StepProgress, VideoFrame, VideoRequest, VideoRunOptions,
} from './types';

/** What the main thread hands the pipeline thread at start. */
export interface PipelineThreadData { modelDir: string; options: PipelineLoadOptions }

/** Messages to the pipeline thread. */
export type ToThread =
  | { type: 'generate'; id: number; request: GenerationRequest; reportSteps: boolean; saveTo?: string[] }
  | { type: 'video'; id: number; request: VideoRequest }
  | { type: 'abort'; id: number }
  | { type: 'release' };

/** What the model reports once loaded. */
interface LoadedInfo { executionProvider: string; modelName: string; modelHash: string; supportsLora: boolean; approxBytes: number }

/** Messages from the pipeline thread; PNG bytes travel as transferred ArrayBuffers. */
export type FromThread =
  | ({ type: 'loaded' } & LoadedInfo)
  | { type: 'steps'; id: number; steps: Array<{ progress: StepProgress; preview?: ArrayBuffer }> }
  /** The run's sampler is done (its steps sent); its latents are being decoded, then its images encoded beside the next run. */
  | { type: 'sampled'; id: number }
  | { type: 'frame'; id: number; frame: Omit<VideoFrame, 'rgb' | 'preview'>; rgb: ArrayBuffer; preview?: ArrayBuffer }
  | { type: 'done'; id: number; images: Array<Omit<GeneratedImage, 'png'> & { png: ArrayBuffer }> }
  | { type: 'failed'; id: number; kind: 'pipeline' | 'aborted' | 'other'; message: string; code?: PipelineErrorCode; field?: string }
  | { type: 'released' };

interface Run {
  resolve(images: GeneratedImage[]): void;
  reject(error: Error): void;
  opts: RunOptions & { onFrame?: VideoRunOptions['onFrame'] };
  /** The run's steps (or frames), handed to onStep (onFrame) one after another. */
  steps: Promise<unknown>;
}

function rebuildError(message: FromThread & { type: 'failed' }): Error {
  if (message.kind === 'aborted') return new PipelineAbortedError(message.message);
  if (message.kind === 'pipeline' && message.code) return new PipelineError(message.code, message.message, { field: message.field });
  return new PipelineError('INFERENCE_FAILED', message.message);
}

/**
 * A DiffusionPipeline running in its own worker thread, so that a process
 * that serves the API and renders images (`npm start`) keeps answering while
 * it renders. Same contract as DiffusionPipeline: steps are handed to
 * onStep in order, one at a time, and all of them before the run resolves; no
 * step is reported after an abort, which the thread sees before its next
 * step; errors keep their PipelineError code. Unlike DiffusionPipeline, a
 * run aborted during its last step rejects too (its end had not been handed
 * over yet). The thread itself does not wait for each step to be taken: that
 * round trip cost more than the step's bookkeeping (bench/worker: fixed
 * overhead per 1024² job 240 ms → 18 ms), and it sends steps that come close
 * together in one message. Runs started together go through the thread one
 * after the other, in order; a run's images are encoded while the next one
 * renders, and `onSampled` says when its sampler is over.
 */
export class ThreadedPipeline implements ImagePipeline {
  private readonly runs = new Map<number, Run>();
  private nextId = 1;
  private alive = true;
  private releasing: Promise<void> | null = null;

  private constructor(private readonly thread: Worker, readonly modelDir: string, private readonly info: LoadedInfo) {
    thread.on('message', (message: FromThread) => this.receive(message));
    thread.on('error', (error) => this.die(error.message));
    thread.on('exit', (code) => this.die(`pipeline thread exited with code ${code}`));
  }

  /** Starts a thread and loads `modelDir` in it; rejects with the load's PipelineError. */
  static load(modelDir: string, options: PipelineLoadOptions = {}): Promise<ThreadedPipeline> {
    const thread = startThread(__dirname, 'pipeline-thread', { modelDir, options });
    thread.unref(); // an idle model must not keep the process alive
    return firstMessage(thread, (message: FromThread) => {
      if (message.type === 'loaded') return new ThreadedPipeline(thread, modelDir, message);
      if (message.type === 'failed') return rebuildError(message);
      return new PipelineError('MODEL_LOAD_FAILED', `unexpected ${message.type} from the pipeline thread`);
    });
  }

  get executionProvider(): string { return this.info.executionProvider; }
  get modelName(): string { return this.info.modelName; }
  get modelHash(): string { return this.info.modelHash; }
  get supportsLora(): boolean { return this.info.supportsLora; }
  get approxBytes(): number { return this.info.approxBytes; }
  get usable(): boolean { return this.alive && !this.releasing; }

  generate(request: GenerationRequest, opts: RunOptions = {}): Promise<GeneratedImage[]> {
    return this.start(opts, (id) => ({ type: 'generate', id, request, reportSteps: Boolean(opts.onStep), saveTo: opts.saveTo }));
  }

  /** Frames cross the thread as transferred buffers, handed to onFrame in order; none after an abort. */
  async generateVideo(request: VideoRequest, opts: VideoRunOptions): Promise<void> {
    await this.start(opts, (id) => ({ type: 'video', id, request }));
  }

  private start(opts: Run['opts'], message: (id: number) => ToThread): Promise<GeneratedImage[]> {
    if (!this.usable) return Promise.reject(new PipelineError('MODEL_LOAD_FAILED', 'pipeline was released'));
    if (opts.signal?.aborted) return Promise.reject(new PipelineAbortedError());
    const id = this.nextId++;
    const onAbort = () => this.post({ type: 'abort', id });
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    return new Promise<GeneratedImage[]>((resolve, reject) => {
      this.runs.set(id, { resolve, reject, opts, steps: Promise.resolve() });
      this.post(message(id));
    }).finally(() => opts.signal?.removeEventListener('abort', onAbort));
  }

  /** Releases the sessions and ends the thread. */
  release(): Promise<void> {
    this.releasing ??= new Promise<void>((resolve) => {
      if (!this.alive) return resolve();
      this.thread.on('message', (message: FromThread) => { if (message.type === 'released') resolve(); });
      this.post({ type: 'release' });
    }).then(async () => {
      this.alive = false;
      await this.thread.terminate();
    });
    return this.releasing;
  }

  private post(message: ToThread): void {
    if (this.alive) this.thread.postMessage(message);
  }

  private receive(message: FromThread): void {
    if (message.type === 'loaded' || message.type === 'released') return;
    const run = this.runs.get(message.id);
    if (!run) return;
    if (message.type === 'steps') {
      // The thread does not wait for each step (a round trip per step cost more than the step's bookkeeping),
      // and sends steps that come close together in one message: each is handed to onStep one at a time, in
      // order, and none after an abort. A throwing onStep fails the run, as it does in DiffusionPipeline.
      for (const step of message.steps) {
        const progress = { ...step.progress, preview: step.preview ? Buffer.from(step.preview) : undefined };
        run.steps = run.steps
          .then(() => (run.opts.signal?.aborted ? undefined : run.opts.onStep?.(progress)))
          .catch((error: unknown) => this.settle(message.id, error as Error));
      }
      return;
    }
    if (message.type === 'sampled') {
      // After every step, as in DiffusionPipeline; not after an abort.
      void run.steps
        .then(() => (run.opts.signal?.aborted ? undefined : run.opts.onSampled?.()))
        .catch((error: unknown) => this.settle(message.id, error as Error));
      return;
    }
    if (message.type === 'frame') {
      const frame = { ...message.frame, rgb: new Uint8Array(message.rgb), preview: message.preview ? Buffer.from(message.preview) : undefined };
      run.steps = run.steps
        .then(() => (run.opts.signal?.aborted ? undefined : run.opts.onFrame?.(frame)))
        .catch((error: unknown) => this.settle(message.id, error as Error));
      return;
    }
    if (message.type === 'done') {
      // Every step is delivered before the run resolves, as in DiffusionPipeline. A run aborted before its
      // end is handed over rejects: steps reach this thread a little after the render thread made them, so
      // the render may have finished before an abort asked for in onStep (or by the caller) got there.
      void run.steps.then(() => {
        if (run.opts.signal?.aborted) return this.settle(message.id, new PipelineAbortedError());
        if (!this.runs.delete(message.id)) return;
        run.resolve(message.images.map((image) => ({ ...image, png: Buffer.from(image.png) })));
      });
    } else void run.steps.then(() => this.settle(message.id, rebuildError(message)));
  }

  /** Ends a run with `error`; the thread is told to stop it if it still runs. */
  private settle(id: number, error: Error): void {
    const run = this.runs.get(id);
    if (!run) return;
    this.runs.delete(id);
    this.post({ type: 'abort', id });
    run.reject(error);
  }

  private die(reason: string): void {
    if (!this.alive) return;
    this.alive = false;
    for (const id of [...this.runs.keys()]) this.settle(id, new PipelineError('INFERENCE_FAILED', reason));
  }
}
