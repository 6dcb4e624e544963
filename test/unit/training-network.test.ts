import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../src/gpu-worker/pipeline/model-loader';
import { floatTensor, readFloats } from '../../src/gpu-worker/pipeline/onnx-session';
import { SeededRandom } from '../../src/gpu-worker/pipeline/rng';
import { encodeText, noisePredictor } from '../../src/gpu-worker/pipeline/stages';
import { decodeLatents, TinyUnet } from '../../src/gpu-worker/training/tiny-network';
import { loadTinyWeights, type TinyWeights } from '../../src/gpu-worker/training/tiny-weights';
import { tf, tfReady } from '../../src/gpu-worker/training/tf';
import { buildTinyModelInTemp } from './helpers/tiny-model';

/** NCHW (onnxruntime's layout) → NHWC (the trainer's). */
function toNhwc(data: Float32Array, [b, c, h, w]: number[]): tf.Tensor4D {
  return tf.transpose(tf.tensor4d(data, [b, c, h, w]), [0, 2, 3, 1]);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe('the trainer\'s tfjs forward pass of the tiny model', () => {
  let built: Awaited<ReturnType<typeof buildTinyModelInTemp>>;
  let model: LoadedModel;
  let weights: TinyWeights;

  beforeAll(async () => {
    await tfReady();
    built = await buildTinyModelInTemp();
    model = await loadModel(built.modelDir, { executionProviders: ['cpu'], intraOpNumThreads: 1, cpuMemArena: true });
    weights = await loadTinyWeights(built.modelDir);
  });
  afterAll(async () => {
    await Promise.all([model?.textEncoder.release(), model?.unet.release(), model?.vaeDecoder.release()]);
    await built?.cleanup();
  });

  it('predicts the same noise as the ONNX UNet', async () => {
    const states = await encodeText(model, ['a red castle at sunset']);
    const dims = [1, 4, 8, 12];
    const sample = new SeededRandom(3).normals(4 * 8 * 12);
    const feeds = Object.fromEntries(model.adaptable.map((w) => [w.input, new ort.Tensor('float32', w.base, w.shape)]));
    for (const t of [10, 400, 990]) {
      const expected = await noisePredictor(model, states, dims.slice(1), feeds)(sample, t);
      const text = tf.mean(tf.tensor3d(states.data, states.dims as [number, number, number]), 1) as tf.Tensor2D;
      const ours = new TinyUnet(weights.unet).predictNoise(toNhwc(sample, dims), [t], text, new Map());
      const oursNchw = await tf.transpose(ours, [0, 3, 1, 2]).data() as Float32Array;
      expect(maxAbsDiff(oursNchw, expected)).toBeLessThan(2e-3 * Math.max(1, Math.max(...expected.map(Math.abs))));
    }
  });

  it('decodes latents to the same pixels as the ONNX VAE decoder', async () => {
    const dims = [1, 4, 8, 8];
    const latents = new SeededRandom(4).normals(4 * 64, 1.5);
    const vae = model.vaeDecoder;
    const scaled = Float32Array.from(latents, (v) => v / model.scalingFactor);
    const out = await vae.run({ latent_sample: floatTensor(vae.inputType('latent_sample'), scaled, dims) });
    const expected = readFloats(out.sample);
    const ours = await tf.transpose(decodeLatents(weights.decoder, toNhwc(latents, dims)), [0, 3, 1, 2]).data() as Float32Array;
    expect(ours.length).toBe(expected.length);
    expect(maxAbsDiff(ours, expected)).toBeLessThan(1e-3);
  });
});
