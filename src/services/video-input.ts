import type { Image, Preset, TierPolicy } from '../entities';
import { checkNumber, GENERATION_DEFAULTS, GENERATION_LIMITS, VIDEO_DEFAULTS, VIDEO_LIMITS, type NumberLimit } from '../kernel/generation-parameters';
import { badInput, quotaExceeded } from '../kernel/errors';
import {
  assertWithinTier, presetDefaults, resolveGenerationParameters, templatedPrompt, throwIfViolated,
  type GenerationParameters, type GenerationRequestInput,
} from './generation-input';

/** VideoInput as the API receives it (createVideo, or createGeneration with a VIDEO preset). */
export interface VideoRequestInput extends Omit<GenerationRequestInput, 'prompt' | 'count'> {
  /** Required unless `fromImageId` is given; with it, the prompt the clip moves toward. */
  prompt?: string | null;
  fromImageId?: string | null;
  durationSeconds?: number | null;
  fps?: number | null;
  count?: number | null;
}

/** The clip-only settings of a VIDEO job. */
export interface VideoSettings {
  durationSeconds: number;
  fps: number;
  /** round(duration × fps), at least 1. */
  frames: number;
  /** Image-to-video with a new prompt: the text states move from the image's prompt to this one. */
  endPrompt: string | null;
}

/** The image a clip is animated from. */
export type SourceImage = Pick<Image, 'id' | 'seed' | 'width' | 'height' | 'parameters'>;

/** A preset's clip fields. */
export type VideoPresetSource = Parameters<typeof presetDefaults>[0] & Pick<Preset, 'durationSeconds' | 'fps'>;

/**
 * Validates a clip request (BAD_USER_INPUT with the field for values outside
 * the limits, QUOTA_EXCEEDED with the field for values beyond the tier) and
 * resolves it into the job's parameters (count 1) and clip settings. An
 * image-to-video request starts from the image's prompt, seed and settings;
 * explicit fields still win (docs/video.md).
 */
export function resolveVideoRequest(
  input: VideoRequestInput, preset: VideoPresetSource | null, source: SourceImage | null, policy: TierPolicy, random: () => number,
): { params: GenerationParameters; video: VideoSettings } {
  if (input.count != null && input.count !== 1) throw badInput('count', 'A video job makes one clip: count must be 1');
  const video = clipSettings(input, preset, policy);
  const videoPolicy = { ...policy, maxWidth: Math.min(policy.maxWidth, policy.maxVideoSide), maxHeight: Math.min(policy.maxHeight, policy.maxVideoSide) };
  const defaults = { ...presetDefaults(preset, videoPolicy), steps: Math.min(preset?.steps ?? VIDEO_DEFAULTS.steps, policy.maxSteps) };
  const size = fitted(source?.width ?? defaults.width ?? GENERATION_DEFAULTS.width, source?.height ?? defaults.height ?? GENERATION_DEFAULTS.height, policy.maxVideoSide);
  const from: Partial<GenerationRequestInput> = source ? sourceParameters(source) : {};
  const params = resolveGenerationParameters({
    ...input, ...definedOnly(from), ...definedOnly(explicit(input)),
    prompt: (source ? from.prompt : input.prompt) as string, count: 1,
    width: input.width ?? size.width, height: input.height ?? size.height,
  }, source ? { steps: defaults.steps } : defaults, random);
  assertWithinTier(params, policy);
  for (const field of ['width', 'height'] as const) {
    if (params[field] > policy.maxVideoSide) {
      throw quotaExceeded(`${policy.tier} tier allows videos up to ${policy.maxVideoSide} pixels a side; upgrade for more`, policy.maxVideoSide, null, field);
    }
  }
  const endPrompt = source && input.prompt != null ? templatedPrompt(input.prompt, preset?.template) : null;
  return { params, video: { ...video, endPrompt: endPrompt === params.prompt ? null : endPrompt } };
}

/** Duration and fps: explicit values are checked, a preset's (or the defaults) are fitted to the tier. */
function clipSettings(input: VideoRequestInput, preset: VideoPresetSource | null, policy: TierPolicy): Omit<VideoSettings, 'endPrompt'> {
  const pick = (field: 'durationSeconds' | 'fps', limit: NumberLimit, tierMax: number, what: string): number => {
    const asked = input[field];
    if (asked == null) return Math.min(preset?.[field] ?? VIDEO_DEFAULTS[field], tierMax);
    throwIfViolated(checkNumber(field, asked, limit));
    if (asked > tierMax) throw quotaExceeded(`${policy.tier} tier allows ${what} up to ${tierMax}; upgrade for more`, tierMax, null, field);
    return asked;
  };
  const durationSeconds = pick('durationSeconds', VIDEO_LIMITS.durationSeconds, policy.maxVideoSeconds, 'clips (seconds)');
  const fps = pick('fps', VIDEO_LIMITS.fps, policy.maxVideoFps, 'frames per second');
  return { durationSeconds, fps, frames: Math.max(1, Math.round(durationSeconds * fps)) };
}

/** The largest size at most `side` a side with the aspect ratio of width × height, multiples of 8. */
function fitted(width: number, height: number, side: number): { width: number; height: number } {
  const scale = Math.min(1, side / width, side / height);
  const fit = (pixels: number, limit: NumberLimit) => Math.max(limit.min, Math.floor((pixels * scale) / 8) * 8);
  return { width: fit(width, GENERATION_LIMITS.width), height: fit(height, GENERATION_LIMITS.height) };
}

/** The generation fields of an image's recorded parameters that a clip starts from. */
function sourceParameters(source: SourceImage): Partial<GenerationRequestInput> & { prompt: string } {
  const p = source.parameters;
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  return {
    prompt: typeof p.prompt === 'string' ? p.prompt : '',
    negativePrompt: typeof p.negativePrompt === 'string' ? p.negativePrompt : undefined,
    seed: source.seed, steps: num(p.steps), guidanceScale: num(p.guidanceScale),
    modelId: typeof p.modelId === 'string' ? p.modelId : undefined,
    loras: Array.isArray(p.loras) ? p.loras as GenerationRequestInput['loras'] : undefined,
  };
}

/** The generation fields the caller set explicitly (they win over the image's). */
function explicit(input: VideoRequestInput): Partial<GenerationRequestInput> {
  const { negativePrompt, steps, guidanceScale, seed, modelId, loras, sampler } = input;
  return { negativePrompt, steps, guidanceScale, seed, modelId, loras, sampler };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v != null)) as Partial<T>;
}
