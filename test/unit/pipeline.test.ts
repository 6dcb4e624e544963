import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffusionPipeline } from '../../src/gpu-worker/pipeline/diffusion-pipeline';
import { PipelineAbortedError, PipelineError } from '../../src/gpu-worker/pipeline/errors';
import { readPngInfo } from '../../src/gpu-worker/pipeline/png';
import { type GenerationRequest, type StepProgress } from '../../src/gpu-worker/pipeline/types';
import { decodePng, meanAbsDiff, roughness } from './helpers/png-decode';
import { buildTinyModelInTemp } from './helpers/tiny-model';

const base: GenerationRequest = { prompt: 'a red sunset over the ocean', width: 128, height: 128, steps: 12, guidanceScale: 7.5, seed: 42, count: 1 };

describe('DiffusionPipeline on the tiny model', () => {
  let model: Awaited<ReturnType<typeof buildTinyModelInTemp>>;
  let pipeline: DiffusionPipeline;

  beforeAll(async () => {
    model = await buildTinyModelInTemp();
    pipeline = await DiffusionPipeline.load(model.modelDir);
  });
  afterAll(async () => {
    await pipeline?.release();
    await model?.cleanup();
  });

  const generate = async (over: Partial<GenerationRequest> = {}) => (await pipeline.generate({ ...base, ...over }))[0];

  it('writes a PNG of the requested size with its parameters as text chunks', async () => {
    const img = await generate({ width: 192, height: 128, negativePrompt: 'blurry' });
    const info = readPngInfo(img.png);
    expect([info.width, info.height, info.bitDepth, info.colourType]).toEqual([192, 128, 8, 2]);
    expect([img.width, img.height, img.seed]).toEqual([192, 128, 42]);
    expect(info.text).toMatchObject({
      prompt: base.prompt, negative_prompt: 'blurry', seed: '42', steps: '12', guidance_scale: '7.5',
      width: '192', height: '128', model: 'atelier-tiny', sampler: 'Euler', loras: '[]',
    });
    expect(info.text.model_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(info.text.parameters).toContain('Steps: 12, Sampler: Euler, CFG scale: 7.5, Seed: 42, Size: 192x128');
    expect(img.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keeps non-Latin-1 prompts intact (iTXt)', async () => {
    const img = await generate({ prompt: '夕焼けの海 🌅', steps: 2 });
    expect(readPngInfo(img.png).text.prompt).toBe('夕焼けの海 🌅');
  });

  it('is deterministic: same request gives identical bytes, also from a second loaded pipeline', async () => {
    const a = await generate();
    const b = await generate();
    const other = await DiffusionPipeline.load(model.modelDir);
    const c = (await other.generate(base))[0];
    await other.release();
    expect(b.png.equals(a.png)).toBe(true);
    expect(c.png.equals(a.png)).toBe(true);
  });

  it('makes smooth images, not noise', async () => {
    const img = decodePng((await generate()).png);
    expect(roughness(img)).toBeLessThan(0.1);
  });

  it('changes the image clearly with the prompt and with the seed', async () => {
    const a = decodePng((await generate()).png);
    const otherPrompt = decodePng((await generate({ prompt: 'a green forest with mountains' })).png);
    const otherSeed = decodePng((await generate({ seed: 43 })).png);
    expect(meanAbsDiff(a, otherPrompt)).toBeGreaterThan(20);
    expect(meanAbsDiff(a, otherSeed)).toBeGreaterThan(12);
  });

  it('makes count images with consecutive seeds, each as if made alone', async () => {
    const images = await pipeline.generate({ ...base, count: 3, seed: 7 });
    expect(images.map((i) => i.seed)).toEqual([7, 8, 9]);
    const alone = await generate({ seed: 8 });
    expect(meanAbsDiff(decodePng(images[1].png), decodePng(alone.png))).toBeLessThan(0.5);
    expect(new Set(images.map((i) => i.sha256)).size).toBe(3);
  });

  it('reports progress once per step and converges from noise to structure', async () => {
    const events: StepProgress[] = [];
    await pipeline.generate({ ...base, steps: 10, previewEvery: 1 }, { onStep: (p) => void events.push(p) });
    expect(events.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(events.every((e) => e.totalSteps === 10 && e.etaMs >= 0 && e.elapsedMs >= 0)).toBe(true);
    const rough = events.map((e) => roughness(decodePng(e.preview as Buffer)));
    expect(rough[rough.length - 1]).toBeLessThan(rough[0] * 0.5);
    for (let i = 1; i < rough.length; i++) expect(rough[i]).toBeLessThanOrEqual(rough[i - 1] * 1.05);
    const info = readPngInfo(events[0].preview as Buffer);
    expect(Math.max(info.width, info.height)).toBeLessThanOrEqual(64);
  });

  it('says the sampler is over after its last step and before any latents are decoded to pixels', async () => {
    const seen: string[] = [];
    const vae = (pipeline as unknown as { model: { vaeDecoder: { run: (...args: unknown[]) => Promise<unknown> } } }).model.vaeDecoder;
    const run = vae.run;
    vae.run = (...args) => { seen.push('decode'); return run.apply(vae, args); };
    try {
      await pipeline.generate({ ...base, steps: 3, count: 2 }, { onStep: (p) => void seen.push(`step ${p.step}`), onSampled: () => void seen.push('sampled') });
    } finally {
      vae.run = run;
    }
    expect(seen).toEqual(['step 1', 'step 2', 'step 3', 'sampled', 'decode', 'decode']);
  });

  it('attaches previews only every N steps', async () => {
    const withPreview: number[] = [];
    await pipeline.generate({ ...base, steps: 6, previewEvery: 3 }, { onStep: (p) => void (p.preview && withPreview.push(p.step)) });
    expect(withPreview).toEqual([3, 6]);
  });

  it('stops at the next step when aborted', async () => {
    const controller = new AbortController();
    const steps: number[] = [];
    const run = pipeline.generate({ ...base, steps: 10 }, {
      signal: controller.signal,
      onStep: (p) => {
        steps.push(p.step);
        if (p.step === 3) controller.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(PipelineAbortedError);
    expect(steps).toEqual([1, 2, 3]);
  });

  it('runs DDIM and unguided sampling to smooth images too', async () => {
    const ddim = await generate({ sampler: 'ddim' });
    expect(readPngInfo(ddim.png).text.sampler).toBe('DDIM');
    expect(roughness(decodePng(ddim.png))).toBeLessThan(0.1);
    const unguided = await generate({ guidanceScale: 1 });
    expect(roughness(decodePng(unguided.png))).toBeLessThan(0.1);
  });

  it('rejects bad parameters with INVALID_PARAMETERS and the field', async () => {
    for (const [over, field] of [[{ width: 100 }, 'width'], [{ steps: 0 }, 'steps'], [{ seed: -1 }, 'seed'], [{ count: 0 }, 'count']] as const) {
      const err = await pipeline.generate({ ...base, ...over }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PipelineError);
      expect(err).toMatchObject({ code: 'INVALID_PARAMETERS', field, unrecoverable: true });
    }
  });

  it('falls back to CPU when an execution provider is unavailable', async () => {
    const p = await DiffusionPipeline.load(model.modelDir, { executionProviders: ['cuda', 'cpu'] });
    expect(p.executionProvider).toBe('cpu');
    expect(p.supportsLora).toBe(true);
    expect(p.approxBytes).toBeGreaterThan(0);
    await p.release();
  });

  it('refuses a directory that is not a model', async () => {
    await expect(DiffusionPipeline.load(model.root)).rejects.toMatchObject({ code: 'MODEL_INVALID', unrecoverable: true });
  });
});
