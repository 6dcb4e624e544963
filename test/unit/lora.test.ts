import { readFile, writeFile, cp } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeLoraTargets, writeLoraSafetensors, type LoraTargetInfo } from '../../src/gpu-worker/lora/writer';
import { DiffusionPipeline } from '../../src/gpu-worker/pipeline/diffusion-pipeline';
import { PipelineError } from '../../src/gpu-worker/pipeline/errors';
import { readPngInfo } from '../../src/gpu-worker/pipeline/png';
import { sessionsCreated } from '../../src/gpu-worker/pipeline/onnx-session';
import { SeededRandom } from '../../src/gpu-worker/pipeline/rng';
import { type GenerationRequest } from '../../src/gpu-worker/pipeline/types';
import { decodePng, meanAbsDiff } from './helpers/png-decode';
import { buildTinyModelInTemp } from './helpers/tiny-model';

const base: GenerationRequest = { prompt: 'a castle on a hill', width: 128, height: 128, steps: 10, guidanceScale: 7.5, seed: 5, count: 1 };

/** A random rank-r LoRA for the given layers (std chosen to change images clearly). */
function randomLora(targets: LoraTargetInfo[], seed: number, rank = 4) {
  const rng = new SeededRandom(seed);
  return {
    targets: Object.fromEntries(targets.map((t) => [t.name, {
      up: rng.normals(t.outFeatures * rank, 0.6), down: rng.normals(rank * t.inFeatures, 0.6), rank, alpha: rank,
    }])),
  };
}

describe('LoRA application', () => {
  let model: Awaited<ReturnType<typeof buildTinyModelInTemp>>;
  let pipeline: DiffusionPipeline;
  let targets: LoraTargetInfo[];
  const file = (name: string) => path.join(model.root, name);
  const run = async (over: Partial<GenerationRequest> = {}) => (await pipeline.generate({ ...base, ...over }))[0];
  const failure = (over: Partial<GenerationRequest>) => pipeline.generate({ ...base, ...over }).catch((e: unknown) => e);

  beforeAll(async () => {
    model = await buildTinyModelInTemp();
    pipeline = await DiffusionPipeline.load(model.modelDir);
    targets = describeLoraTargets(pipeline);
    await writeLoraSafetensors(file('style-a.safetensors'), randomLora(targets, 1));
    await writeLoraSafetensors(file('style-b.safetensors'), randomLora(targets.filter((t) => t.name === 'out_conv'), 2));
  });
  afterAll(async () => {
    await pipeline?.release();
    await model?.cleanup();
  });

  it('describes the adaptable layers of the tiny model', () => {
    expect(targets.map((t) => t.name)).toEqual(['cond_proj', 'mid_conv', 'out_conv']);
    expect(targets.find((t) => t.name === 'out_conv')).toMatchObject({ outFeatures: 4, inFeatures: 32 });
  });

  it('changes the image, and records the LoRA in the PNG', async () => {
    const plain = await run();
    const styled = await run({ loras: [{ name: 'style-a', path: file('style-a.safetensors'), weight: 1 }] });
    expect(meanAbsDiff(decodePng(plain.png), decodePng(styled.png))).toBeGreaterThan(10);
    expect(JSON.parse(readPngInfo(styled.png).text.loras)).toEqual([{ name: 'style-a', weight: 1 }]);
  });

  it('gives identical bytes at weight 0', async () => {
    const plain = await run();
    const zero = await run({ loras: [{ name: 'style-a', path: file('style-a.safetensors'), weight: 0 }] });
    expect(zero.png.equals(plain.png)).toBe(true);
  });

  it('stacks two LoRAs, and swapping them back restores the output', async () => {
    const a = { name: 'style-a', path: file('style-a.safetensors'), weight: 0.8 };
    const b = { name: 'style-b', path: file('style-b.safetensors'), weight: 1 };
    const onlyA = decodePng((await run({ loras: [a] })).png);
    const both = decodePng((await run({ loras: [a, b] })).png);
    const onlyB = decodePng((await run({ loras: [b] })).png);
    expect(meanAbsDiff(onlyA, both)).toBeGreaterThan(3);
    expect(meanAbsDiff(onlyB, both)).toBeGreaterThan(3);
    expect(meanAbsDiff(decodePng((await run({ loras: [a] })).png), onlyA)).toBe(0);
  });

  it('applies and swaps LoRAs without creating a new InferenceSession', async () => {
    const before = sessionsCreated();
    await run({ loras: [{ name: 'style-a', path: file('style-a.safetensors'), weight: 1 }] });
    await run({ loras: [{ name: 'style-b', path: file('style-b.safetensors'), weight: 0.5 }] });
    await run();
    expect(sessionsCreated()).toBe(before);
  });

  it('rejects a malformed file with LORA_INVALID (unrecoverable)', async () => {
    await writeFile(file('broken.safetensors'), Buffer.from('not a safetensors file at all'));
    const err = await failure({ loras: [{ name: 'broken', path: file('broken.safetensors'), weight: 1 }] });
    expect(err).toBeInstanceOf(PipelineError);
    expect(err).toMatchObject({ code: 'LORA_INVALID', unrecoverable: true });
  });

  it('rejects a truncated file with LORA_INVALID', async () => {
    const bytes = await readFile(file('style-a.safetensors'));
    await writeFile(file('truncated.safetensors'), bytes.subarray(0, bytes.length - 10));
    expect(await failure({ loras: [{ name: 't', path: file('truncated.safetensors'), weight: 1 }] })).toMatchObject({ code: 'LORA_INVALID' });
  });

  it('rejects wrong shapes and unknown layers with LORA_MISMATCH (unrecoverable)', async () => {
    await writeLoraSafetensors(file('wrong-shape.safetensors'), randomLora([{ name: 'out_conv', shape: [8, 32], outFeatures: 8, inFeatures: 32 }], 3));
    await writeLoraSafetensors(file('unknown-layer.safetensors'), randomLora([{ name: 'attn_to_q', shape: [4, 4], outFeatures: 4, inFeatures: 4 }], 4));
    for (const name of ['wrong-shape', 'unknown-layer']) {
      const err = await failure({ loras: [{ name, path: file(`${name}.safetensors`), weight: 1 }] });
      expect(err).toMatchObject({ code: 'LORA_MISMATCH', unrecoverable: true });
    }
  });

  it('reports a missing file as LORA_NOT_FOUND', async () => {
    expect(await failure({ loras: [{ name: 'gone', path: file('gone.safetensors'), weight: 1 }] })).toMatchObject({ code: 'LORA_NOT_FOUND' });
  });

  it('refuses LoRAs with LORA_UNSUPPORTED on a model without adaptable layers', async () => {
    const plainDir = file('no-lora-model');
    await cp(model.modelDir, plainDir, { recursive: true });
    const indexFile = path.join(plainDir, 'model_index.json');
    const index = JSON.parse(await readFile(indexFile, 'utf8')) as { atelier: Record<string, unknown> };
    delete index.atelier.lora_layers;
    await writeFile(indexFile, JSON.stringify(index));
    const plain = await DiffusionPipeline.load(plainDir);
    expect(plain.supportsLora).toBe(false);
    expect(describeLoraTargets(plain)).toEqual([]);
    const err = await plain.generate({ ...base, loras: [{ name: 'a', path: file('style-a.safetensors'), weight: 1 }] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LORA_UNSUPPORTED', unrecoverable: true });
    await plain.release();
  });
});
