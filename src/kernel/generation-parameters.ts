/**
 * Generation parameters: the one table of their limits and defaults, the
 * shape every layer carries them in, and the checks that apply the table.
 * The API (services/generation-input.ts, presets), the GraphQL descriptions
 * and the pipeline (gpu-worker/pipeline/request.ts) all use these, so a
 * request one accepts the other accepts too; tiers narrow the maxima further
 * (tier_policies). A leaf: it imports nothing of ours, so the pure pipeline
 * may import it. The table is documented in docs/generation-parameters.md.
 */

/** A numeric range; `integer` and `multipleOf` add their own conditions. */
export interface NumberLimit {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
  readonly multipleOf?: number;
}

/** The hard limits of every generation, whatever the tier. */
export const GENERATION_LIMITS = {
  width: { min: 64, max: 2048, integer: true, multipleOf: 8 },
  height: { min: 64, max: 2048, integer: true, multipleOf: 8 },
  steps: { min: 1, max: 150, integer: true },
  /** 1 turns classifier-free guidance off (the pipeline skips the unconditional pass). */
  guidanceScale: { min: 1, max: 30, integer: false },
  /** The seed of the first image (image i uses seed + i); an int4 column. */
  seed: { min: 0, max: 2_147_483_647, integer: true },
  count: { min: 1, max: 8, integer: true },
  /** Characters of the prompt (after any preset template) and of the negative prompt. */
  promptChars: { min: 1, max: 2000, integer: true },
  /** LoRAs applied to one generation. */
  loraCount: { min: 0, max: 16, integer: true },
  loraWeight: { min: -2, max: 2, integer: false },
} as const satisfies Record<string, NumberLimit>;

/**
 * The samplers a request may choose (docs/generation-parameters.md,
 * "Samplers"). Absent, the model's own scheduler_config.json decides.
 */
export enum Sampler {
  EULER = 'EULER',
  EULER_ANCESTRAL = 'EULER_ANCESTRAL',
  DDIM = 'DDIM',
  LCM = 'LCM',
  DPMPP_2M = 'DPMPP_2M',
}

/** What each sampler is called in the pipeline (PNG metadata) and in diffusers, whose step formulas it follows. */
export const SAMPLER_INFO: Record<Sampler, { label: string; diffusers: string }> = {
  EULER: { label: 'Euler', diffusers: 'EulerDiscreteScheduler' },
  EULER_ANCESTRAL: { label: 'Euler a', diffusers: 'EulerAncestralDiscreteScheduler' },
  DDIM: { label: 'DDIM', diffusers: 'DDIMScheduler' },
  LCM: { label: 'LCM', diffusers: 'LCMScheduler' },
  DPMPP_2M: { label: 'DPM++ 2M', diffusers: 'DPMSolverMultistepScheduler' },
};

/**
 * ComfyUI's names for each sampler: KSampler's `sampler_name` and the
 * `scheduler` (sigma schedule) closest to diffusers' default spacing.
 */
export const COMFYUI_SAMPLERS: Record<Sampler, { sampler: string; scheduler: string }> = {
  EULER: { sampler: 'euler', scheduler: 'normal' },
  EULER_ANCESTRAL: { sampler: 'euler_ancestral', scheduler: 'normal' },
  DDIM: { sampler: 'ddim', scheduler: 'ddim_uniform' },
  LCM: { sampler: 'lcm', scheduler: 'sgm_uniform' },
  DPMPP_2M: { sampler: 'dpmpp_2m', scheduler: 'normal' },
};

/**
 * LCM picks its steps from a 50-step distillation schedule (diffusers'
 * `original_inference_steps`), so it cannot run more steps than that.
 */
export const LCM_MAX_STEPS = 50;

/** Checks the steps a sampler can run; null when they fit (an absent sampler is the model's choice). */
export function checkSamplerSteps(sampler: Sampler | null | undefined, steps: number): ParameterViolation | null {
  if (sampler !== Sampler.LCM || steps <= LCM_MAX_STEPS) return null;
  return { field: 'steps', message: `steps must be at most ${LCM_MAX_STEPS} with the LCM sampler` };
}

/** What a request that leaves a parameter out (and has no preset for it) runs with. */
/** The hard limits of every video clip, whatever the tier (docs/video.md). */
export const VIDEO_LIMITS = {
  durationSeconds: { min: 0.5, max: 60, integer: false },
  fps: { min: 1, max: 60, integer: true },
} as const satisfies Record<string, NumberLimit>;

/**
 * What a clip gets when neither the request nor its preset says. Frames
 * render at 12 steps rather than an image's 20: a clip is dozens of full
 * runs, and the walk through latent space, not per-frame detail, is what
 * the eye follows (docs/video.md, "Steps per frame").
 */
export const VIDEO_DEFAULTS = { durationSeconds: 3, fps: 24, steps: 12 } as const;

export const GENERATION_DEFAULTS = { width: 512, height: 512, steps: 20, guidanceScale: 7.5, count: 1 } as const;

