import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffusionPipeline } from '../../src/gpu-worker/pipeline/diffusion-pipeline';
import { PipelineError } from '../../src/gpu-worker/pipeline/errors';
import { readPngInfo } from '../../src/gpu-worker/pipeline/png';
import { SAMPLER_KINDS } from '../../src/gpu-worker/pipeline/scheduler';
import type { GenerationRequest } from '../../src/gpu-worker/pipeline/types';
import { decodePng, roughness } from './helpers/png-decode';
import { buildTinyModelInTemp } from './helpers/tiny-model';

const base: GenerationRequest = { prompt: 'a lighthouse on a cliff', width: 64, height: 64, steps: 4, guidanceScale: 1, seed: 7, count: 1 };
const LABELS = { euler: 'Euler', euler_ancestral: 'Euler a', ddim: 'DDIM', lcm: 'LCM', dpmpp_2m: 'DPM++ 2M' };

describe('every sampler on the tiny model', () => {
  let model: Awaited<ReturnType<typeof buildTinyModelInTemp>>;
  let pipeline: DiffusionPipeline;
  let second: DiffusionPipeline;

  beforeAll(async () => {
    model = await buildTinyModelInTemp();
    pipeline = await DiffusionPipeline.load(model.modelDir);
    second = await DiffusionPipeline.load(model.modelDir);
  });
  afterAll(async () => {
    await pipeline?.release();
    await second?.release();
    await model?.cleanup();
  });

  for (const sampler of SAMPLER_KINDS) {
    it(`${sampler}: same seed gives byte-identical PNGs, another seed another image`, async () => {
      const req = { ...base, sampler };
      const [a] = await pipeline.generate(req);
      const [b] = await second.generate(req);
      const [other] = await pipeline.generate({ ...req, seed: 8 });
      expect(b.png.equals(a.png)).toBe(true);
      expect(other.sha256).not.toBe(a.sha256);
      expect(readPngInfo(a.png).text.sampler).toBe(LABELS[sampler]);
      expect(roughness(decodePng(a.png))).toBeLessThan(0.2);
    });

    it(`${sampler}: image i of a batch is the image of seed + i alone`, async () => {
      const batch = await pipeline.generate({ ...base, sampler, count: 2, guidanceScale: 3 });
      const [alone] = await pipeline.generate({ ...base, sampler, seed: base.seed + 1, guidanceScale: 3 });
      expect(batch[1].png.equals(alone.png)).toBe(true);
    });
  }

  it('the samplers make different images from the same seed', async () => {
    const hashes = await Promise.all(SAMPLER_KINDS.map(async (sampler) => (await pipeline.generate({ ...base, sampler }))[0].sha256));
    expect(new Set(hashes).size).toBe(SAMPLER_KINDS.length);
  });

  it('refuses LCM past its 50-step schedule and an unknown sampler, with the field', async () => {
    await expect(pipeline.generate({ ...base, sampler: 'lcm', steps: 51 })).rejects.toMatchObject({ code: 'INVALID_PARAMETERS', field: 'steps' });
    const bad = pipeline.generate({ ...base, sampler: 'heun' as never });
    await expect(bad).rejects.toBeInstanceOf(PipelineError);
    await expect(bad).rejects.toMatchObject({ field: 'sampler' });
  });
});
