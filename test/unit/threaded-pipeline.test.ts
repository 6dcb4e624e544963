import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DiffusionPipeline } from '../../src/gpu-worker/pipeline/diffusion-pipeline';
import { PipelineAbortedError, PipelineError } from '../../src/gpu-worker/pipeline/errors';
import { ThreadedPipeline, type FromThread } from '../../src/gpu-worker/pipeline/threaded-pipeline';
import { type GenerationRequest, type StepProgress } from '../../src/gpu-worker/pipeline/types';
import { buildTinyModelInTemp } from './helpers/tiny-model';

const base: GenerationRequest = { prompt: 'a red sunset over the ocean', width: 128, height: 128, steps: 6, guidanceScale: 7.5, seed: 42, count: 2 };

describe('ThreadedPipeline (the model in a worker thread)', () => {
  let model: Awaited<ReturnType<typeof buildTinyModelInTemp>>;
  let threaded: ThreadedPipeline;

  beforeAll(async () => {
    model = await buildTinyModelInTemp();
    threaded = await ThreadedPipeline.load(model.modelDir);
  });
  afterAll(async () => {
    await threaded?.release();
    await model?.cleanup();
  });

  it('makes the same bytes as the pipeline in this thread, with the same model facts', async () => {
    const local = await DiffusionPipeline.load(model.modelDir);
    const expected = await local.generate(base);
    const images = await threaded.generate(base);
    expect(images.map((i) => [i.seed, i.width, i.height, i.sha256])).toEqual(expected.map((i) => [i.seed, i.width, i.height, i.sha256]));
    expect(images.every((image, k) => Buffer.isBuffer(image.png) && image.png.equals(expected[k].png))).toBe(true);
    expect([threaded.executionProvider, threaded.modelHash, threaded.approxBytes, threaded.supportsLora])
      .toEqual([local.executionProvider, local.modelHash, local.approxBytes, local.supportsLora]);
    await local.release();
  });

  it('reports every step in order with previews, one at a time, all before the run resolves', async () => {
    const seen: StepProgress[] = [];
    let inStep = false;
    await threaded.generate({ ...base, count: 1, previewEvery: 2 }, {
      onStep: async (p) => {
        expect(inStep).toBe(false);
        inStep = true;
        await new Promise((r) => setTimeout(r, 20));
        seen.push(p);
        inStep = false;
      },
    });
    expect(seen.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seen.map((p) => Boolean(p.preview))).toEqual([false, true, false, true, false, true]);
    expect(seen[1].preview!.subarray(1, 4).toString('latin1')).toBe('PNG');
  });

  it('stops at the step where it was aborted and keeps PipelineError codes', async () => {
    const controller = new AbortController();
    const steps: number[] = [];
    const run = threaded.generate({ ...base, steps: 20 }, {
      signal: controller.signal,
      onStep: (p) => {
        steps.push(p.step);
        if (p.step === 3) controller.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(PipelineAbortedError);
    expect(steps).toEqual([1, 2, 3]);
    const bad = await threaded.generate({ ...base, width: 100 }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(PipelineError);
    expect(bad).toMatchObject({ code: 'INVALID_PARAMETERS', field: 'width', unrecoverable: true });
    await expect(ThreadedPipeline.load(model.root)).rejects.toMatchObject({ code: 'MODEL_INVALID', unrecoverable: true });
  });

  it('runs generations started together one after the other, in order; one aborted while waiting never renders', async () => {
    const seen: string[] = [];
    const waiting = new AbortController();
    const run = (name: string, signal?: AbortSignal) => threaded.generate({ ...base, count: 1, steps: 4 }, {
      signal, onStep: (p) => { seen.push(`${name}${p.step}`); },
    }).then(() => seen.push(`${name} done`), () => seen.push(`${name} aborted`));
    const runs = [run('a'), run('b', waiting.signal), run('c')];
    waiting.abort();
    await Promise.all(runs);
    // The renders go one after the other. a's images may still be encoding as c renders (next test), so
    // either run may be done first: each deflate runs on libuv's pool, and c's 4-step render can end
    // before a's deflate does.
    expect(seen.filter((e) => !e.includes(' '))).toEqual(['a1', 'a2', 'a3', 'a4', 'c1', 'c2', 'c3', 'c4']);
    expect(seen).toContain('b aborted');
    expect(seen.indexOf('a done')).toBeGreaterThan(seen.indexOf('a4'));
    expect(seen.indexOf('c done')).toBeGreaterThan(seen.indexOf('c4'));
  });

  it('encodes a run\'s images while the next run renders, and says when its sampler is over', async () => {
    const seen: string[] = [];
    const run = (name: string, request: GenerationRequest) => threaded.generate(request, {
      onStep: (p) => { seen.push(`${name}${p.step}`); },
      onSampled: () => { seen.push(`${name} sampled`); },
    }).then((images) => { seen.push(`${name} done`); return images; });
    // A 1024² image takes tens of milliseconds to deflate; the 64² run behind it renders in a few.
    const [large, small] = await Promise.all([
      run('large', { ...base, width: 1024, height: 1024, steps: 1, count: 1 }),
      run('small', { ...base, width: 64, height: 64, steps: 2, count: 1 }),
    ]);
    expect(seen.slice(0, 2)).toEqual(['large1', 'large sampled']);
    expect(seen.indexOf('small done')).toBeLessThan(seen.indexOf('large done'));
    expect(seen.filter((e) => e.startsWith('small'))).toEqual(['small1', 'small2', 'small sampled', 'small done']);
    // The same bytes as a run on its own.
    const alone = await threaded.generate({ ...base, width: 1024, height: 1024, steps: 1, count: 1 });
    expect(large[0].png.equals(alone[0].png)).toBe(true);
    expect(small[0].width).toBe(64);
  });

  it('sends steps that come close together in one message, and slow ones each at once; every step is handed over in order', async () => {
    const emit = vi.spyOn(Worker.prototype, 'emit');
    const stepMessages = () => emit.mock.calls
      .filter(([event, message]) => event === 'message' && (message as FromThread).type === 'steps')
      .map(([, message]) => (message as FromThread & { type: 'steps' }).steps.map((s) => s.progress.step));
    try {
      // 64², a fraction of a millisecond a step: all 20 within a few windows.
      const fast: number[] = [];
      await threaded.generate({ ...base, width: 64, height: 64, steps: 20, count: 1, previewEvery: 5 }, { onStep: (p) => { fast.push(p.step); } });
      expect(fast).toEqual(Array.from({ length: 20 }, (_, k) => k + 1));
      const grouped = stepMessages();
      expect(grouped.flat()).toEqual(fast);
      expect(grouped.length).toBeLessThan(10);
      // The first step goes at once, and so does the last.
      expect(grouped[0]).toEqual([1]);

      emit.mockClear();
      // 1024², far more than the window a step: each step its own message.
      const slow: number[] = [];
      await threaded.generate({ ...base, width: 1024, height: 1024, steps: 2, count: 1 }, { onStep: (p) => { slow.push(p.step); } });
      expect(slow).toEqual([1, 2]);
      expect(stepMessages()).toEqual([[1], [2]]);
    } finally {
      emit.mockRestore();
    }
  });

  it('leaves this thread free while it renders a large image', async () => {
    let ticks = 0;
    const timer = setInterval(() => { ticks += 1; }, 10);
    const started = Date.now();
    // Two images: a run long enough to tell on any machine (one image of 2 steps took 179 ms on a quiet CI run,
    // under the bound below; the VAE decode and the PNG are most of it).
    await threaded.generate({ ...base, width: 1024, height: 1024, steps: 4, count: 2 });
    const elapsed = Date.now() - started;
    clearInterval(timer);
    // Rendered in this thread, a 10 ms timer fires only between ONNX runs (about 1 tick in 6 here).
    console.log(`two 1024² images of 4 steps took ${elapsed} ms and the timer fired ${ticks} times`);
    expect(elapsed).toBeGreaterThan(200);
    expect(ticks).toBeGreaterThan(elapsed / 20);
  });

  it('writes each PNG where asked, atomically and in its thread, and hands back one it could not write', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'atelier-save-'));
    try {
      // The second image's folder is a file: it cannot be written.
      writeFileSync(path.join(dir, 'blocked'), 'not a folder');
      const wanted = [path.join(dir, 'images', 'job', '0.png'), path.join(dir, 'blocked', '1.png')];
      const images = await threaded.generate(base, { saveTo: wanted });
      expect(images.map((image) => image.savedTo)).toEqual([wanted[0], undefined]);
      expect(readFileSync(wanted[0]).equals(images[0].png)).toBe(true);
      expect(images[1].png.subarray(1, 4).toString('latin1')).toBe('PNG');
      // No temporary file is left beside either.
      expect(readdirSync(path.dirname(wanted[0]))).toEqual(['0.png']);
      expect(readdirSync(dir).sort()).toEqual(['blocked', 'images']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cannot be used once released', async () => {
    const other = await ThreadedPipeline.load(model.modelDir);
    await other.release();
    expect(other.usable).toBe(false);
    await expect(other.generate(base)).rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED' });
  });
});
