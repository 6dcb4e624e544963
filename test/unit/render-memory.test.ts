import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { PipelineCache } from '../../src/gpu-worker/models/pipeline-cache';
import type { GenerationRequest, ImagePipeline } from '../../src/gpu-worker/pipeline/types';
import { buildTinyModelInTemp } from './helpers/tiny-model';

const small: GenerationRequest = { prompt: 'a lighthouse on a cliff at dusk', width: 256, height: 256, steps: 4, guidanceScale: 7.5, seed: 7, count: 1 };
/** Large enough that onnxruntime's CPU arena would keep about 400 MB after it (docs/operations.md, "Memory"). */
const large: GenerationRequest = { ...small, width: 1024, height: 1024, steps: 1, count: 4 };
const MB = 1024 * 1024;

async function settledRss(): Promise<number> {
  // The render thread's PNG buffers and the previews go with a collection; give its finalizers a moment.
  for (let i = 0; i < 3; i += 1) {
    global.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return process.memoryUsage().rss;
}

describe('memory after a large render with ATELIER_ONNX_CPU_ARENA=false (the model loaded as the service loads it)', () => {
  let model: Awaited<ReturnType<typeof buildTinyModelInTemp>>;
  let cache: PipelineCache;
  let pipeline: ImagePipeline;

  beforeAll(async () => {
    model = await buildTinyModelInTemp();
    const config = loadConfig({ NODE_ENV: 'test', ATELIER_DATA_DIR: model.root, JWT_SECRET: 'x'.repeat(40), ATELIER_ONNX_CPU_ARENA: 'false' });
    cache = new PipelineCache({
      maxBytes: config.modelCacheBytes, executionProviders: ['cpu'], intraOpNumThreads: config.intraOpThreads, cpuMemArena: config.onnxCpuArena, inThread: true,
    });
    pipeline = await cache.acquire(model.modelDir);
  });
  afterAll(async () => {
    await cache?.clear();
    await model?.cleanup();
  });

  it('goes back to what small renders use once the large one is over', async () => {
    for (let i = 0; i < 3; i += 1) await pipeline.generate({ ...small, seed: i });
    const before = await settledRss();
    expect(await pipeline.generate(large)).toHaveLength(4);
    for (let i = 0; i < 3; i += 1) await pipeline.generate({ ...small, seed: i });
    const kept = (await settledRss()) - before;
    // Measured: ~400 MB kept with the arena, 50-120 MB without (the C allocator's own free lists).
    expect(kept / MB).toBeLessThan(220);
  });
});
