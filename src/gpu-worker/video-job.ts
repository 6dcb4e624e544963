import type { Job, JobVideoFile } from '../entities';
import type { ArtifactStore } from '../storage/artifact-store';
import { jobClipKeys } from '../storage/job-files';
import { encodePng } from './pipeline/png';
import { samplerKind } from './pipeline/scheduler';
import type { ImagePipeline, LoraApplication, StepProgress } from './pipeline/types';
import { Mp4Encoder } from './video-encoder';

/** A new keyframe (fresh noise) every this many seconds of clip: slow enough to look like motion, not flicker. */
export const KEYFRAME_SECONDS = 1;

export interface VideoJobRun {
  pipeline: ImagePipeline;
  /** Where the clip and its poster go (the worker's puts are retried through a store outage). */
  store: Pick<ArtifactStore, 'put'>;
  ffmpegPath: string;
  loras: LoraApplication[];
  signal: AbortSignal;
  /** Each frame as a step (frame k of n) with its preview, for the job's PROGRESS events. */
  onFrame: (progress: StepProgress) => void;
}

/** What rendering took, for the logs and bench/video.ts. */
export interface VideoTimings { renderMs: number; finishMs: number }

/**
 * Renders a VIDEO job's frames in the render thread, streams each to ffmpeg
 * as it arrives (encoding overlaps rendering), then stores the MP4 and a
 * poster (the first frame) in the artifact store. A failure or abort stops
 * ffmpeg and stores nothing.
 */
export async function renderVideoJob(job: Job, run: VideoJobRun): Promise<{ file: JobVideoFile; timings: VideoTimings }> {
  const frames = job.videoFrames ?? 1;
  const fps = job.videoFps ?? 1;
  const encoder = await Mp4Encoder.start(run.ffmpegPath, { width: job.width, height: job.height, fps });
  const started = Date.now();
  let poster: Buffer | null = null;
  try {
    await run.pipeline.generateVideo({
      prompt: job.prompt, negativePrompt: job.negativePrompt ?? undefined, endPrompt: job.endPrompt ?? undefined,
      width: job.width, height: job.height, steps: job.steps, guidanceScale: job.guidanceScale, seed: job.seed, count: 1,
      sampler: job.sampler ? samplerKind(job.sampler) : undefined, loras: run.loras,
      frames, keyframeEvery: Math.max(1, Math.round(fps * KEYFRAME_SECONDS)), previewEvery: 1,
    }, {
      signal: run.signal,
      onFrame: async (frame) => {
        if (frame.index === 0) poster = await encodePng(frame.rgb, frame.width, frame.height);
        await encoder.write(frame.rgb);
        run.onFrame({ step: frame.index + 1, totalSteps: frame.frames, elapsedMs: frame.elapsedMs, etaMs: frame.etaMs, preview: frame.preview });
      },
    });
  } catch (error) {
    await encoder.abort();
    throw error;
  }
  const renderMs = Date.now() - started;
  const { mp4, finishMs } = await encoder.finish();
  const { storageKey, posterKey } = jobClipKeys(job.id);
  await run.store.put(storageKey, mp4, 'video/mp4');
  await run.store.put(posterKey, poster!, 'image/png');
  return {
    file: { storageKey, posterKey, mimeType: 'video/mp4', bytes: mp4.length, frames, fps, width: job.width, height: job.height, durationSeconds: frames / fps },
    timings: { renderMs, finishMs },
  };
}
