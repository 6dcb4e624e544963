import type * as ort from 'onnxruntime-node';
import { PipelineError } from './errors';
import type { LoadedModel } from './model-loader';
import { floatTensor, intTensor, readFloats, timestepTensor } from './onnx-session';
import { SeededRandom } from './rng';

/** Text states for a batch of prompts: data [P, seq, D] and its dims. */
export interface TextStates { data: Float32Array; dims: number[] }

/** Tokenizes and encodes prompts in one text-encoder call. */
export async function encodeText(model: LoadedModel, prompts: string[]): Promise<TextStates> {
  const len = model.tokenizer.maxLength;
  const ids = new Int32Array(prompts.length * len);
  prompts.forEach((p, i) => ids.set(model.tokenizer.encode(p), i * len));
  const type = model.textEncoder.inputType('input_ids');
  const out = await model.textEncoder.run({ input_ids: intTensor(type, ids, [prompts.length, len]) });
  const states = out.last_hidden_state ?? out[model.textEncoder.session.outputNames[0]];
  return { data: readFloats(states), dims: [...states.dims] };
}

/**
 * Lays the prompt states out as the UNet batch: [uncond × count, cond × count]
 * with guidance, or [cond × count] without (states then holds only cond).
 */
export function batchStates(states: TextStates, count: number, guided: boolean): TextStates {
  const [, seq, dim] = states.dims;
  const per = seq * dim;
  const order = guided ? [...Array(count).fill(0), ...Array(count).fill(1)] : Array(count).fill(0);
  const data = new Float32Array(order.length * per);
  order.forEach((p: number, i) => data.set(states.data.subarray(p * per, (p + 1) * per), i * per));
  return { data, dims: [order.length, seq, dim] };
}

/** One generator per image, image i seeded with seed + i: its latents and any ancestral noise come from it. */
export function imageGenerators(seed: number, count: number): SeededRandom[] {
  return Array.from({ length: count }, (_, i) => new SeededRandom(seed + i));
}

/** Unit Gaussian latents for each image from its generator, times the scheduler's initial sigma. */
export function initialLatents(generators: readonly SeededRandom[], perImage: number, sigma: number): Float32Array {
  const out = new Float32Array(generators.length * perImage);
  generators.forEach((g, i) => out.set(g.normals(perImage, sigma), i * perImage));
  return out;
}

/**
 * Ancestral noise over the batch: each image's share is drawn from its own
 * generator after its latents, so image i of a batch is the same image a
 * single-image job with seed + i makes.
 */
export function batchNoise(generators: readonly SeededRandom[]): (length: number) => Float32Array {
  return (length) => {
    const per = length / generators.length;
    const out = new Float32Array(length);
    generators.forEach((g, i) => out.set(g.normals(per), i * per));
    return out;
  };
}

/** Builds the per-step UNet call with fixed text states and weight feeds. */
export function noisePredictor(model: LoadedModel, states: TextStates, latentDims: number[], weightFeeds: Record<string, ort.Tensor>) {
  const unet = model.unet;
  const ehs = floatTensor(unet.inputType('encoder_hidden_states'), states.data, states.dims);
  const sampleType = unet.inputType('sample');
  return async (modelInput: Float32Array, t: number): Promise<Float32Array> => {
    const out = await unet.run({
      ...weightFeeds,
      sample: floatTensor(sampleType, modelInput, [states.dims[0], ...latentDims]),
      timestep: timestepTensor(unet, 'timestep', t),
      encoder_hidden_states: ehs,
    });
    const result = out.out_sample ?? out[unet.session.outputNames[0]];
    return readFloats(result);
  };
}

/** Decodes one image's latents to 8-bit RGB (row-major, 3 bytes per pixel). */
export async function decodeImage(model: LoadedModel, latents: Float32Array, dims: number[]): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  const scaled = Float32Array.from(latents, (v) => v / model.scalingFactor);
  const vae = model.vaeDecoder;
  const out = await vae.run({ latent_sample: floatTensor(vae.inputType('latent_sample'), scaled, [1, ...dims]) });
  const sample = out.sample ?? out[vae.session.outputNames[0]];
  const [, channels, height, width] = sample.dims;
  if (channels !== 3) throw new PipelineError('MODEL_INVALID', `VAE decoder returned ${channels} channels`);
  return { rgb: planarToRgb(readFloats(sample), width * height), width, height };
}

/**
 * The VAE's planar output (3 planes of `plane` values in [-1, 1]) as
 * interleaved 8-bit RGB. A Uint8ClampedArray store clamps to 0–255 and
 * rounds to the nearest integer in the CPU, 3× faster than `Math.round` and
 * a clamp per value; the two differ only on a tie, which (v + 1) × 127.5
 * reaches only where v + 1 is 1 (v = 0, or too small to change it), and
 * there both give 128 (docs/performance.md, "Pixels converted by the typed
 * array").
 */
export function planarToRgb(px: Float32Array, plane: number): Uint8Array {
  const rgb = new Uint8ClampedArray(plane * 3);
  for (let c = 0; c < 3; c++) {
    for (let i = 0, k = c * plane, j = c; i < plane; i++, k++, j += 3) rgb[j] = (px[k] + 1) * 127.5;
  }
  return new Uint8Array(rgb.buffer);
}
