import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffusionPipeline } from '../../src/gpu-worker/pipeline/diffusion-pipeline';
import type { GenerationRequest } from '../../src/gpu-worker/pipeline/types';
import { SAMPLER_KINDS } from '../../src/gpu-worker/pipeline/scheduler';
import { GENERATION_LIMITS as L } from '../../src/kernel/generation-parameters';
import { decodePng } from './helpers/png-decode';
import { buildTinyModelInTemp } from './helpers/tiny-model';

/**
 * Seed determinism through the real ONNX pipeline on the tiny model: the same
 * seed and parameters give byte-identical PNGs (from two loaded pipelines, as
 * two workers would), and another seed gives another image. Small images and
 * few runs keep it fast; the parameters that vary are the ones a user picks.
 */

const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => s.trim().length > 0);

const request: fc.Arbitrary<GenerationRequest> = fc.integer({ min: 1, max: 2 }).chain((count) =>
  fc.record({
    prompt: text,
    negativePrompt: fc.option(text, { nil: undefined }),
    width: fc.constantFrom(64, 72),
    height: fc.constantFrom(64, 72),
    steps: fc.integer({ min: 1, max: 2 }),
    guidanceScale: fc.double({ min: L.guidanceScale.min, max: L.guidanceScale.max, noNaN: true }),
    seed: fc.integer({ min: L.seed.min, max: L.seed.max - (count - 1) }),
    count: fc.constant(count),
    sampler: fc.constantFrom(...SAMPLER_KINDS),
  }),
);

describe('seed determinism on the tiny model', () => {
  let model: Awaited<ReturnType<typeof buildTinyModelInTemp>>;
  let first: DiffusionPipeline;
  let second: DiffusionPipeline;

  beforeAll(async () => {
    model = await buildTinyModelInTemp();
    [first, second] = await Promise.all([DiffusionPipeline.load(model.modelDir), DiffusionPipeline.load(model.modelDir)]);
  });
  afterAll(async () => {
    await Promise.all([first?.release(), second?.release()]);
    await model?.cleanup();
  });

  it('the same seed and parameters give byte-identical PNGs, on either pipeline', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const [a, b] = [await first.generate(req), await second.generate(req)];
        expect(a.map((image) => image.seed)).toEqual(Array.from({ length: req.count }, (_, i) => req.seed + i));
        a.forEach((image, i) => expect(image.png.equals(b[i].png), `image ${i}`).toBe(true));
      }),
      { numRuns: 10 },
    );
  });

  it('a different seed gives a different image', async () => {
    const otherSeed = (seed: number, delta: number) => (seed + delta) % (L.seed.max + 1);
    await fc.assert(
      fc.asyncProperty(request.map((req) => ({ ...req, count: 1 })), fc.integer({ min: 1, max: L.seed.max }), async (req, delta) => {
        const [a] = await first.generate(req);
        const [b] = await first.generate({ ...req, seed: otherSeed(req.seed, delta) });
        expect(Buffer.from(decodePng(a.png).rgb).equals(Buffer.from(decodePng(b.png).rgb))).toBe(false);
      }),
      { numRuns: 10 },
    );
  });
});
