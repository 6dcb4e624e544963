import type { Sampler } from '../../kernel/generation-parameters';
import { alphasCumprod, mapSample, NO_NOISE, SD1_SCHEDULER_DEFAULTS, trainSigmas, type NoiseSource, type Scheduler, type SchedulerConfig } from './schedule';
import { dpmSolverScheduler } from './dpm-solver-scheduler';
import { lcmScheduler } from './lcm-scheduler';

export { alphasCumprod, SD1_SCHEDULER_DEFAULTS, type NoiseSource, type Scheduler, type SchedulerConfig } from './schedule';

/**
 * The samplers implemented here, named as ComfyUI names them; the API's
 * Sampler enum (kernel/generation-parameters.ts) maps onto them one to one.
 */
export const SAMPLER_KINDS = ['euler', 'euler_ancestral', 'ddim', 'lcm', 'dpmpp_2m'] as const;
export type SamplerKind = (typeof SAMPLER_KINDS)[number];

/** The pipeline's name for an API Sampler value (EULER_ANCESTRAL → euler_ancestral). */
export function samplerKind(sampler: `${Sampler}`): SamplerKind {
  return sampler.toLowerCase() as SamplerKind;
}

/** Training timesteps to visit, high to low, per diffusers' `timestep_spacing`. */
export function spacedTimesteps(cfg: SchedulerConfig, steps: number, integral: boolean): number[] {
  const T = cfg.num_train_timesteps;
  const out: number[] = [];
  if (cfg.timestep_spacing === 'linspace') {
    for (let i = 0; i < steps; i++) out.push(steps === 1 ? 0 : ((T - 1) * i) / (steps - 1));
    const ts = out.reverse();
    return integral ? ts.map(Math.round) : ts;
  }
  if (cfg.timestep_spacing === 'trailing') {
    for (let t = T; t > 0 && out.length < steps; t -= T / steps) out.push(Math.round(t) - 1);
    return out;
  }
  const ratio = Math.floor(T / steps);
  for (let i = steps - 1; i >= 0; i--) out.push(Math.round(i * ratio) + cfg.steps_offset);
  return out;
}

/** Linear interpolation of `table` at fractional index `x` (numpy.interp on 0..n-1). */
function interp(table: ArrayLike<number>, x: number): number {
  if (x <= 0) return table[0];
  if (x >= table.length - 1) return table[table.length - 1];
  const i = Math.floor(x);
  return table[i] + (table[i + 1] - table[i]) * (x - i);
}

/** The sigma schedule Euler samplers walk: one sigma per step, then 0. */
function eulerSigmas(cfg: SchedulerConfig, steps: number): { timesteps: number[]; sigmas: number[]; initNoiseSigma: number } {
  const table = trainSigmas(alphasCumprod(cfg));
  const timesteps = spacedTimesteps(cfg, steps, false);
  const sigmas = [...timesteps.map((t) => interp(table, t)), 0];
  const maxSigma = Math.max(...sigmas);
  const initNoiseSigma = cfg.timestep_spacing === 'leading' ? Math.sqrt(maxSigma ** 2 + 1) : maxSigma;
  return { timesteps, sigmas, initNoiseSigma };
}

/** Euler (first-order, deterministic) sampler in sigma space, as diffusers' EulerDiscreteScheduler. */
export function eulerScheduler(cfg: SchedulerConfig, steps: number): Scheduler {
  const { timesteps, sigmas, initNoiseSigma } = eulerSigmas(cfg, steps);
  return {
    name: 'Euler',
    timesteps,
    initNoiseSigma,
    scaleModelInput: (sample, step) => scaled(sample, 1 / Math.sqrt(sigmas[step] ** 2 + 1)),
    step(out, step, sample) {
      const sigma = sigmas[step];
      const dt = sigmas[step + 1] - sigma;
      const c = 1 / Math.sqrt(sigma * sigma + 1);
      return mapSample(sample.length, (i) => {
        const x0 = predictedOriginalEuler(cfg.prediction_type, out[i], sample[i], sigma, c);
        return sample[i] + ((sample[i] - x0) / sigma) * dt;
      });
    },
  };
}

/**
 * Euler ancestral, as diffusers' EulerAncestralDiscreteScheduler: an Euler
 * step down to sigma_down, then fresh noise of sigma_up, with
 * sigma_down² + sigma_up² = sigma_next².
 */
