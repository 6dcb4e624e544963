import { existsSync } from 'node:fs';
import path from 'node:path';
import { writeTinyModel } from '../../src/gpu-worker/onnx/tiny-model/write';
import { ThreadedPipeline } from '../../src/gpu-worker/pipeline/threaded-pipeline';
import type { ImagePipeline } from '../../src/gpu-worker/pipeline/types';

/**
 * The test servers render with the same bundled tiny ONNX pipeline the
 * worker uses, so their images are real PNGs that depend on prompt and seed.
 * It runs in a worker thread of its own (ThreadedPipeline), so rendering never
 * stalls the server's sockets.
 */

/** Where `npm start` keeps the tiny model: `$ATELIER_DATA_DIR/models/atelier-tiny` (default ./data). */
export function defaultModelDir(): string {
  return path.resolve(process.env.ATELIER_DATA_DIR ?? './data', 'models', 'atelier-tiny');
}

/** Loads the model in `dir`, writing the tiny model there first when the folder has none. */
export async function loadRenderer(dir: string): Promise<ImagePipeline> {
  if (!existsSync(path.join(dir, 'model_index.json'))) await writeTinyModel(dir);
  return ThreadedPipeline.load(dir);
}

/** Resolves after `ms` milliseconds (0 resolves at once, without a timer). */
export function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
