import { SeededRandom } from '../pipeline/rng';
import { tf } from './tf';
import type { LoraPairs, TinyUnet } from './tiny-network';

/**
 * The denoising objective of Stable Diffusion training (what kohya's
 * train_network.py minimises): take a training latent x₀, a timestep t and
 * Gaussian noise ε, form x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε, and score the UNet's
 * noise prediction by its mean squared error against ε.
 */

/** The training set on the tensor side: latents NHWC [N, h, w, 4] and text conditions [N, D]. */
export interface LatentSet { latents: tf.Tensor4D; text: tf.Tensor2D; count: number }

/** One step's draw: which images, at which timesteps, with which noise. */
export interface Draw { indices: number[]; timesteps: number[]; noise: Float32Array }

/**
 * The draw of step `step` depends only on (seed, step), so a run resumed at
 * any step draws exactly what the uninterrupted run would have.
 */
export function drawStep(seed: number, step: number, count: number, batchSize: number, perImage: number, timesteps: { min: number; max: number }): Draw {
  const rng = new SeededRandom(seed + step * 0x100000000);
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const indices = Array.from({ length: batchSize }, (_, i) => order[i % count]);
  const ts = indices.map(() => timesteps.min + Math.floor(rng.next() * (timesteps.max - timesteps.min)));
  return { indices, timesteps: ts, noise: rng.normals(batchSize * perImage) };
}

/**
 * Min-SNR-γ weights (Hang et al. 2023, kohya's --min_snr_gamma) for a noise
 * prediction: min(SNR, γ) / SNR with SNR = ᾱ / (1 − ᾱ). Low-noise timesteps,
 * whose noise is nearly invisible and whose error is mostly the residual
 * amplified by 1/σ, stop drowning out the rest. No γ: every weight is 1.
 */
function minSnrWeights(timesteps: number[], alphasCumprod: Float64Array, gamma?: number): number[] {
  return timesteps.map((t) => {
    const snr = alphasCumprod[t] / (1 - alphasCumprod[t]);
    return gamma ? Math.min(snr, gamma) / snr : 1;
  });
}

/**
 * The mean squared error of the predicted noise for one draw, each item
 * weighted by min-SNR-γ when `gamma` is set (a scalar tensor; differentiable
 * in the LoRA).
 */
export function denoisingLoss(unet: TinyUnet, set: LatentSet, draw: Draw, alphasCumprod: Float64Array, lora: LoraPairs, gamma?: number): tf.Scalar {
  const [, h, w] = set.latents.shape;
  const index = tf.tensor1d(draw.indices, 'int32');
  const target = unet.target(tf.gather(set.text, index), h, w, lora);
  return noiseError(unet, tf.gather(set.latents, index), target, draw, alphasCumprod, gamma);
}

/** The weighted error of the noise predicted for clean latents `x0` with text targets `target`, both [B, h, w, 4]. */
function noiseError(unet: TinyUnet, x0: tf.Tensor4D, target: tf.Tensor4D, draw: Draw, alphasCumprod: Float64Array, gamma?: number): tf.Scalar {
  const [b, h, w, c] = x0.shape;
  const noise = tf.tensor4d(draw.noise, [b, h, w, c]);
  const at = (f: (abar: number) => number) => tf.tensor4d(draw.timesteps.map((t) => f(alphasCumprod[t])), [b, 1, 1, 1]);
  const noisy = tf.add(tf.mul(x0, at(Math.sqrt)), tf.mul(noise, at((a) => Math.sqrt(1 - a))));
  const predicted = unet.predictNoiseFor(noisy as tf.Tensor4D, draw.timesteps, target);
  const perItem = tf.mean(tf.square(tf.sub(predicted, noise)), [1, 2, 3]);
  return tf.mean(tf.mul(perItem, minSnrWeights(draw.timesteps, alphasCumprod, gamma)));
}

/** Timesteps of the fixed evaluation draw: across the schedule, like the training draws. */
const EVALUATION_TIMESTEPS = [50, 200, 400, 600, 800, 950];

/**
 * The loss on a fixed draw (every image at each evaluation timestep, noise
 * from the run's seed): unlike single training steps, comparable between
 * points of a run, so initialLoss, finalLoss and the evaluation curve are
 * measured with it. The text targets (most of the UNet's cost) are computed
 * once for all six timesteps, so one evaluation costs about what one
 * training step does (docs/training.md, "Losses reported").
 */
export async function evaluationLoss(unet: TinyUnet, set: LatentSet, seed: number, alphasCumprod: Float64Array, lora: LoraPairs, gamma?: number): Promise<number> {
  const [, h, w, c] = set.latents.shape;
  const rng = new SeededRandom(seed ^ 0x5eed);
  const indices = Array.from({ length: set.count }, (_, i) => i);
  const target = tf.tidy(() => unet.target(set.text, h, w, lora));
  let sum = 0;
  for (const t of EVALUATION_TIMESTEPS) {
    const draw = { indices, timesteps: Array<number>(set.count).fill(t), noise: rng.normals(set.count * h * w * c) };
    const loss = tf.tidy(() => noiseError(unet, set.latents, target, draw, alphasCumprod, gamma));
    sum += (await loss.data())[0];
    loss.dispose();
  }
  target.dispose();
  return sum / EVALUATION_TIMESTEPS.length;
}