export function eulerAncestralScheduler(cfg: SchedulerConfig, steps: number, noise: NoiseSource): Scheduler {
  const { timesteps, sigmas, initNoiseSigma } = eulerSigmas(cfg, steps);
  return {
    name: 'Euler a',
    timesteps,
    initNoiseSigma,
    scaleModelInput: (sample, step) => scaled(sample, 1 / Math.sqrt(sigmas[step] ** 2 + 1)),
    step(out, step, sample) {
      const [from, to] = [sigmas[step], sigmas[step + 1]];
      const up = Math.sqrt((to ** 2 * (from ** 2 - to ** 2)) / from ** 2);
      const dt = Math.sqrt(to ** 2 - up ** 2) - from;
      const c = 1 / Math.sqrt(from * from + 1);
      // The last step ends at sigma 0 and adds no noise: drawing none leaves the generator as it is.
      const z = up > 0 ? noise(sample.length) : null;
      return mapSample(sample.length, (i) => {
        const x0 = predictedOriginalEuler(cfg.prediction_type, out[i], sample[i], from, c);
        return sample[i] + ((sample[i] - x0) / from) * dt + (z ? z[i] * up : 0);
      });
    },
  };
}

function predictedOriginalEuler(kind: SchedulerConfig['prediction_type'], out: number, x: number, sigma: number, c: number): number {
  if (kind === 'epsilon') return x - sigma * out;
  if (kind === 'v_prediction') return out * (-sigma * c) + x * c * c;
  return out;
}

/** DDIM with eta = 0 (deterministic), as diffusers' DDIMScheduler. */
export function ddimScheduler(cfg: SchedulerConfig, steps: number): Scheduler {
  const abar = alphasCumprod(cfg);
  const timesteps = spacedTimesteps(cfg, steps, true);
  const finalAbar = cfg.set_alpha_to_one ? 1 : abar[0];
  const stride = Math.floor(cfg.num_train_timesteps / steps);
  return {
    name: 'DDIM',
    timesteps,
    initNoiseSigma: 1,
    scaleModelInput: (sample) => sample,
    step(out, step, sample) {
      const t = timesteps[step];
      const a = abar[t];
      const aPrev = t - stride >= 0 ? abar[t - stride] : finalAbar;
      const sa = Math.sqrt(a);
      const sb = Math.sqrt(1 - a);
      const next = new Float32Array(sample.length);
      for (let i = 0; i < sample.length; i++) {
        const x = sample[i];
        let x0: number;
        let eps: number;
        if (cfg.prediction_type === 'epsilon') [x0, eps] = [(x - sb * out[i]) / sa, out[i]];
        else if (cfg.prediction_type === 'v_prediction') [x0, eps] = [sa * x - sb * out[i], sa * out[i] + sb * x];
        else [x0, eps] = [out[i], (x - sa * out[i]) / sb];
        next[i] = Math.sqrt(aPrev) * x0 + Math.sqrt(1 - aPrev) * eps;
      }
      return next;
    },
  };
}

function scaled(sample: Float32Array, factor: number): Float32Array {
  const out = new Float32Array(sample.length);
  for (let i = 0; i < sample.length; i++) out[i] = sample[i] * factor;
  return out;
}

/** The diffusers scheduler classes each sampler follows. */
const DIFFUSERS_CLASSES: Record<string, SamplerKind> = {
  EulerDiscreteScheduler: 'euler',
  EulerAncestralDiscreteScheduler: 'euler_ancestral',
  DDIMScheduler: 'ddim',
  LCMScheduler: 'lcm',
  DPMSolverMultistepScheduler: 'dpmpp_2m',
};

/** Maps a diffusers scheduler class to a sampler here; unknown classes use Euler on the same schedule. */
export function samplerForConfig(cfg: SchedulerConfig): SamplerKind {
  return DIFFUSERS_CLASSES[cfg._class_name ?? ''] ?? 'euler';
}

/** Fills defaults into a parsed scheduler_config.json. */
export function normaliseSchedulerConfig(raw: Partial<SchedulerConfig>): SchedulerConfig {
  return { ...SD1_SCHEDULER_DEFAULTS, ...Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== null)) } as SchedulerConfig;
}

/**
 * Creates the sampler `kind` for `steps` inference steps; `noise` feeds the
 * ancestral ones (Euler a, LCM). A scheduler keeps state between steps
 * (DPM++ 2M remembers the last prediction): one per run.
 */
export function createScheduler(cfg: SchedulerConfig, steps: number, kind: SamplerKind = samplerForConfig(cfg), noise: NoiseSource = NO_NOISE): Scheduler {
  switch (kind) {
    case 'euler_ancestral': return eulerAncestralScheduler(cfg, steps, noise);
    case 'ddim': return ddimScheduler(cfg, steps);
    case 'lcm': return lcmScheduler(cfg, steps, noise);
    case 'dpmpp_2m': return dpmSolverScheduler(cfg, steps);
    default: return eulerScheduler(cfg, steps);
  }
}
