import { PipelineAbortedError } from './errors';
import type { Scheduler } from './scheduler';

/** Inputs of {@link runSampler}. */
export interface SamplerRun {
  scheduler: Scheduler;
  /** Initial latents for all images, [count, C, h, w], already scaled by initNoiseSigma. */
  latents: Float32Array;
  /** Classifier-free guidance scale; > 1 means the model input holds [uncond…, cond…]. */
  guidanceScale: number;
  /** Runs the UNet on a model-input batch at timestep `t` and returns its output. */
  predict: (modelInput: Float32Array, t: number) => Promise<Float32Array>;
  /** Called after each step with the 1-based step and the new latents. */
  afterStep?: (step: number, latents: Float32Array) => Promise<void>;
  signal?: AbortSignal;
}

/** True when the run needs the unconditional pass. */
export function usesGuidance(guidanceScale: number): boolean {
  return guidanceScale > 1;
}

/**
 * The denoising loop: one UNet call per step over the whole batch, guidance
 * mixing uncond + g·(cond − uncond), then one scheduler step. The abort
 * signal is checked before every step.
 */
export async function runSampler(run: SamplerRun): Promise<Float32Array> {
  const { scheduler, guidanceScale } = run;
  const cfg = usesGuidance(guidanceScale);
  let latents = run.latents;
  for (let i = 0; i < scheduler.timesteps.length; i++) {
    if (run.signal?.aborted) throw new PipelineAbortedError();
    const input = scheduler.scaleModelInput(latents, i);
    const modelInput = cfg ? concat(input, input) : input;
    const output = await run.predict(modelInput, scheduler.timesteps[i]);
    const noise = cfg ? guide(output, guidanceScale) : output;
    latents = scheduler.step(noise, i, latents);
    await run.afterStep?.(i + 1, latents);
  }
  return latents;
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** uncond + g·(cond − uncond), where the first half of `output` is uncond. */
function guide(output: Float32Array, g: number): Float32Array {
  const half = output.length / 2;
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) out[i] = output[i] + g * (output[half + i] - output[i]);
  return out;
}
