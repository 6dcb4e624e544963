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
  /** LCM: steps of the distillation schedule its timesteps are picked from (diffusers default 50). */
  original_inference_steps?: number;
  /** LCM: multiplier of the timestep in the boundary-condition scalings (diffusers default 10). */
  timestep_scaling?: number;
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

/**
 * Standard normal noise for the ancestral samplers, `length` values over the
 * whole batch; the pipeline draws each image's share from that image's
 * seeded generator, so the same seed gives the same image.
 */
export type NoiseSource = (length: number) => Float32Array;

/** The noise source of a deterministic sampler: asking it is a programming error. */
export const NO_NOISE: NoiseSource = () => {
  throw new PipelineError('INVALID_PARAMETERS', 'this sampler needs a noise source');
};

/** sqrt((1 - ᾱ) / ᾱ) for each training timestep: the noise level in sigma space. */
export function trainSigmas(abar: Float64Array): number[] {
  return Array.from(abar, (a) => Math.sqrt((1 - a) / a));
}

/** A fresh sample of `n` values from `f(i)`. */
export function mapSample(n: number, f: (i: number) => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = f(i);
  return out;
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

