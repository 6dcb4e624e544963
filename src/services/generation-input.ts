import type { JobLora, Preset, TierPolicy } from '../entities';

/** The preset fields that act as generation defaults. */
export type PresetDefaultsSource = Pick<Preset, 'template' | 'negativePrompt' | 'width' | 'height' | 'steps' | 'guidanceScale' | 'modelId' | 'loras'>;
import { badInput, quotaExceeded } from '../schema/errors';

/** GenerationInput as the API receives it (all optional but the prompt). */
export interface GenerationRequestInput {
  prompt: string;
  negativePrompt?: string | null;
  width?: number | null;
  height?: number | null;
  steps?: number | null;
  guidanceScale?: number | null;
  seed?: number | null;
  count?: number | null;
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
  modelId?: string | null;
  loras?: JobLora[];
}

/** Fully resolved parameters a job runs with. */
export interface GenerationParameters {
  prompt: string;
  negativePrompt: string | null;
  width: number;
  height: number;
  steps: number;
  guidanceScale: number;
  seed: number;
  count: number;
  modelId: string | null;
  loras: JobLora[];
  deadlineSeconds: number | null;
}

export const MAX_SEED = 2147483647;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function intInRange(field: string, value: number, min: number, max: number, extra = ''): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw badInput(field, `${field} must be an integer from ${min} to ${max}${extra}`);
  }
  return value;
}

export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID_RE.test(value);

export function assertUuid(field: string, value: string): string {
  if (!isUuid(value)) throw badInput(field, `${field} must be a UUID`);
  return value;
}

function dimension(field: 'width' | 'height', value: number): number {
  intInRange(field, value, 64, 2048);
  if (value % 8 !== 0) throw badInput(field, `${field} must be a multiple of 8`);
  return value;
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
  if (typeof input.prompt !== 'string') throw badInput('prompt', 'prompt is required');
  const userPrompt = input.prompt.trim();
  if (userPrompt.length < 1) throw badInput('prompt', 'prompt must not be empty');
  if (userPrompt.length > 2000) throw badInput('prompt', 'prompt must be at most 2000 characters');
  const prompt = defaults.template ? defaults.template.split('{prompt}').join(userPrompt) : userPrompt;
  if (prompt.length > 2000) throw badInput('prompt', 'prompt with the preset template exceeds 2000 characters');
  const negative = (input.negativePrompt ?? defaults.negativePrompt ?? '').trim();
  if (negative.length > 2000) throw badInput('negativePrompt', 'negativePrompt must be at most 2000 characters');

  const guidance = input.guidanceScale ?? defaults.guidanceScale ?? 7.5;
  if (!Number.isFinite(guidance) || guidance < 1 || guidance > 30) {
    throw badInput('guidanceScale', 'guidanceScale must be from 1 to 30');
  }
  const loras = input.loras ?? defaults.loras ?? [];
  loras.forEach((lora, i) => {
    assertUuid(`loras[${i}].loraId`, lora.loraId);
    if (!Number.isFinite(lora.weight) || lora.weight < -2 || lora.weight > 2) {
      throw badInput(`loras[${i}].weight`, 'LoRA weight must be from -2 to 2');
    }
  });
  if (new Set(loras.map((l) => l.loraId)).size !== loras.length) throw badInput('loras', 'Each LoRA may appear once');
  const modelId = input.modelId ?? defaults.modelId ?? null;
  if (modelId) assertUuid('modelId', modelId);
  if (input.deadlineSeconds != null) intInRange('deadlineSeconds', input.deadlineSeconds, 1, 7 * 24 * 3600);

  return {
    prompt,
    negativePrompt: negative || null,
    width: dimension('width', input.width ?? defaults.width ?? 512),
    height: dimension('height', input.height ?? defaults.height ?? 512),
    steps: intInRange('steps', input.steps ?? defaults.steps ?? 20, 1, 150),
    guidanceScale: guidance,
    seed: input.seed == null ? Math.floor(random() * (MAX_SEED + 1)) : intInRange('seed', input.seed, 0, MAX_SEED),
    count: intInRange('count', input.count ?? 1, 1, 8),
    modelId,
    loras: loras.map((l) => ({ loraId: l.loraId, weight: l.weight })),
    deadlineSeconds: input.deadlineSeconds ?? null,
  };
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

/**
 * A preset's size and steps are defaults, not requests: when they exceed the
 * caller's tier they are scaled down to fit (aspect ratio kept, multiples of
 * 8), so "Cinematic Portrait" works on FREE. Explicit fields are still checked.
 */
export function presetDefaults(preset: PresetDefaultsSource | null, policy: TierPolicy | null): ParameterDefaults {
  if (!preset) return {};
  let { width, height } = preset;
  if (policy && width && height) {
    const scale = Math.min(1, policy.maxWidth / width, policy.maxHeight / height);
    width = Math.max(64, Math.floor((width * scale) / 8) * 8);
    height = Math.max(64, Math.floor((height * scale) / 8) * 8);
  }
  return {
    template: preset.template, negativePrompt: preset.negativePrompt, width, height,
    steps: preset.steps === null || !policy ? preset.steps : Math.min(preset.steps, policy.maxSteps),
    guidanceScale: preset.guidanceScale, modelId: preset.modelId, loras: policy ? preset.loras.slice(0, policy.maxLoras) : preset.loras,
  };
}
