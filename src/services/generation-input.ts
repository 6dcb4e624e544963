import type { JobLora, Preset, TierPolicy } from '../entities';
import {
  checkGenerationSettings, checkNumber, checkPromptLength, GENERATION_DEFAULTS, GENERATION_LIMITS,
  type GenerationSettings, type GenerationSettingsInput, type NumberLimit, type ParameterViolation, type Sampler,
} from '../kernel/generation-parameters';
import { badInput, quotaExceeded } from '../kernel/errors';

import { assertUuid } from '../kernel/ids';
import { isBlank } from '../kernel/visible-text';

/** The preset fields that act as generation defaults. */
export type PresetDefaultsSource = Pick<Preset, 'template' | 'negativePrompt' | 'width' | 'height' | 'steps' | 'guidanceScale' | 'sampler' | 'modelId' | 'loras'>;

/** GenerationInput as the API receives it (all optional but the prompt). */
export interface GenerationRequestInput extends GenerationSettingsInput {
  prompt: string;
  negativePrompt?: string | null;
  sampler?: Sampler | null;
  modelId?: string | null;
  presetId?: string | null;
  loras?: { loraId: string; weight: number }[] | null;
  sessionId?: string | null;
  albumId?: string | null;
  deadlineSeconds?: number | null;
}

/** Defaults a preset contributes; explicit request fields win. */
export interface ParameterDefaults {
  template?: string | null;
  negativePrompt?: string | null;
  width?: number | null;
  height?: number | null;
  steps?: number | null;
  guidanceScale?: number | null;
  sampler?: Sampler | null;
  modelId?: string | null;
  loras?: JobLora[];
}

/** Fully resolved parameters a job runs with: the settings the pipeline gets, plus what the API decides. */
export interface GenerationParameters extends GenerationSettings {
  negativePrompt: string | null;
  /** Null: the model's scheduler config decides. */
  sampler: Sampler | null;
  modelId: string | null;
  loras: JobLora[];
  deadlineSeconds: number | null;
}

/** How far ahead a job's start deadline may lie: a week. */
const DEADLINE_SECONDS: NumberLimit = { min: 1, max: 7 * 24 * 3600, integer: true };

/** BAD_USER_INPUT with the field for a value outside the generation limits table. */
export function throwIfViolated(violation: ParameterViolation | null): void {
  if (violation) throw badInput(violation.field, violation.message);
}

/** The user's prompt, trimmed, with the preset's template applied. */
export function templatedPrompt(raw: unknown, template: string | null | undefined): string {
  if (typeof raw !== 'string') throw badInput('prompt', 'prompt is required');
  const userPrompt = raw.trim();
  if (isBlank(userPrompt)) throw badInput('prompt', 'prompt must not be empty');
  throwIfViolated(checkPromptLength('prompt', userPrompt));
  const prompt = template ? template.split('{prompt}').join(userPrompt) : userPrompt;
  if (checkPromptLength('prompt', prompt)) {
    throw badInput('prompt', `prompt with the preset template exceeds ${GENERATION_LIMITS.promptChars.max} characters`);
  }
  return prompt;
}

/** LoRA ids: UUIDs, each once (weights are checked with the other limits). */
function assertLoraIds(loras: readonly { loraId: string }[]): void {
  loras.forEach((lora, i) => assertUuid(`loras[${i}].loraId`, lora.loraId));
  if (new Set(loras.map((l) => l.loraId)).size !== loras.length) throw badInput('loras', 'Each LoRA may appear once');
}

/**
 * Validates a request against the public contract (BAD_USER_INPUT with the
 * field) and resolves defaults; `random` picks the seed when none is given.
 */
