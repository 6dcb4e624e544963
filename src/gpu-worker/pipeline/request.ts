import { checkGenerationSettings } from '../../kernel/generation-parameters';
import { PipelineError } from './errors';
import { SAMPLER_KINDS } from './scheduler';
import type { GenerationRequest, VideoRequest } from './types';

/**
 * Throws INVALID_PARAMETERS (with the field) for any value outside the limits
 * table the API validates with too (kernel/generation-parameters.ts), or for
 * a pipeline-only option that makes no sense.
 */
export function validateRequest(req: GenerationRequest): void {
  // The pipeline names samplers its own way; LCM's step limit is checked where its timesteps are made.
  const violation = checkGenerationSettings({ ...req, sampler: null });
  if (violation) throw new PipelineError('INVALID_PARAMETERS', violation.message, { field: violation.field });
  check(req.previewEvery === undefined || (Number.isInteger(req.previewEvery) && req.previewEvery >= 0), 'previewEvery', 'must be a non-negative integer');
  check(req.sampler == null || SAMPLER_KINDS.includes(req.sampler), 'sampler', `must be one of ${SAMPLER_KINDS.join(', ')}`);
  (req.loras ?? []).forEach((l, i) => check(typeof l.path === 'string' && l.path.length > 0, `loras[${i}].path`, 'is required'));
}

/** The most frames one clip may have (2 minutes at 30 fps; the API's tier limits are far below). */
export const MAX_VIDEO_FRAMES = 3600;

/** validateRequest for a clip, plus its frame count, keyframe spacing and end prompt. */
export function validateVideoRequest(req: VideoRequest): void {
  validateRequest({ ...req, count: 1 });
  check(Number.isInteger(req.frames) && req.frames >= 1 && req.frames <= MAX_VIDEO_FRAMES, 'frames', `must be an integer from 1 to ${MAX_VIDEO_FRAMES}`);
  check(Number.isInteger(req.keyframeEvery) && req.keyframeEvery >= 1, 'keyframeEvery', 'must be a positive integer');
  check(req.endPrompt === undefined || typeof req.endPrompt === 'string', 'endPrompt', 'must be a string');
}

function check(ok: boolean, field: string, message: string): void {
  if (!ok) throw new PipelineError('INVALID_PARAMETERS', `${field} ${message}`, { field });
}

/** What the PNG metadata records besides the request itself. */
export interface ImageProvenance { seed: number; sampler: string; modelName: string; modelHash: string }

/**
 * PNG text chunks: A1111's `parameters` (prompt line, "Negative prompt:" line,
 * one settings line) so existing tools can read it, plus one key per field.
 * LoRAs with weight 0 are left out: they do not change the image, so the
 * bytes match a run without them.
 */
export function pngTextChunks(req: GenerationRequest, p: ImageProvenance): Record<string, string> {
  const loras = (req.loras ?? []).filter((l) => l.weight !== 0).map((l) => ({ name: l.name, weight: l.weight }));
  const settings = [
    `Steps: ${req.steps}`, `Sampler: ${p.sampler}`, `CFG scale: ${req.guidanceScale}`, `Seed: ${p.seed}`,
    `Size: ${req.width}x${req.height}`, `Model hash: ${p.modelHash.slice(0, 10)}`, `Model: ${p.modelName}`,
    ...(loras.length ? [`Loras: ${loras.map((l) => `${l.name}:${l.weight}`).join(', ')}`] : []),
  ].join(', ');
  const lines = [req.prompt, ...(req.negativePrompt ? [`Negative prompt: ${req.negativePrompt}`] : []), settings];
  return {
    parameters: lines.join('\n'),
    prompt: req.prompt,
    negative_prompt: req.negativePrompt ?? '',
    seed: String(p.seed),
    steps: String(req.steps),
    guidance_scale: String(req.guidanceScale),
    width: String(req.width),
    height: String(req.height),
    sampler: p.sampler,
    model: p.modelName,
    model_hash: p.modelHash,
    loras: JSON.stringify(loras),
  };
}
