import { SeededRandom } from './rng';
import type { TextStates } from './stages';

/*
 * A video from an image model (docs/video.md, "Frames"): every frame is a full
 * denoising run, and consecutive frames stay coherent because their inputs
 * move smoothly. Keyframe j's initial noise comes from seed + j; frames in
 * between take the spherical interpolation of the two keyframes around them
 * (slerp keeps the noise on the shell a Gaussian sample lives on, where a
 * straight line would shrink it and wash the frame out). The prompt's text
 * states move linearly from the start prompt to the end prompt over the clip.
 */

/** Where frame `index` of `frames` sits: the keyframes around it and how far between them. */
export function keyframePosition(index: number, keyframeEvery: number): { from: number; to: number; t: number } {
  const from = Math.floor(index / keyframeEvery);
  return { from, to: from + 1, t: (index % keyframeEvery) / keyframeEvery };
}

/** Spherical interpolation between two noise vectors; t = 0 gives exactly `a`. */
export function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  if (t === 0) return a;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  const cos = Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb)));
  const theta = Math.acos(cos);
  const out = new Float32Array(a.length);
  // Nearly parallel vectors: slerp degenerates to lerp (and sin θ → 0 would divide by zero).
  const [wa, wb] = theta < 1e-4
    ? [1 - t, t]
    : [Math.sin((1 - t) * theta) / Math.sin(theta), Math.sin(t * theta) / Math.sin(theta)];
  for (let i = 0; i < a.length; i++) out[i] = wa * a[i] + wb * b[i];
  return out;
}

/** Linear interpolation of two equally shaped arrays. */
export function lerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  if (t === 0) return a;
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + t * (b[i] - a[i]);
  return out;
}

/**
 * The initial latents of every frame, keyframe noise drawn once. Keyframe 0
 * is drawn exactly as an image with `seed` draws its latents, so frame 0 of an
 * image-to-video clip starts from the image's own noise.
 */
export class NoiseWalk {
  private readonly keyframes = new Map<number, Float32Array>();

  constructor(private readonly seed: number, private readonly perFrame: number, private readonly sigma: number, private readonly keyframeEvery: number) {}

  at(index: number): Float32Array {
    const { from, to, t } = keyframePosition(index, this.keyframeEvery);
    this.keyframes.forEach((_, k) => { if (k < from) this.keyframes.delete(k); }); // the walk only moves forward
    // A copy even on a keyframe: the sampler must never see (or change) the array the next frames start from.
    return t === 0 ? Float32Array.from(this.keyframe(from)) : slerp(this.keyframe(from), this.keyframe(to), t);
  }

  private keyframe(k: number): Float32Array {
    let noise = this.keyframes.get(k);
    if (!noise) {
      noise = new SeededRandom(this.seed + k).normals(this.perFrame, this.sigma);
      this.keyframes.set(k, noise);
    }
    return noise;
  }
}

/**
 * Text states of frame `index`: [uncond, cond] (or [cond]) where cond moves
 * linearly from the start prompt's states to the end prompt's. `states`
 * holds [uncond?, start, end] as encodeText returned them.
 */
export function walkStates(states: TextStates, guided: boolean, index: number, frames: number): TextStates {
  const [, seq, dim] = states.dims;
  const per = seq * dim;
  const row = (i: number) => states.data.subarray(i * per, (i + 1) * per);
  const first = guided ? 1 : 0;
  const cond = lerp(row(first), row(first + 1), frames > 1 ? index / (frames - 1) : 0);
  const data = new Float32Array((guided ? 2 : 1) * per);
  if (guided) data.set(row(0));
  data.set(cond, guided ? per : 0);
  return { data, dims: [guided ? 2 : 1, seq, dim] };
}

/** A small nearest-neighbour thumbnail (longest side ≤ `max`) of an RGB frame, for previews. */
export function thumbnail(rgb: Uint8Array, width: number, height: number, max: number): { rgb: Uint8Array; width: number; height: number } {
  const scale = Math.min(1, max / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(height - 1, Math.floor(y / scale));
    for (let x = 0; x < w; x++) {
      const sx = Math.min(width - 1, Math.floor(x / scale));
      out.set(rgb.subarray((sy * width + sx) * 3, (sy * width + sx) * 3 + 3), (y * w + x) * 3);
    }
  }
  return { rgb: out, width: w, height: h };
}
