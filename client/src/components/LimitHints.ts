import type { UsageQuery } from '../gql/graphql';
import type { GenerationSettings } from './settings';

export type Limits = UsageQuery['usage']['limits'];

/** Which form field each server `extensions.field` refers to. */
export const FIELD_IDS: Record<string, string> = {
  prompt: 'prompt',
  negativePrompt: 'negativePrompt',
  width: 'width',
  height: 'height',
  steps: 'steps',
  guidanceScale: 'guidanceScale',
  seed: 'seed',
  count: 'count',
  loras: 'loras',
  sessionId: 'sessionId',
  modelId: 'modelId',
  sampler: 'sampler',
};

/**
 * Explains, per field, where the settings go past the caller's tier. The
 * server has the last word (an admin may change limits at any time); these
 * hints tell people before they press Generate.
 */
export function limitHints(settings: GenerationSettings, limits: Limits | undefined): Record<string, string> {
  if (!limits) return {};
  const tier = limits.tier;
  const hints: Record<string, string> = {};
  if (settings.width > limits.maxWidth || settings.height > limits.maxHeight) {
    const text = `Your ${tier} tier allows images up to ${limits.maxWidth} × ${limits.maxHeight} pixels; you asked for ${settings.width} × ${settings.height}.`;
    if (settings.width > limits.maxWidth) hints.width = text;
    else hints.height = text;
  }
  if (settings.steps > limits.maxSteps) hints.steps = `Your ${tier} tier allows up to ${limits.maxSteps} steps.`;
  if (settings.count > limits.maxCount) hints.count = `Your ${tier} tier allows up to ${limits.maxCount} images per job.`;
  if (settings.loras.length > limits.maxLoras) hints.loras = `Your ${tier} tier allows up to ${limits.maxLoras} LoRA${limits.maxLoras === 1 ? '' : 's'} per job.`;
  return hints;
}

/** A quota error from the server, turned into a sentence that says what the limit is and what to do. */
export function explainQuota(message: string, field: string | undefined, limit: number | undefined, limits: Limits | undefined): string {
  if (!limits || limit == null) return message;
  const tier = limits.tier;
  const upgrade = tier === 'ENTERPRISE' ? '' : ' Ask an admin to upgrade your tier for more.';
  switch (field) {
    case 'width':
    case 'height':
      return `Too large for your ${tier} tier: images can be at most ${limits.maxWidth} × ${limits.maxHeight} pixels (the ${field} limit is ${limit}). Choose a smaller size.${upgrade}`;
    case 'steps':
      return `Your ${tier} tier allows at most ${limit} steps per job. Lower the steps.${upgrade}`;
    case 'count':
      return `Your ${tier} tier allows at most ${limit} images per job.${upgrade}`;
    case 'loras':
      return `Your ${tier} tier allows at most ${limit} LoRAs per job.${upgrade}`;
    default:
      return `${message}.${upgrade}`.replace('..', '.');
  }
}
