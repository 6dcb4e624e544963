import { PipelineError } from './errors';

/** The fields of diffusers' scheduler_config.json that the samplers use. */
export interface SchedulerConfig {
  _class_name?: string;
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';
  trained_betas?: number[] | null;
  prediction_type: 'epsilon' | 'v_prediction' | 'sample';
  timestep_spacing: 'leading' | 'linspace' | 'trailing';
  steps_offset: number;
  set_alpha_to_one: boolean;
}

/** Stable Diffusion 1.x defaults, used for any field a config leaves out. */
export const SD1_SCHEDULER_DEFAULTS: SchedulerConfig = {
  _class_name: 'EulerDiscreteScheduler',
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  prediction_type: 'epsilon',
  timestep_spacing: 'leading',
  steps_offset: 1,
  set_alpha_to_one: false,
};

/** The samplers implemented here. */
export type SamplerKind = 'euler' | 'ddim';

/** A sampler over a fixed number of inference steps. */
export interface Scheduler {
  /** Display name for PNG metadata ('Euler', 'DDIM'). */
  readonly name: string;
  /** The model timestep for each step (fractional for Euler). */
  readonly timesteps: readonly number[];
  /** Multiplier for the initial unit Gaussian noise. */
  readonly initNoiseSigma: number;
  /** Scales the current sample into the model's input space at `step`. */
  scaleModelInput(sample: Float32Array, step: number): Float32Array;
  /** Advances the sample one step given the model output; returns the new sample. */
  step(modelOutput: Float32Array, step: number, sample: Float32Array): Float32Array;
}

/** Cumulative products of (1 - beta) over the training timesteps. */
export function alphasCumprod(cfg: SchedulerConfig): Float64Array {
  const n = cfg.num_train_timesteps;
  const betas = new Float64Array(n);
  if (cfg.trained_betas && cfg.trained_betas.length === n) betas.set(cfg.trained_betas);
  else if (cfg.beta_schedule === 'linear') for (let i = 0; i < n; i++) betas[i] = lerp(cfg.beta_start, cfg.beta_end, i, n);
  else if (cfg.beta_schedule === 'scaled_linear') {
    for (let i = 0; i < n; i++) betas[i] = lerp(Math.sqrt(cfg.beta_start), Math.sqrt(cfg.beta_end), i, n) ** 2;
  } else if (cfg.beta_schedule === 'squaredcos_cap_v2') {
    const f = (t: number): number => Math.cos(((t + 0.008) / 1.008) * Math.PI * 0.5) ** 2;
    for (let i = 0; i < n; i++) betas[i] = Math.min(1 - f((i + 1) / n) / f(i / n), 0.999);
  } else throw new PipelineError('MODEL_INVALID', `unsupported beta_schedule ${String(cfg.beta_schedule)}`);
  const out = new Float64Array(n);
  let prod = 1;
  for (let i = 0; i < n; i++) out[i] = prod *= 1 - betas[i];
  return out;
}

function lerp(a: number, b: number, i: number, n: number): number {
  return n === 1 ? a : a + ((b - a) * i) / (n - 1);
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

/** Euler (first-order, deterministic) sampler in sigma space, as diffusers' EulerDiscreteScheduler. */
export function eulerScheduler(cfg: SchedulerConfig, steps: number): Scheduler {
  const abar = alphasCumprod(cfg);
  const trainSigmas = Array.from(abar, (a) => Math.sqrt((1 - a) / a));
  const timesteps = spacedTimesteps(cfg, steps, false);
  const sigmas = [...timesteps.map((t) => interp(trainSigmas, t)), 0];
  const maxSigma = Math.max(...sigmas);
  const initNoiseSigma = cfg.timestep_spacing === 'leading' ? Math.sqrt(maxSigma ** 2 + 1) : maxSigma;
  return {
    name: 'Euler',
    timesteps,
    initNoiseSigma,
    scaleModelInput: (sample, step) => scaled(sample, 1 / Math.sqrt(sigmas[step] ** 2 + 1)),
    step(out, step, sample) {
      const sigma = sigmas[step];
      const dt = sigmas[step + 1] - sigma;
      const next = new Float32Array(sample.length);
      const c = 1 / Math.sqrt(sigma * sigma + 1);
      for (let i = 0; i < sample.length; i++) {
        const x0 = predictedOriginalEuler(cfg.prediction_type, out[i], sample[i], sigma, c);
        next[i] = sample[i] + ((sample[i] - x0) / sigma) * dt;
      }
      return next;
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

/** Maps a diffusers scheduler class to a sampler here; unknown classes use Euler on the same schedule. */
export function samplerForConfig(cfg: SchedulerConfig): SamplerKind {
  return cfg._class_name === 'DDIMScheduler' ? 'ddim' : 'euler';
}

/** Fills defaults into a parsed scheduler_config.json. */
export function normaliseSchedulerConfig(raw: Partial<SchedulerConfig>): SchedulerConfig {
  return { ...SD1_SCHEDULER_DEFAULTS, ...Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== null)) } as SchedulerConfig;
}

/** Creates the sampler `kind` for `steps` inference steps. */
export function createScheduler(cfg: SchedulerConfig, steps: number, kind: SamplerKind = samplerForConfig(cfg)): Scheduler {
  return kind === 'ddim' ? ddimScheduler(cfg, steps) : eulerScheduler(cfg, steps);
}