export function resolveGenerationParameters(
  input: GenerationRequestInput,
  defaults: ParameterDefaults,
  random: () => number,
): GenerationParameters {
  const prompt = templatedPrompt(input.prompt, defaults.template);
  const negative = (input.negativePrompt ?? defaults.negativePrompt ?? '').trim();
  const loras = input.loras ?? defaults.loras ?? [];
  assertLoraIds(loras);
  const modelId = input.modelId ?? defaults.modelId ?? null;
  if (modelId) assertUuid('modelId', modelId);
  if (input.deadlineSeconds != null) throwIfViolated(checkNumber('deadlineSeconds', input.deadlineSeconds, DEADLINE_SECONDS));

  const D = GENERATION_DEFAULTS;
  const { seed: seedLimit } = GENERATION_LIMITS;
  const count = input.count ?? D.count;
  // A chosen seed leaves room for every image's seed + i (checkImageSeeds); a bad count is refused below.
  const lastSeed = seedLimit.max - (checkNumber('count', count, GENERATION_LIMITS.count) ? 0 : count - 1);
  const params: GenerationParameters = {
    prompt,
    negativePrompt: negative || null,
    width: input.width ?? defaults.width ?? D.width,
    height: input.height ?? defaults.height ?? D.height,
    steps: input.steps ?? defaults.steps ?? D.steps,
    guidanceScale: input.guidanceScale ?? defaults.guidanceScale ?? D.guidanceScale,
    seed: input.seed ?? seedLimit.min + Math.floor(random() * (lastSeed - seedLimit.min + 1)),
    count,
    sampler: input.sampler ?? defaults.sampler ?? null,
    modelId,
    loras: loras.map((l) => ({ loraId: l.loraId, weight: l.weight })),
    deadlineSeconds: input.deadlineSeconds ?? null,
  };
  throwIfViolated(checkGenerationSettings(params));
  return params;
}

/** Tier caps on size, steps, count and LoRAs: QUOTA_EXCEEDED with the field and the limit. */
export function assertWithinTier(params: GenerationParameters, policy: TierPolicy): void {
  const tier = policy.tier;
  const check = (field: string, value: number, limit: number, what: string) => {
    if (value > limit) throw quotaExceeded(`${tier} tier allows ${what} up to ${limit}; upgrade for more`, limit, null, field);
  };
  check('width', params.width, policy.maxWidth, 'width');
  check('height', params.height, policy.maxHeight, 'height');
  check('steps', params.steps, policy.maxSteps, 'steps');
  check('count', params.count, policy.maxCount, 'images per job');
  check('loras', params.loras.length, policy.maxLoras, 'LoRAs per job');
}

/** The nearest allowed size at or below `pixels`, never below the minimum. */
function fitDimension(pixels: number, limit: NumberLimit): number {
  const multiple = limit.multipleOf ?? 1;
  return Math.max(limit.min, Math.floor(pixels / multiple) * multiple);
}

/**
 * The service's defaults, fitted to a tier narrower than them (an admin's
 * policy with `maxWidth` below 512, `maxSteps` below 20): a request that
 * names no size or steps runs within the tier instead of being refused for
 * values its caller never sent. Empty when the defaults fit.
 */
function defaultsWithin(policy: TierPolicy): ParameterDefaults {
  const D = GENERATION_DEFAULTS;
  const scale = Math.min(1, policy.maxWidth / D.width, policy.maxHeight / D.height);
  return {
    ...(scale < 1 ? { width: fitDimension(D.width * scale, GENERATION_LIMITS.width), height: fitDimension(D.height * scale, GENERATION_LIMITS.height) } : {}),
    ...(policy.maxSteps < D.steps ? { steps: policy.maxSteps } : {}),
  };
}

/**
 * A preset's size and steps are defaults, not requests: when they exceed the
 * caller's tier they are scaled down to fit (aspect ratio kept, multiples of
 * 8), so "Cinematic Portrait" works on FREE. Explicit fields are still checked.
 */
export function presetDefaults(preset: PresetDefaultsSource | null, policy: TierPolicy | null): ParameterDefaults {
  const fitted = policy ? defaultsWithin(policy) : {};
  if (!preset) return fitted;
  let { width, height } = preset;
  if (policy && (width || height)) {
    // A side the preset leaves out runs at the default: scale the size that will run.
    const [w, h] = [width ?? GENERATION_DEFAULTS.width, height ?? GENERATION_DEFAULTS.height];
    const scale = Math.min(1, policy.maxWidth / w, policy.maxHeight / h);
    width = fitDimension(w * scale, GENERATION_LIMITS.width);
    height = fitDimension(h * scale, GENERATION_LIMITS.height);
  }
  return {
    // A size or steps the preset leaves out runs at the defaults, fitted to the tier.
    template: preset.template, negativePrompt: preset.negativePrompt, width: width ?? fitted.width, height: height ?? fitted.height,
    steps: preset.steps === null ? fitted.steps : policy ? Math.min(preset.steps, policy.maxSteps) : preset.steps,
    guidanceScale: preset.guidanceScale, sampler: preset.sampler, modelId: preset.modelId, loras: policy ? preset.loras.slice(0, policy.maxLoras) : preset.loras,
  };
}