/** The parameters that decide a generation's images, as the job row, the API and the pipeline carry them. */
export interface GenerationSettings {
  prompt: string;
  /** Pixels, multiples of 8. */
  width: number;
  height: number;
  /** Sampler steps; one UNet call and one progress event each. */
  steps: number;
  /** Classifier-free guidance scale. */
  guidanceScale: number;
  /** Seed of the first image; image i uses seed + i. */
  seed: number;
  /** Images made together. */
  count: number;
}

/** The same parameters as a client may send them: each optional. */
export type GenerationSettingsInput = { [K in keyof GenerationSettings]?: GenerationSettings[K] | null };

/** A limit as documentation reads it: `64..2048, multiple of 8`. */
export function describeLimit(limit: NumberLimit): string {
  return `${limit.min}..${limit.max}${limit.multipleOf ? `, multiple of ${limit.multipleOf}` : ''}`;
}

/** A value outside the table: the field at fault and a message a client may be shown. */
export interface ParameterViolation {
  field: string;
  message: string;
}

/** Checks one number against a limit; null when it fits. */
export function checkNumber(field: string, value: unknown, limit: NumberLimit): ParameterViolation | null {
  const fits = typeof value === 'number' && Number.isFinite(value) && value >= limit.min && value <= limit.max &&
    (!limit.integer || Number.isInteger(value)) && (!limit.multipleOf || value % limit.multipleOf === 0);
  if (fits) return null;
  const kind = limit.integer ? 'an integer from' : 'from';
  const multiple = limit.multipleOf ? ` and a multiple of ${limit.multipleOf}` : '';
  return { field, message: `${field} must be ${kind} ${limit.min} to ${limit.max}${multiple}` };
}

/**
 * Checks a prompt's length in characters (Unicode code points: an emoji is
 * one), and that it is well-formed text (emptiness is the caller's rule: a
 * negative prompt may be empty). `max` is the prompt's unless given: training
 * text (captions, sample prompts, names) is counted the same way.
 */
export function checkPromptLength(field: string, text: unknown, max: number = GENERATION_LIMITS.promptChars.max): ParameterViolation | null {
  if (typeof text !== 'string') return { field, message: `${field} must be a string` };
  // A lone surrogate is half a character: no tokenizer, database or JSON reader takes it as text.
  if (LONE_SURROGATE.test(text)) return { field, message: `${field} must be valid Unicode text (it has half of a surrogate pair)` };
  // No more code points than UTF-16 units: only a long one is counted.
  if (text.length <= max || codePoints(text) <= max) return null;
  return { field, message: `${field} must be at most ${max} characters` };
}

const LONE_SURROGATE = /\p{Cs}/u;

function codePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i += 1, n += 1) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) i += 1; // a pair (lone halves are refused before)
  }
  return n;
}

/** Checks a list of LoRA weights: how many, and each weight. */
export function checkLoraWeights(loras: readonly { weight: number }[]): ParameterViolation | null {
  const max = GENERATION_LIMITS.loraCount.max;
  if (!Array.isArray(loras) || loras.length > max) return { field: 'loras', message: `loras must list at most ${max} LoRAs` };
  for (const [i, lora] of loras.entries()) {
    const violation = checkNumber(`loras[${i}].weight`, lora.weight, GENERATION_LIMITS.loraWeight);
    if (violation) return violation;
  }
  return null;
}

/**
 * Image i uses seed + i, and each image's seed is stored and shown like the
 * job's (an int4 column, a GraphQL Int): the last one must fit the table too.
 */
export function checkImageSeeds(seed: number, count: number): ParameterViolation | null {
  const max = GENERATION_LIMITS.seed.max;
  return seed + count - 1 <= max ? null : { field: 'seed', message: `seed + count - 1 must be at most ${max} (image i uses seed + i)` };
}

/** Every check of the table on a whole request, in field order; the first violation, or null. */
export function checkGenerationSettings(
  settings: GenerationSettings & { negativePrompt?: string | null; loras?: readonly { weight: number }[] | null; sampler?: Sampler | null },
): ParameterViolation | null {
  const L = GENERATION_LIMITS;
  return checkPromptLength('prompt', settings.prompt)
    ?? (settings.negativePrompt == null ? null : checkPromptLength('negativePrompt', settings.negativePrompt))
    ?? checkNumber('width', settings.width, L.width)
    ?? checkNumber('height', settings.height, L.height)
    ?? checkNumber('steps', settings.steps, L.steps)
    ?? checkNumber('guidanceScale', settings.guidanceScale, L.guidanceScale)
    ?? checkNumber('seed', settings.seed, L.seed)
    ?? checkNumber('count', settings.count, L.count)
    ?? checkImageSeeds(settings.seed, settings.count)
    ?? checkSamplerSteps(settings.sampler, settings.steps)
    ?? checkLoraWeights(settings.loras ?? []);
}
