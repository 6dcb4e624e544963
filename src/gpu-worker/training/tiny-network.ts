import { tf } from './tf';
import type { Matrix, TinyDecoderWeights, TinyUnetWeights } from './tiny-weights';

/**
 * The tiny model's UNet and VAE decoder as differentiable tfjs functions,
 * the same computation as the ONNX graphs of src/gpu-worker/onnx/tiny-model/
 * (test/unit/training.test.ts checks them against onnxruntime). Tensors are
 * NHWC here, so every 1x1 convolution is a matrix product over channels.
 */

/** One adapted layer's trainable low-rank pair: delta = scale · up · down. */
export interface LoraPair { up: tf.Variable; down: tf.Variable; scale: number }

/** The layers being trained, by layer name; layers not named keep their base weights. */
export type LoraPairs = ReadonlyMap<string, LoraPair>;

function constant(m: Matrix): tf.Tensor2D {
  return tf.tensor2d(m.data, [m.rows, m.cols]);
}

/**
 * Pixel-centre coordinates (x, y, radius) measured in half short sides, [h·w, 3]:
 * the same grid as layers.ts coordinateGrid.
 */
function coordinateGrid(h: number, w: number): tf.Tensor2D {
  const half = Math.min(h, w) / 2;
  const data = new Float32Array(h * w * 3);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const x = (j + 0.5 - w / 2) / half;
      const y = (i + 0.5 - h / 2) / half;
      data.set([x, y, Math.sqrt(x * x + y * y)], (i * w + j) * 3);
    }
  }
  return tf.tensor2d(data, [h * w, 3]);
}

/** The edge-padded separable blur along one axis of length n, as an [n, n] matrix (layers.ts gaussianBlur). */
function blurMatrix(kernel: Float32Array, n: number): tf.Tensor2D {
  const half = (kernel.length - 1) / 2;
  const data = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < kernel.length; k++) data[i * n + Math.min(n - 1, Math.max(0, i + k - half))] += kernel[k];
  }
  return tf.tensor2d(data, [n, n]);
}

/** x [B, rows, cols, C] → the same with `m` [rows', rows] applied along axis 1. */
function alongRows(m: tf.Tensor2D, x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const moved = tf.reshape(tf.transpose(x, [1, 0, 2, 3]), [h, b * w * c]);
  return tf.transpose(tf.reshape(tf.matMul(m, moved), [h, b, w, c]), [1, 0, 2, 3]);
}

/** A dense layer over the last axis: x [N, in] · Wᵀ with W [out, in]. */
function dense(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(x, w, false, true);
}

/** The UNet with its constants as tensors, built once per run and latent size. */
export class TinyUnet {
  private readonly base = new Map<string, tf.Tensor2D>();
  private readonly gateProj: tf.Tensor2D;
  private readonly coordConv: tf.Tensor2D;
  private readonly coordBias: tf.Tensor1D;
  private readonly grids = new Map<string, { coords: tf.Tensor2D; blurH: tf.Tensor2D; blurW: tf.Tensor2D }>();

  constructor(private readonly w: TinyUnetWeights) {
    for (const [name, m] of w.adaptable) this.base.set(name, constant(m));
    this.gateProj = constant(w.gateProj);
    this.coordConv = constant(w.coordConv);
    this.coordBias = tf.tensor1d(w.coordBias);
  }

  dispose(): void {
    tf.dispose([...this.base.values(), this.gateProj, this.coordConv, this.coordBias]);
    for (const g of this.grids.values()) tf.dispose(Object.values(g));
  }

  /** The names of the layers a LoRA may adapt, with [out, in]. */
  get layers(): Array<{ name: string; outFeatures: number; inFeatures: number }> {
    return [...this.w.adaptable].map(([name, m]) => ({ name, outFeatures: m.rows, inFeatures: m.cols }));
  }

  /** W + scale · up · down for a layer (the merge src/gpu-worker/lora/merge.ts does at inference). */
  private weight(name: string, lora: LoraPairs): tf.Tensor2D {
    const base = this.base.get(name) as tf.Tensor2D;
    const pair = lora.get(name);
    return pair ? tf.add(base, tf.mul(tf.matMul(pair.up, pair.down), pair.scale)) : base;
  }

  private grid(h: number, w: number): { coords: tf.Tensor2D; blurH: tf.Tensor2D; blurW: tf.Tensor2D } {
    const key = `${h}x${w}`;
    let g = this.grids.get(key);
    if (!g) {
      g = tf.tidy(() => ({ coords: coordinateGrid(h, w), blurH: blurMatrix(this.w.blurKernel, h), blurW: blurMatrix(this.w.blurKernel, w) }));
      for (const t of Object.values(g)) tf.keep(t);
      this.grids.set(key, g);
    }
    return g;
  }

