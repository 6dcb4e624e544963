import { parentPort, workerData } from 'node:worker_threads';
import { LocalTrainer } from './training/local-trainer';
import { TrainingError, type TrainingBackend, type TrainingSpec } from './training/types';
import type { FromTrainerThread, ToTrainerThread, TrainerThreadData } from './threaded-trainer';

/**
 * The worker-thread side of ThreadedTrainer: runs one training and posts its
 * hooks back. Progress is posted without waiting for the main thread; after
 * each step a macrotask lets an 'abort' message land before the next one.
 */
const port = parentPort;
if (!port) throw new Error('trainer-thread runs as a worker thread');
const { backend: kind, options } = workerData as TrainerThreadData;
const backend: TrainingBackend = kind === 'local' ? new LocalTrainer(options) : (() => { throw new Error(`unknown trainer ${kind}`); })();
const abort = new AbortController();
const send = (message: FromTrainerThread) => port.postMessage(message);
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Buffers from the main thread arrive as Uint8Arrays. */
function specFrom(spec: TrainingSpec): TrainingSpec {
  const buf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return {
    ...spec,
    images: spec.images.map((i) => ({ ...i, bytes: i.bytes ? buf(i.bytes) : undefined })),
    resume: spec.resume ? { ...spec.resume, lora: buf(spec.resume.lora), optimizerState: buf(spec.resume.optimizerState) } : undefined,
  };
}

async function train(spec: TrainingSpec): Promise<void> {
  try {
    const result = await backend.train(specFrom(spec), {
      onProgress: async (progress) => { send({ type: 'progress', progress }); await nextTurn(); },
      onEvaluation: (evaluation) => send({ type: 'evaluation', evaluation }),
      onCheckpoint: (checkpoint) => send({ type: 'checkpoint', checkpoint }),
      onSample: (samples) => send({ type: 'sample', samples }),
    }, abort.signal);
    send({ type: 'done', result });
  } catch (error) {
    const e = error as Error;
    send({ type: 'failed', code: error instanceof TrainingError ? error.code : null, message: e?.message ?? String(error), field: (error as TrainingError).field });
  }
}

port.on('message', (message: ToTrainerThread) => {
  if (message.type === 'abort') abort.abort();
  if (message.type === 'train') void train(message.spec);
});
