import { cpSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { PipelineCache } from '../../src/gpu-worker/models/pipeline-cache';

describe('PipelineCache holds', () => {
  it('never evicts a model a running job holds; evicts it once released if over budget', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'atelier-cache-'));
    const a = path.join(root, 'a');
    const b = path.join(root, 'b');
    cpSync(path.join(inject('modelsDir'), 'atelier-tiny'), a, { recursive: true });
    cpSync(a, b, { recursive: true });
    const probe = new PipelineCache({ maxBytes: Number.MAX_SAFE_INTEGER, executionProviders: ['cpu'], intraOpNumThreads: 1 });
    const oneModel = (await probe.acquire(a)).approxBytes;
    await probe.clear();

    // Room for one model only.
    const cache = new PipelineCache({ maxBytes: oneModel, executionProviders: ['cpu'], intraOpNumThreads: 1 });
    const pipelineA = await cache.acquire(a);
    const release = cache.hold(a);
    await cache.acquire(b);
    expect(cache.loadedDirs).toEqual([a, b]); // over budget, but A is in use
    const images = await pipelineA.generate({ prompt: 'still usable', width: 64, height: 64, steps: 2, guidanceScale: 7.5, seed: 1, count: 1 });
    expect(images).toHaveLength(1);
    release();
    await new Promise((r) => setTimeout(r, 50));
    expect(cache.loadedDirs).toEqual([b]);
    await cache.clear();
  });
});
