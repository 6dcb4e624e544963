import { GraphBuilder } from '../graph-builder';
import { OnnxDataType } from '../proto';
import { conv1x1, coordinateGrid, gaussianBlur, gaussianKernel, linear } from '../layers';
import type { SeededRandom } from '../../pipeline/rng';

/** One UNet weight that is a graph input so LoRAs can be fed without a new session. */
export interface AdaptableLayer { name: string; input: string; shape: number[]; base: Float32Array }

/** Hyper-parameters of the tiny UNet (see {@link buildUnet}). */
export interface UnetSpec {
  hiddenSize: number; width: number; textAmplitude: number; seedStd: number; blurSigma: number; blurTaps: number;
  alphasCumprod: Float64Array;
}

/** Per-timestep scalars of the analytic denoiser, looked up with Gather(timestep). */
export function timestepTables(spec: UnetSpec, kernel: Float32Array): { invSqrtAbar: Float32Array; invSigma: Float32Array; keep: Float32Array } {
  const n = spec.alphasCumprod.length;
  const k2 = kernel.reduce((a, v) => a + v * v, 0);
  const nu = k2 * k2; // variance of blurred unit white noise (2-D separable kernel)
  const invSqrtAbar = new Float32Array(n);
  const invSigma = new Float32Array(n);
  const keep = new Float32Array(n);
  for (let t = 0; t < n; t++) {
    const abar = spec.alphasCumprod[t];
    const sigma2 = (1 - abar) / abar;
    invSqrtAbar[t] = 1 / Math.sqrt(abar);
    invSigma[t] = 1 / Math.sqrt(sigma2);
    keep[t] = spec.seedStd ** 2 / (spec.seedStd ** 2 + nu * sigma2);
  }
  return { invSqrtAbar, invSigma, keep };
}

/** Looks `table[timestep]` up and shapes it to broadcast over [B, C, H, W]. */
function lookup(g: GraphBuilder, table: Float32Array, index: string): string {
  const value = g.op('Gather', [g.floats(table), index], { axis: 0 });
  return g.op('Reshape', [value, g.ints([-1, 1, 1, 1])]);
}

/**
 * The text-conditioned target latent: a small coordinate network (CPPN) over
 * latent pixel positions whose phases and gates come from the mean token
 * state. A zero text state (the empty prompt) gives a zero target.
 */
function textTarget(g: GraphBuilder, rng: SeededRandom, spec: UnetSpec, sample: string, states: string, layers: AdaptableLayer[]): string {
  const { hiddenSize: D, width: K } = spec;
  const adaptable = (name: string, shape: number[], base: Float32Array): string => {
    layers.push({ name, input: `${name}.weight`, shape, base });
    return g.input(`${name}.weight`, OnnxDataType.FLOAT, shape);
  };
  const text = g.op('ReduceMean', [states], { axes: [1], keepdims: 0 });
  const phase = linear(g, text, adaptable('cond_proj', [K, D], rng.normals(K * D, 2.5 / Math.sqrt(D))), g.floats(new Float32Array(K)));
  const gate = g.op('Tanh', [linear(g, text, g.weight('gate_proj.weight', rng.normals(K * D, 3 / Math.sqrt(D)), [K, D]), g.floats(new Float32Array(K)))]);
  const coordWeight = g.weight('coord_conv.weight', rng.normals(K * 3, 1.6), [K, 3, 1, 1]);
  const coordBias = g.weight('coord_conv.bias', Float32Array.from({ length: K }, () => rng.next() * 2 * Math.PI), [K]);
  const waves = conv1x1(g, coordinateGrid(g, sample), coordWeight, coordBias);
  const toMap = (v: string): string => g.op('Reshape', [v, g.ints([0, K, 1, 1])]);
  const features = g.op('Mul', [g.op('Sin', [g.op('Add', [waves, toMap(phase)])]), g.op('Abs', [toMap(gate)])]);
  const mid = g.op('Tanh', [conv1x1(g, features, adaptable('mid_conv', [K, K, 1, 1], rng.normals(K * K, 1.5 / Math.sqrt(K))))]);
  const out = conv1x1(g, mid, adaptable('out_conv', [4, K, 1, 1], rng.normals(4 * K, spec.textAmplitude / Math.sqrt(K * 0.4))));
  return out;
}

/**
 * A UNet-shaped analytic denoiser. It treats latents as `target(text) + a
 * smooth Gaussian field` and predicts noise as the exact posterior residual:
 * eps = (d - keep(t)·blur(d)) / sigma(t), with d = x/sqrt(abar(t)) - target.
 * Sampling from noise therefore converges to the text pattern plus a smooth
 * seed-dependent field; the high frequencies (the noise) vanish step by step.
 */
export function buildUnet(rng: SeededRandom, spec: UnetSpec): { model: Buffer; layers: AdaptableLayer[] } {
  const g = new GraphBuilder('atelier_tiny_unet');
  const sample = g.input('sample', OnnxDataType.FLOAT, ['batch', 4, 'height', 'width']);
  const timestep = g.input('timestep', OnnxDataType.INT64, [1]);
  const states = g.input('encoder_hidden_states', OnnxDataType.FLOAT, ['batch', 77, spec.hiddenSize]);
  const layers: AdaptableLayer[] = [];
  const target = textTarget(g, rng, spec, sample, states, layers);

  const kernel = gaussianKernel(spec.blurSigma, spec.blurTaps);
  const tables = timestepTables(spec, kernel);
  const t = g.op('Clip', [timestep, g.ints([0], []), g.ints([tables.keep.length - 1], [])]);
  const x = g.op('Mul', [sample, lookup(g, tables.invSqrtAbar, t)]);
  const residual = g.op('Sub', [x, target]);
  const kept = g.op('Mul', [gaussianBlur(g, residual, 4, kernel), lookup(g, tables.keep, t)]);
  const eps = g.op('Mul', [g.op('Sub', [residual, kept]), lookup(g, tables.invSigma, t)]);
  g.output(eps, 'out_sample', OnnxDataType.FLOAT, ['batch', 4, 'height', 'width']);
  return { model: g.toBuffer({ docString: 'Atelier tiny UNet (analytic denoiser)' }), layers };
}
