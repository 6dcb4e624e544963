import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../src/gpu-worker/models/registry';
import { PipelineCache } from '../../src/gpu-worker/models/pipeline-cache';
import { DiffusionPipeline } from '../../src/gpu-worker/pipeline/diffusion-pipeline';
import { buildTinyModelInTemp } from './helpers/tiny-model';

describe('ModelRegistry and PipelineCache', () => {
  let model: Awaited<ReturnType<typeof buildTinyModelInTemp>>;
  let tinyBytes: number;
  const dirOf = (name: string) => path.join(model.root, name);

  beforeAll(async () => {
    model = await buildTinyModelInTemp();
    await cp(model.modelDir, dirOf('copy-b'), { recursive: true });
    await cp(model.modelDir, dirOf('copy-c'), { recursive: true });
    await mkdir(dirOf('not-a-model'));
    await writeFile(path.join(dirOf('not-a-model'), 'readme.txt'), 'hello');
    const p = await DiffusionPipeline.load(model.modelDir);
    tinyBytes = p.approxBytes;
    await p.release();
  });
  afterAll(() => model?.cleanup());

  it('finds diffusers-layout folders and hashes every file', async () => {
    const registry = new ModelRegistry(model.root);
    const found = await registry.scan();
    expect(found.map((m) => m.name)).toEqual(['atelier-tiny', 'copy-b', 'copy-c']);
    const tiny = registry.get('atelier-tiny')!;
    expect(tiny.files.map((f) => f.path)).toContain('unet/model.onnx');
    const unetBytes = await readFile(path.join(model.modelDir, 'unet', 'model.onnx'));
    expect(tiny.files.find((f) => f.path === 'unet/model.onnx')?.sha256).toBe(createHash('sha256').update(unetBytes).digest('hex'));
    const expected = createHash('sha256').update(tiny.files.map((f) => f.sha256).sort().join('\n')).digest('hex');
    expect(tiny.sha256).toBe(expected);
    expect(registry.get('copy-b')?.sha256).toBe(tiny.sha256);
    expect(tiny.bytes).toBe(tiny.files.reduce((a, f) => a + f.bytes, 0));
    expect(tiny.description).toMatch(/tiny/i);
    expect(registry.get('not-a-model')).toBeUndefined();
  });

  it('notices a changed file on rescan', async () => {
    const registry = new ModelRegistry(model.root);
    const before = (await registry.scan()).find((m) => m.name === 'copy-c')!.sha256;
    await writeFile(path.join(dirOf('copy-c'), 'extra.txt'), 'changed');
    const after = (await registry.scan()).find((m) => m.name === 'copy-c')!.sha256;
    expect(after).not.toBe(before);
  });

  it('returns an empty list for a missing folder', async () => {
    expect(await new ModelRegistry(dirOf('nowhere')).scan()).toEqual([]);
  });

  it('keeps pipelines loaded and evicts the least recently used past the byte budget', async () => {
    const cache = new PipelineCache({ maxBytes: Math.floor(tinyBytes * 2.5), executionProviders: ['cpu'], intraOpNumThreads: 1 });
    const a = await cache.acquire(model.modelDir);
    expect(await cache.acquire(model.modelDir)).toBe(a);
    await cache.acquire(dirOf('copy-b'));
    expect(cache.loadCount).toBe(2);
    await cache.acquire(model.modelDir); // a becomes most recently used
    await cache.acquire(dirOf('copy-c')); // over budget: b (LRU) goes
    expect(cache.loadCount).toBe(3);
    expect(cache.loadedDirs).toEqual([path.resolve(model.modelDir), path.resolve(dirOf('copy-c'))]);
    expect(await cache.acquire(model.modelDir)).toBe(a);
    await cache.acquire(dirOf('copy-b'));
    expect(cache.loadCount).toBe(4);
    expect(await cache.totalBytes()).toBeLessThanOrEqual(tinyBytes * 2.5);
    await cache.clear();
  });

  it('loads a model once for concurrent acquires, and can evict explicitly', async () => {
    const cache = new PipelineCache({ maxBytes: tinyBytes * 10 });
    const [p1, p2] = await Promise.all([cache.acquire(model.modelDir), cache.acquire(model.modelDir)]);
    expect(p1).toBe(p2);
    expect(cache.loadCount).toBe(1);
    expect(await cache.evict(model.modelDir)).toBe(true);
    expect(await cache.evict(model.modelDir)).toBe(false);
    await cache.acquire(model.modelDir);
    expect(cache.loadCount).toBe(2);
    await cache.clear();
  });

  it('does not cache a failed load', async () => {
    const cache = new PipelineCache({ maxBytes: tinyBytes * 10 });
    await expect(cache.acquire(dirOf('not-a-model'))).rejects.toMatchObject({ code: 'MODEL_INVALID' });
    expect(cache.loadedDirs).toEqual([]);
  });
});
