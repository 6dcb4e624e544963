import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { DiffusionPipeline, encodeImages, type RenderedImage } from './diffusion-pipeline';
import { WindowedBatches } from '../../kernel/windowed-batches';
import { PipelineAbortedError, PipelineError } from './errors';
import { STEP_EVENTS_WINDOW_MS, type PipelineLoadOptions, type StepProgress } from './types';
import type { FromThread, PipelineThreadData, ToThread } from './threaded-pipeline';

/**
 * The worker-thread side of ThreadedPipeline: loads one DiffusionPipeline and
 * runs its generations here, so inference (onnxruntime-node runs a session
 * synchronously on the calling thread), VAE output to pixels, PNG and preview
 * encoding and hashing never block the API's event loop.
 */

const port = parentPort;
if (!port) throw new Error('pipeline-thread runs as a worker thread');
const { modelDir, options } = workerData as PipelineThreadData;
const runs = new Map<number, { abort: AbortController }>();
/**
 * Runs go one at a time, in the order they came: a session runs synchronously
 * on this thread, so two interleaved runs would each take twice as long. A
 * run's place in line ends with its pixels: its PNGs are encoded (the
 * deflate on libuv's pool, on another core) while the next run renders. The
 * worker takes its next job as a run's sampler ends (the `sampled` message,
 * gpu-worker/render-slots.ts), so that job's run waits here while the latents
 * are decoded, and with worker concurrency above 1 a run already waits.
 */
let line: Promise<void> = Promise.resolve();
const enqueue = (id: number, run: () => Promise<void>): void => {
  runs.set(id, { abort: new AbortController() }); // an abort may come while the run waits
  line = line.then(run);
};
const send = (message: FromThread, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

/** A copy of the bytes in an ArrayBuffer of their own, so it can be transferred without a copy. */
function detachable(bytes: Buffer): ArrayBuffer {
  return Uint8Array.from(bytes).buffer;
}

/**
 * Writes a PNG where the caller asked (RunOptions.saveTo): a temporary file
 * renamed into place, so a reader never sees part of one. Synchronous calls
 * here cost the API nothing and save the main thread a file operation each.
 * Returns the file, or undefined when it could not be written (the caller
 * stores the image itself and reports the error).
 */
function saveAtomically(bytes: Buffer, file: string | undefined): string | undefined {
  if (!file) return undefined;
  const temp = `${file}.${process.pid}-${threadId}.${Date.now()}.tmp`;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(temp, bytes);
    renameSync(temp, file);
    return file;
  } catch {
    try {
      rmSync(temp, { force: true });
    } catch {
      // Nothing was written where nothing could be (a folder that is a file).
    }
    return undefined;
  }
}

function describe(error: unknown): FromThread & { type: 'failed' } {
  const e = error as Error;
  if (error instanceof PipelineError) return { type: 'failed', id: 0, kind: 'pipeline', code: error.code, message: e.message, field: error.field };
  if (error instanceof PipelineAbortedError) return { type: 'failed', id: 0, kind: 'aborted', message: e.message };
  return { type: 'failed', id: 0, kind: 'other', message: e?.message ?? String(error) };
}

async function generate(pipeline: DiffusionPipeline, id: number, message: ToThread & { type: 'generate' }): Promise<void> {
  const run = runs.get(id)!;
  // Steps closer than the window cross in one message: a fast model's 20 steps wake the main thread a
  // handful of times instead of 20; the last one never waits, and whatever waits goes before the run's end.
  const steps = new WindowedBatches<{ progress: StepProgress; preview?: ArrayBuffer }>(STEP_EVENTS_WINDOW_MS, (batch) =>
    send({ type: 'steps', id, steps: batch }, batch.flatMap((s) => (s.preview ? [s.preview] : []))));
  let rendered: RenderedImage[];
  try {
    rendered = await pipeline.render(message.request, {
      signal: run.abort.signal,
      // Steps are posted without waiting for the main thread (a round trip per step cost more than the step's
      // bookkeeping); yielding a macrotask lets an 'abort' message land before the next step.
      onStep: message.reportSteps ? (p) => new Promise<void>((resolve) => {
        steps.add({ progress: { ...p, preview: undefined }, preview: p.preview ? detachable(p.preview) : undefined }, p.step >= p.totalSteps);
        setImmediate(resolve);
      }) : undefined,
      // Every step goes out before `sampled`, and the render returns only after it.
      onSampled: () => {
        steps.flush();
        send({ type: 'sampled', id });
      },
    });
  } catch (error) {
    steps.flush();
    send({ ...describe(error), id });
    runs.delete(id);
    return;
  }
  // Not awaited: the line moves on to the next run while these images are encoded and written.
  void finish(id, rendered, message.saveTo);
}

/** A rendered run's PNGs, encoded, written where the caller asked and handed over. */
async function finish(id: number, rendered: RenderedImage[], saveTo: string[] | undefined): Promise<void> {
  try {
    const images = await encodeImages(rendered);
    const saved = images.map((image, i) => saveAtomically(image.png, saveTo?.[i]));
    const pngs = images.map((image) => detachable(image.png));
    send({ type: 'done', id, images: images.map((image, i) => ({ ...image, png: pngs[i], savedTo: saved[i] })) }, pngs);
  } catch (error) {
    send({ ...describe(error), id });
  } finally {
    runs.delete(id);
  }
}

/** A clip: each frame's pixels are transferred, not copied; the thread does not wait for the main thread to take them. */
async function video(pipeline: DiffusionPipeline, id: number, message: ToThread & { type: 'video' }): Promise<void> {
  const run = runs.get(id)!;
  try {
    await pipeline.generateVideo(message.request, {
      signal: run.abort.signal,
      onFrame: ({ rgb, preview: png, ...frame }) => new Promise<void>((resolve) => {
        const pixels = rgb.buffer.byteLength === rgb.byteLength ? rgb.buffer as ArrayBuffer : Uint8Array.from(rgb).buffer;
        const preview = png ? detachable(png) : undefined;
        send({ type: 'frame', id, frame, rgb: pixels, preview }, preview ? [pixels, preview] : [pixels]);
        setImmediate(resolve); // lets an 'abort' message land before the next frame
      }),
    });
    send({ type: 'done', id, images: [] });
  } catch (error) {
    send({ ...describe(error), id });
  } finally {
    runs.delete(id);
  }
}

async function main(): Promise<void> {
  const pipeline = await DiffusionPipeline.load(modelDir, options as PipelineLoadOptions).catch((error) => {
    send({ ...describe(error), id: 0 });
    return null;
  });
  if (!pipeline) return;
  port!.on('message', (message: ToThread) => {
    if (message.type === 'generate') enqueue(message.id, () => generate(pipeline, message.id, message));
    else if (message.type === 'video') enqueue(message.id, () => video(pipeline, message.id, message));
    else if (message.type === 'release') {
      for (const run of runs.values()) run.abort.abort();
      void pipeline.release().finally(() => send({ type: 'released' }));
    } else if (message.type === 'abort') {
      const run = runs.get(message.id);
      run?.abort.abort();
    }
  });
  send({
    type: 'loaded', executionProvider: pipeline.executionProvider, modelName: pipeline.modelName, modelHash: pipeline.modelHash,
    supportsLora: pipeline.supportsLora, approxBytes: pipeline.approxBytes,
  });
}

void main();
