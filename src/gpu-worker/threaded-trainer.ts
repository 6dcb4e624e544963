import { startThread } from '../kernel/threads';
import {
  TrainingError, type TrainingBackend, type TrainingCheckpoint, type TrainingErrorCode, type TrainingEvaluation, type TrainingHooks,
  type TrainingProgress, type TrainingResult, type TrainingSamples, type TrainingSpec,
} from './training/types';

/** Messages to the training thread. */
export type ToTrainerThread = { type: 'train'; spec: TrainingSpec } | { type: 'abort' };

/** Messages from the training thread, in the order the trainer produced them. */
export type FromTrainerThread =
  | { type: 'progress'; progress: TrainingProgress }
  | { type: 'evaluation'; evaluation: TrainingEvaluation }
  | { type: 'checkpoint'; checkpoint: TrainingCheckpoint }
  | { type: 'sample'; samples: TrainingSamples }
  | { type: 'done'; result: TrainingResult }
  | { type: 'failed'; code: TrainingErrorCode | null; message: string; field?: string };

/** Which backend the thread builds (one the thread can construct without the main thread's objects). */
export interface TrainerThreadData {
  backend: 'local';
  /** LocalTrainer's tuning (plain data: it crosses the thread). */
  options?: { sampleSteps?: number; encodingIterations?: number };
}

/** Bytes that crossed a thread arrive as a Uint8Array; the trainer and the store want Buffers. */
const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * A training backend run in a worker thread of its own: tfjs on the CPU
 * computes synchronously, and a run takes minutes, so on the main thread it
 * would stall the event loop that renews the run's BullMQ lock, publishes its
 * events and (in `atelier all`) serves the API. Hooks reach the caller in the
 * trainer's order; the result follows the last of them.
 */
export class ThreadedTrainer implements TrainingBackend {
  readonly name: string;

  constructor(private readonly data: TrainerThreadData = { backend: 'local' }) {
    this.name = `${data.backend} (thread)`;
  }

  train(spec: TrainingSpec, hooks: TrainingHooks = {}, signal?: AbortSignal): Promise<TrainingResult> {
    const thread = startThread(__dirname, 'trainer-thread', this.data);
    // Each hook waits for the one before it, so a checkpoint is stored before the next one and before the result.
    // The chain never rejects: a hook's failure is kept and becomes the result once the thread has stopped
    // (a rejected chain would be unhandled until then, which ends a Node process).
    let chain: Promise<unknown> = Promise.resolve();
    let hookFailure: { error: unknown } | null = null;
    const onAbort = () => thread.postMessage({ type: 'abort' } satisfies ToTrainerThread);
    signal?.addEventListener('abort', onAbort, { once: true });
    return new Promise<TrainingResult>((resolve, reject) => {
      let settled = false;
      const settle = (finish: () => void) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        void chain.then(() => (hookFailure ? reject(hookFailure.error) : finish())).finally(() => void thread.terminate());
      };
      thread.on('message', (message: FromTrainerThread) => {
        if (message.type === 'done') {
          const r = message.result;
          return settle(() => resolve({ ...r, lora: asBuffer(r.lora) }));
        }
        if (message.type === 'failed') return settle(() => reject(new TrainingError(message.code ?? 'FAILED', message.message, message.field)));
        // A hook that fails (the store or the database gone) stops the run; the failure is the result, and
        // the messages the thread sends before it stops reach no hook.
        chain = chain.then(() => hookFailure ? undefined : deliver(message, hooks)).catch((error: unknown) => {
          hookFailure = { error };
          onAbort();
        });
      });
      thread.on('error', (error) => settle(() => reject(new TrainingError('FAILED', `Training thread failed: ${error.message}`))));
      thread.on('exit', (code) => settle(() => reject(new TrainingError('FAILED', `Training thread exited (${code})`))));
      if (signal?.aborted) onAbort();
      thread.postMessage({ type: 'train', spec } satisfies ToTrainerThread);
    });
  }
}

async function deliver(message: FromTrainerThread, hooks: TrainingHooks): Promise<void> {
  if (message.type === 'progress') await hooks.onProgress?.(message.progress);
  if (message.type === 'evaluation') await hooks.onEvaluation?.({ step: message.evaluation.step, loss: message.evaluation.loss });
  if (message.type === 'checkpoint') {
    const c = message.checkpoint;
    await hooks.onCheckpoint?.({ step: c.step, lora: asBuffer(c.lora), optimizerState: asBuffer(c.optimizerState) });
  }
  if (message.type === 'sample') await hooks.onSample?.({ step: message.samples.step, images: message.samples.images.map(asBuffer) });
}
