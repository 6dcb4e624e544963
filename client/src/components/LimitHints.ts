import type { UsageQuery } from '../gql/graphql';
import type { ExplainedError } from '../lib/errors';
import { formatWait } from '../lib/format';
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
    if (settings.height > limits.maxHeight) hints.height = text;
  }
  if (settings.steps > limits.maxSteps) hints.steps = `Your ${tier} tier allows up to ${limits.maxSteps} steps.`;
  if (settings.count > limits.maxCount) hints.count = `Your ${tier} tier allows up to ${limits.maxCount} images per job.`;
  if (settings.loras.length > limits.maxLoras) hints.loras = `Your ${tier} tier allows up to ${limits.maxLoras} LoRA${limits.maxLoras === 1 ? '' : 's'} per job.`;
  return hints;
}

/** A sentence ends with a full stop (the server's messages have none). */
const sentence = (text: string) => (/[.!?]$/.test(text) ? text : `${text}.`);

/** A refusal that passes with time (RATE_LIMITED, some QUOTA_EXCEEDED): the server's words and the wait it gave. */
export function explainWait({ message, retryAfterSeconds }: ExplainedError): string {
  return `${sentence(message)}${retryAfterSeconds != null ? ` Try again in ${formatWait(retryAfterSeconds)}.` : ''}`;
}

/** A quota error from the server, turned into a sentence that says what the limit is, how long to wait and what to do. */
export function explainQuota(problem: ExplainedError, limits: Limits | undefined): string {
  const { field, limit } = problem;
  if (!limits || limit == null) return explainWait(problem);
  const tier = limits.tier;
  const upgrade = tier === 'ENTERPRISE' ? '' : ' Ask an admin to upgrade your tier for more.';
  // One that waiting lifts is not the tier's ceiling on its field: today's images name `count` too (docs/limits.md, "Refusals").
  if (problem.retryAfterSeconds != null) return `${explainWait(problem)}${upgrade}`;
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
      return `${explainWait(problem)}${upgrade}`;
  }
}

/** The nearest side at or below `pixels` the server accepts: a multiple of 8, at least 64. */
const fitSide = (pixels: number) => Math.max(64, Math.floor(pixels / 8) * 8);

/**
 * A preset's size and steps fitted to the tier the way the server fits a
 * preset applied by id: the size scaled down keeping its aspect ratio, the
 * steps capped. The note says what changed (null when it already fits).
 */
export function fitToTier(settings: GenerationSettings, limits: Limits | undefined): { settings: GenerationSettings; note: string | null } {
  if (!limits) return { settings, note: null };
  const { width, height, steps } = settings;
  const scale = Math.min(1, limits.maxWidth / width, limits.maxHeight / height);
  const fitted = {
    ...settings,
    width: scale < 1 ? fitSide(width * scale) : width,
    height: scale < 1 ? fitSide(height * scale) : height,
    steps: Math.min(steps, limits.maxSteps),
  };
  const changes = [
    scale < 1 ? `${fitted.width} × ${fitted.height} instead of ${width} × ${height}` : '',
    fitted.steps < steps ? `${fitted.steps} steps instead of ${steps}` : '',
  ].filter(Boolean);
  if (changes.length === 0) return { settings, note: null };
  return { settings: fitted, note: `The preset was fitted to your ${limits.tier} tier: ${changes.join(', ')}.` };
}
