import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { loadModel } from '../pipeline/model-loader';
import { encodeText } from '../pipeline/stages';
import { TrainingError, type TrainingImage } from './types';

/** A training set at the run's resolution: RGB in [-1, 1], NHWC [count, size, size, 3]. */
export interface PreparedImages { pixels: Float32Array; count: number; size: number; captions: string[]; hash: string }

async function bytesOf(image: TrainingImage, i: number): Promise<Buffer> {
  if (image.bytes) return image.bytes;
  if (!image.path) throw new TrainingError('INVALID_SPEC', `images[${i}] has neither bytes nor a path`, `images[${i}]`);
  try {
    return await readFile(image.path);
  } catch {
    throw new TrainingError('INVALID_SPEC', `images[${i}]: cannot read ${image.path}`, `images[${i}]`);
  }
}

/** Scales and centre-crops to size×size (kohya buckets by aspect; one square bucket is enough for the tiny model). */
async function pixelsOf(bytes: Buffer, size: number, i: number): Promise<Float32Array> {
  let raw: Buffer;
  try {
    raw = await sharp(bytes).resize(size, size, { fit: 'cover' }).ensureAlpha().raw().toBuffer();
  } catch (error) {
    throw new TrainingError('INVALID_SPEC', `images[${i}] is not a readable image (${(error as Error).message})`, `images[${i}]`);
  }
  const out = new Float32Array(size * size * 3);
  for (let p = 0; p < size * size; p++) {
    for (let c = 0; c < 3; c++) out[p * 3 + c] = raw[p * 4 + c] / 127.5 - 1;
  }
  return out;
}

/** The dataset hash: sha256 over each image's sha256 and its caption's sha256, in order (every backend reports the same). */
export async function datasetHash(images: TrainingImage[]): Promise<string> {
  const hash = createHash('sha256');
  for (const [i, image] of images.entries()) {
    hash.update(createHash('sha256').update(await bytesOf(image, i)).digest()).update(createHash('sha256').update(image.caption).digest());
  }
  return hash.digest('hex');
}

/** Decodes, resizes and hashes the images. */
export async function prepareImages(images: TrainingImage[], size: number): Promise<PreparedImages> {
  const pixels = new Float32Array(images.length * size * size * 3);
  for (const [i, image] of images.entries()) pixels.set(await pixelsOf(await bytesOf(image, i), size, i), i * size * size * 3);
  return { pixels, count: images.length, size, captions: images.map((i) => i.caption), hash: await datasetHash(images) };
}

/**
 * The text condition the tiny UNet reads: the mean over tokens of the text
 * encoder's states, one row of `hiddenSize` per caption. The text encoder is
 * not trained, so each caption is encoded once, with onnxruntime.
 */
export async function captionConditions(modelDir: string, captions: string[]): Promise<{ data: Float32Array; hiddenSize: number }> {
  const model = await loadModel(modelDir, { executionProviders: ['cpu'], intraOpNumThreads: 1, cpuMemArena: false });
  try {
    const states = await encodeText(model, captions);
    const [count, tokens, hidden] = states.dims;
    const data = new Float32Array(count * hidden);
    for (let i = 0; i < count; i++) {
      for (let t = 0; t < tokens; t++) {
        for (let d = 0; d < hidden; d++) data[i * hidden + d] += states.data[(i * tokens + t) * hidden + d] / tokens;
      }
    }
    return { data, hiddenSize: hidden };
  } finally {
    await Promise.all([model.textEncoder.release(), model.unet.release(), model.vaeDecoder.release()]);
  }
}