  /** The text-conditioned target latent [B, h, w, 4] for mean text states `text` [B, D]. */
  target(text: tf.Tensor2D, h: number, w: number, lora: LoraPairs): tf.Tensor4D {
    const batch = text.shape[0];
    const k = this.coordConv.shape[0];
    const phase = dense(text, this.weight('cond_proj', lora));
    const gate = tf.abs(tf.tanh(dense(text, this.gateProj)));
    const waves = tf.add(dense(this.grid(h, w).coords, this.coordConv), this.coordBias);
    const features = tf.mul(tf.sin(tf.add(tf.expandDims(waves, 0), tf.expandDims(phase, 1))), tf.expandDims(gate, 1));
    const mid = tf.tanh(dense(tf.reshape(features, [-1, k]), this.weight('mid_conv', lora)));
    return tf.reshape(dense(mid, this.weight('out_conv', lora)), [batch, h, w, -1]);
  }

  /** Predicted noise for noisy latents `sample` [B, h, w, 4] at integer timesteps (one per item). */
  predictNoise(sample: tf.Tensor4D, timesteps: number[], text: tf.Tensor2D, lora: LoraPairs): tf.Tensor4D {
    const [, h, w] = sample.shape;
    return this.predictNoiseFor(sample, timesteps, this.target(text, h, w, lora));
  }

  /**
   * predictNoise with the text target already computed: the target depends
   * on the text and the LoRA only, and is most of the cost, so an
   * evaluation over many timesteps computes it once.
   */
  predictNoiseFor(sample: tf.Tensor4D, timesteps: number[], target: tf.Tensor4D): tf.Tensor4D {
    const [, h, w] = sample.shape;
    const at = (table: Float32Array) => tf.tensor4d(timesteps.map((t) => table[t]), [timesteps.length, 1, 1, 1]);
    const residual = tf.sub(tf.mul(sample, at(this.w.invSqrtAbar)), target);
    const g = this.grid(h, w);
    const swap = (x: tf.Tensor4D): tf.Tensor4D => tf.transpose(x, [0, 2, 1, 3]);
    const blurred = swap(alongRows(g.blurW, swap(alongRows(g.blurH, residual as tf.Tensor4D))));
    return tf.mul(tf.sub(residual, tf.mul(blurred, at(this.w.keep))), at(this.w.invSigma));
  }
}

/**
 * The VAE decoder: latents [B, h, w, 4] (UNet space) → RGB in [-1, 1], [B, 8h, 8w, 3].
 * With `upscale` 1 it colours each latent pixel at its own centre instead
 * (no upsampling): the cheap view the latent encoding fits against.
 * Per-pixel terms that do not depend on the image (position) are added as
 * flat [pixels·channels] rows: tfjs's CPU backend broadcasts a trailing-aligned
 * operand with a fast modulo loop, but a leading 1 with a slow index loop.
 */
export function decodeLatents(w: TinyDecoderWeights, latents: tf.Tensor4D, upscale = 8): tf.Tensor4D {
  const [b, h, wd] = latents.shape;
  const H = h * upscale;
  const W = wd * upscale;
  const resized = upscale === 1 ? latents : tf.image.resizeBilinear(latents, [H, W], false, true);
  const up = tf.reshape<tf.Rank.R2>(resized, [-1, 4]);
  const coords = coordinateGrid(H, W);
  const withPosition = (fromLatent: tf.Tensor2D, fromCoords: tf.Tensor2D, bias: ArrayLike<number>): tf.Tensor2D => {
    const channels = fromCoords.shape[1];
    const position = tf.reshape(tf.add(fromCoords, tf.tensor1d(Array.from(bias))), [-1]);
    return tf.reshape<tf.Rank.R2>(tf.add(tf.reshape(fromLatent, [b, -1]), position), [-1, channels]);
  };
  const arg = withPosition(dense(up, constant(w.paletteLatent)), dense(coords, constant(w.palettePosition)), w.palettePhase);
  const h1 = tf.sin(withPosition(dense(up, constant(w.texture1Latent)), dense(coords, constant(w.texture1Coords)), w.texture1Bias));
  const h2 = tf.tanh(tf.add<tf.Tensor2D>(dense(h1, constant(w.texture2)), w.texture2Bias));
  const colour = tf.add(tf.mul(tf.cos(tf.add<tf.Tensor2D>(arg, dense(h2, constant(w.texture3)))), w.amplitude), w.offset);
  const radius = tf.slice(coords, [0, 2], [-1, 1]);
  const shade = tf.reshape(tf.tile(tf.sub(1, tf.mul(tf.square(radius), w.vignette)), [1, 3]), [-1]);
  const rgb = tf.sub(tf.mul(tf.reshape(colour, [b, -1]), tf.mul(shade, 2)), 1);
  return tf.reshape(tf.clipByValue(rgb, -1, 1), [b, H, W, 3]);
}
