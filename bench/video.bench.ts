import path from 'node:path';
import { DiffusionPipeline } from '../src/gpu-worker/pipeline/diffusion-pipeline';
import type { VideoFrame, VideoRequest } from '../src/gpu-worker/pipeline/types';
import { ensureFfmpeg, Mp4Encoder } from '../src/gpu-worker/video-encoder';
import { KEYFRAME_SECONDS } from '../src/gpu-worker/video-job';
import * as factory from '../test/support/factories';
import { collect, gqlData, wsClient } from '../test/support/graphql';
import { benchModels, median, row, startBenchApp, time } from './harness';

const RUNS = 3;
/** The Vlog Style preset's 3 s at 30 fps, at a size and step count the tiny model renders in seconds on a CPU. */
const CLIP = { prompt: 'a walk along the beach', durationSeconds: 3, fps: 30, width: 256, height: 256, steps: 12, seed: 11 };
const FRAMES = CLIP.durationSeconds * CLIP.fps;
const REQUEST: VideoRequest = {
  prompt: CLIP.prompt, width: CLIP.width, height: CLIP.height, steps: CLIP.steps, guidanceScale: 7.5, seed: CLIP.seed, count: 1,
  frames: FRAMES, keyframeEvery: CLIP.fps * KEYFRAME_SECONDS, previewEvery: 1,
};

/**
 * `npm run bench -- video` (docs/video.md, "Throughput"): frames per second
 * through a whole VIDEO job (GraphQL submit → COMPLETED over graphql-ws:
 * render thread, PROGRESS per frame, ffmpeg, storage) ÷ the same frames
 * rendered back to back by the bare pipeline in this thread. Encoding is
 * timed on its own: the same frames through ffmpeg without rendering.
 */
export async function videoBench(): Promise<void> {
  console.log('\n== video (tiny model, CPU, 1 intra-op thread) ==');
  const modelDir = path.join(await benchModels(), 'atelier-tiny');
  const app = await startBenchApp();
  const user = await factory.user(app, { tier: 'ENTERPRISE' });
  const client = wsClient(app.url, user.token);
  const bare = await DiffusionPipeline.load(modelDir, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  const job = () => time(async () => {
    const { createVideo } = await gqlData<any>(app.url, 'mutation($i: VideoInput!) { createVideo(input: $i) { id } }', { i: CLIP }, user.token);
    const stream = collect<any>(client, 'subscription($id: ID!) { jobUpdated(jobId: $id) { type } }', { id: createVideo.id },
      (items) => ['COMPLETED', 'FAILED'].includes(items.at(-1)?.jobUpdated.type));
    await stream.done;
    if (stream.items.at(-1)?.jobUpdated.type !== 'COMPLETED') throw new Error('video job failed');
  });
  const frames: VideoFrame[] = [];
  const render = () => time(() => bare.generateVideo(REQUEST, { onFrame: (f) => void frames.push(f) }));
  try {
    await render();
    await job();
    const ours: number[] = [];
    const baseline: number[] = [];
    for (let i = 0; i < RUNS; i += 1) {
      frames.length = 0;
      baseline.push(FRAMES / ((await render())[0] / 1000));
      ours.push(FRAMES / ((await job())[0] / 1000));
    }
    row(`VIDEO job ÷ bare pipeline (${FRAMES} frames, ${CLIP.width}², ${CLIP.steps} steps)`, median(ours), median(baseline), 'frames/s', '≥ 0.85');
    const encode: number[] = [];
    for (let i = 0; i < RUNS; i += 1) {
      encode.push((await time(async () => {
        const encoder = await Mp4Encoder.start(ensureFfmpeg(), { width: CLIP.width, height: CLIP.height, fps: CLIP.fps });
        for (const frame of frames) await encoder.write(frame.rgb);
        await encoder.finish();
      }))[0]);
    }
    console.log(`${'encoding alone (same frames → H.264 MP4, faststart)'.padEnd(58)} ${median(encode).toFixed(1)} ms for ${FRAMES} frames (${(median(encode) / FRAMES).toFixed(2)} ms/frame)`);
  } finally {
    await client.dispose();
    await bare.release();
    await app.stop();
    await app.teardown();
  }
}
