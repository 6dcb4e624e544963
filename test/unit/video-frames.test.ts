import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffusionPipeline } from '../../src/gpu-worker/pipeline/diffusion-pipeline';
import { PipelineAbortedError, PipelineError } from '../../src/gpu-worker/pipeline/errors';
import { slerp } from '../../src/gpu-worker/pipeline/latent-walk';
import { ThreadedPipeline } from '../../src/gpu-worker/pipeline/threaded-pipeline';
import type { ImagePipeline, VideoFrame, VideoRequest } from '../../src/gpu-worker/pipeline/types';
import { decodePng, meanAbsDiff } from './helpers/png-decode';
import { buildTinyModelInTemp } from './helpers/tiny-model';

const clip: VideoRequest = {
  prompt: 'a lighthouse on a cliff', width: 64, height: 64, steps: 4, guidanceScale: 7.5, seed: 1234, count: 1,
  frames: 9, keyframeEvery: 4, previewEvery: 1,
};

async function render(pipeline: ImagePipeline, req: VideoRequest = clip): Promise<VideoFrame[]> {
  const frames: VideoFrame[] = [];
  await pipeline.generateVideo(req, { onFrame: (f) => void frames.push({ ...f, rgb: Uint8Array.from(f.rgb) }) });
  return frames;
}

const hashes = (frames: VideoFrame[]) => frames.map((f) => createHash('sha256').update(f.rgb).digest('hex'));
const asImage = (f: VideoFrame) => ({ width: f.width, height: f.height, rgb: f.rgb });

describe('video frames (a walk through latent space)', () => {
  let model: Awaited<ReturnType<typeof buildTinyModelInTemp>>;
  let local: DiffusionPipeline;
  let threaded: ThreadedPipeline;

  beforeAll(async () => {
    model = await buildTinyModelInTemp();
    local = await DiffusionPipeline.load(model.modelDir);
    threaded = await ThreadedPipeline.load(model.modelDir);
  });
  afterAll(async () => {
    await threaded?.release();
    await local?.release();
    await model?.cleanup();
  });

  it('is deterministic: same seed and parameters give byte-identical frames, in this thread and in the render thread', async () => {
    const first = await render(local);
    expect(first.map((f) => [f.index, f.frames, f.width, f.height])).toEqual(Array.from({ length: 9 }, (_, i) => [i, 9, 64, 64]));
    expect(hashes(await render(local))).toEqual(hashes(first));
    expect(hashes(await render(threaded))).toEqual(hashes(first));
    expect(new Set(hashes(first)).size).toBe(9);
    expect(hashes(await render(local, { ...clip, seed: 1235 }))).not.toEqual(hashes(first));
  });

  it('starts from the image the same seed makes, and moves smoothly: neighbours differ less than keyframes', async () => {
    const frames = await render(threaded);
    const [image] = await local.generate({ ...clip, count: 1 });
    expect(Buffer.from(frames[0].rgb).equals(Buffer.from(decodePng(image.png).rgb))).toBe(true);
    const neighbour = meanAbsDiff(asImage(frames[0]), asImage(frames[1]));
    const keyframes = meanAbsDiff(asImage(frames[0]), asImage(frames[4]));
    expect(neighbour).toBeLessThan(keyframes);
    expect(frames.every((f) => f.preview && decodePng(f.preview).width <= 64)).toBe(true);
  });

  it('walks the text states toward endPrompt: the last frame changes, the first does not', async () => {
    const plain = hashes(await render(local));
    const walked = hashes(await render(local, { ...clip, endPrompt: 'a volcano at night' }));
    expect(walked[0]).toBe(plain[0]);
    expect(walked[8]).not.toBe(plain[8]);
  });

  it('slerp keeps the noise on its shell where a straight line would shrink it', () => {
    const a = Float32Array.from([1, 0]);
    const b = Float32Array.from([0, 1]);
    const mid = slerp(a, b, 0.5);
    expect(Math.hypot(mid[0], mid[1])).toBeCloseTo(1, 5);
    expect(slerp(a, b, 0)).toBe(a);
  });

  it('refuses a bad frame count with the field, and stops between frames when aborted', async () => {
    await expect(render(threaded, { ...clip, frames: 0 })).rejects.toMatchObject({ code: 'INVALID_PARAMETERS', field: 'frames' });
    await expect(render(local, { ...clip, frames: 0 })).rejects.toBeInstanceOf(PipelineError);
    const controller = new AbortController();
    const seen: number[] = [];
    await expect(threaded.generateVideo(clip, {
      signal: controller.signal,
      onFrame: (f) => { seen.push(f.index); if (f.index === 1) controller.abort(); },
    })).rejects.toBeInstanceOf(PipelineAbortedError);
    expect(seen).toEqual([0, 1]);
  });
});
