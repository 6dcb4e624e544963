import { decodeLatents } from './tiny-network';
import { tf } from './tf';
import type { TinyDecoderWeights } from './tiny-weights';

/**
 * Images → latents for a model with no VAE encoder (the tiny model ships
 * only a decoder), by inverting the decoder (docs/training.md, "Latents"):
 *
 * 1. Each 8×8 pixel block is averaged to the colour its latent pixel must
 *    decode to.
 * 2. A closed-form start: the decoder's colour is offset + amplitude ·
 *    cos(palette argument), the argument linear in the latents, so each
 *    block's arguments are acos of its colour (of the periodic branches,
 *    those giving the smallest latents) and the latents the least-norm
 *    solution.
 * 3. Gradient descent through the decoder's colour function (texture
 *    included) refines that start.
 *
 * Deterministic: no randomness at all. With a real VAE encoder this would be
 * one forward pass.
 */
export interface EncodedLatents {
  /** NHWC [count, size/8, size/8, 4] in the UNet's latent space. */
  latents: Float32Array;
  /** Mean absolute error of the full-size decoding against the images, in 0–255 levels. */
  reconstructionError: number;
}

/** Block means: NHWC [count, size, size, 3] → [count, size/8, size/8, 3]. */
function blockMeans(pixels: Float32Array, count: number, size: number): Float32Array {
  const s = size / 8;
  const out = new Float32Array(count * s * s * 3);
  for (let n = 0; n < count; n++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        for (let c = 0; c < 3; c++) {
          out[((n * s + (y >> 3)) * s + (x >> 3)) * 3 + c] += pixels[((n * size + y) * size + x) * 3 + c] / 64;
        }
      }
    }
  }
  return out;
}

/** Solves L z = a for z with the least norm: z = Lᵀ (L Lᵀ)⁻¹ a, L being 3×4. */
function leastNorm(l: Float32Array): (a: number[]) => number[] {
  const g = [0, 1, 2].map((i) => [0, 1, 2].map((j) => [0, 1, 2, 3].reduce((sum, k) => sum + l[i * 4 + k] * l[j * 4 + k], 0)));
  const det = g[0][0] * (g[1][1] * g[2][2] - g[1][2] * g[2][1]) - g[0][1] * (g[1][0] * g[2][2] - g[1][2] * g[2][0]) + g[0][2] * (g[1][0] * g[2][1] - g[1][1] * g[2][0]);
  const inv = [0, 1, 2].map((i) => [0, 1, 2].map((j) => {
    const r = [0, 1, 2].filter((k) => k !== j);
    const c = [0, 1, 2].filter((k) => k !== i);
    return ((i + j) % 2 ? -1 : 1) * (g[r[0]][c[0]] * g[r[1]][c[1]] - g[r[0]][c[1]] * g[r[1]][c[0]]) / det;
  }));
  return (a) => {
    const y = [0, 1, 2].map((i) => inv[i][0] * a[0] + inv[i][1] * a[1] + inv[i][2] * a[2]);
    return [0, 1, 2, 3].map((k) => l[k] * y[0] + l[4 + k] * y[1] + l[8 + k] * y[2]);
  };
}

/** Every combination of one entry per list. */
function combinations(lists: number[][]): number[][] {
  return lists.reduce<number[][]>((acc, list) => acc.flatMap((prefix) => list.map((v) => [...prefix, v])), [[]]);
}

/**
 * The closed-form start (step 2) for block colours [count, s, s, 3] in [-1, 1]:
 * of the branches ±acos + 2πm of the three palette arguments, the
 * combination whose least-norm latents are smallest, so the latents stay
 * where the model's own samples live rather than cycles away on the palette.
 */
function closedFormStart(w: TinyDecoderWeights, colours: Float32Array, count: number, s: number): Float32Array {
  const solve = leastNorm(w.paletteLatent.data);
  const p = w.palettePosition.data;
  const out = new Float32Array(count * s * s * 4);
  for (let n = 0; n < count; n++) {
    for (let i = 0; i < s; i++) {
      for (let j = 0; j < s; j++) {
        const x = (j + 0.5 - s / 2) / (s / 2);
        const y = (i + 0.5 - s / 2) / (s / 2);
        const shade = 1 - w.vignette * (x * x + y * y);
        const branches = [0, 1, 2].map((k) => {
          const own = x * p[k * 3] + y * p[k * 3 + 1] + Math.hypot(x, y) * p[k * 3 + 2] + w.palettePhase[k];
          const colour = (colours[((n * s + i) * s + j) * 3 + k] + 1) / 2 / shade;
          const base = Math.acos(Math.min(1, Math.max(-1, (colour - w.offset[k]) / w.amplitude[k])));
          const m = Math.round(own / (2 * Math.PI));
          return [-1, 0, 1].flatMap((d) => [base, -base].map((b) => b + 2 * Math.PI * (m + d) - own));
        });
        const norm = (z: number[]) => z.reduce((sum, v) => sum + v * v, 0);
        const best = combinations(branches).map(solve).reduce((a, b) => (norm(b) < norm(a) ? b : a));
        out.set(best, ((n * s + i) * s + j) * 4);
      }
    }
  }
  return out;
}

export async function encodeByInversion(decoder: TinyDecoderWeights, pixels: Float32Array, count: number, size: number, iterations = 100): Promise<EncodedLatents> {
  const s = size / 8;
  const colours = blockMeans(pixels, count, size);
  const latents = tf.variable(tf.tensor4d(closedFormStart(decoder, colours, count, s), [count, s, s, 4]));
  const target = tf.tensor4d(colours, [count, s, s, 3]);
  const optimizer = tf.train.adam(0.02);
  for (let i = 0; i < iterations; i++) {
    optimizer.minimize(() => tf.mean(tf.square(tf.sub(decodeLatents(decoder, latents as tf.Tensor4D, 1), target))) as tf.Scalar, false, [latents]);
  }
  const image = tf.tensor4d(pixels, [count, size, size, 3]);
  const error = tf.tidy(() => tf.mean(tf.abs(tf.sub(decodeLatents(decoder, latents as tf.Tensor4D), image))));
  const result = { latents: await latents.data() as Float32Array, reconstructionError: (await error.data())[0] * 127.5 };
  tf.dispose([target, image, latents, error]);
  optimizer.dispose();
  return result;
}
