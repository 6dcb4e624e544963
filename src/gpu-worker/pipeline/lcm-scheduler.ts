import { LCM_MAX_STEPS } from '../../kernel/generation-parameters';
import { PipelineError } from './errors';
import { alphasCumprod, mapSample, type NoiseSource, type Scheduler, type SchedulerConfig } from './schedule';

/** diffusers' LCMScheduler defaults for the fields an older config leaves out. */
const LCM_DEFAULTS = { original_inference_steps: LCM_MAX_STEPS, timestep_scaling: 10 };
const SIGMA_DATA = 0.5;

/**
 * LCM's timesteps: the distillation schedule (every T/50th timestep, ending
 * at T - 1), highest first, then `steps` of them at evenly spaced indices.
 * 4 steps on a 1000-step model: 999, 759, 499, 259.
 */
export function lcmTimesteps(cfg: SchedulerConfig, steps: number): number[] {
  const original = cfg.original_inference_steps ?? LCM_DEFAULTS.original_inference_steps;
  if (steps > original) {
    throw new PipelineError('INVALID_PARAMETERS', `steps must be at most ${original} with the LCM sampler`, { field: 'steps' });
  }
  const k = Math.floor(cfg.num_train_timesteps / original);
  const origin = Array.from({ length: original }, (_, i) => (original - i) * k - 1);
  // numpy.linspace(0, original, steps, endpoint=False) multiplies by the float step: the same here.
  const stride = original / steps;
  return Array.from({ length: steps }, (_, i) => origin[Math.floor(i * stride)]);
}

/**
 * The latent consistency model sampler, as diffusers' LCMScheduler: each step
 * predicts the clean sample through the consistency boundary condition
 * (c_skip·x + c_out·x0) and, except on the last step, noises it again to the
 * next timestep with fresh noise.
 */
export function lcmScheduler(cfg: SchedulerConfig, steps: number, noise: NoiseSource): Scheduler {
  const abar = alphasCumprod(cfg);
  const timesteps = lcmTimesteps(cfg, steps);
  const scaling = cfg.timestep_scaling ?? LCM_DEFAULTS.timestep_scaling;
  return {
    name: 'LCM',
    timesteps,
    initNoiseSigma: 1,
    scaleModelInput: (sample) => sample,
    step(out, step, sample) {
      const t = timesteps[step];
      const a = abar[t];
      const [sa, sb] = [Math.sqrt(a), Math.sqrt(1 - a)];
      const st = t * scaling;
      const cSkip = SIGMA_DATA ** 2 / (st ** 2 + SIGMA_DATA ** 2);
      const cOut = st / Math.sqrt(st ** 2 + SIGMA_DATA ** 2);
      const x0 = (i: number): number => cfg.prediction_type === 'epsilon' ? (sample[i] - sb * out[i]) / sa
        : cfg.prediction_type === 'v_prediction' ? sa * sample[i] - sb * out[i] : out[i];
      const denoised = mapSample(sample.length, (i) => cOut * x0(i) + cSkip * sample[i]);
      if (step === timesteps.length - 1) return denoised;
      const aPrev = abar[timesteps[step + 1]];
      const z = noise(sample.length);
      return mapSample(sample.length, (i) => Math.sqrt(aPrev) * denoised[i] + Math.sqrt(1 - aPrev) * z[i]);
    },
  };
}
