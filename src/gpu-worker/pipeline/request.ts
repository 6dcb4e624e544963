import { PipelineError } from './errors';
import type { GenerationRequest } from './types';

/** Limits a request must respect; the API should validate with the same numbers. */
export const GENERATION_LIMITS = {
  minSize: 64, maxSize: 2048, sizeMultiple: 8, maxSteps: 200, maxCount: 16,
  maxGuidance: 50, maxPromptChars: 10_000, maxLoras: 8, maxLoraWeight: 10,
} as const;

function check(ok: boolean, field: string, message: string): void {
  if (!ok) throw new PipelineError('INVALID_PARAMETERS', `${field} ${message}`, { field });
}

/** Throws INVALID_PARAMETERS (with the field) for any out-of-range value. */
export function validateRequest(req: GenerationRequest): void {
  const L = GENERATION_LIMITS;
  for (const field of ['width', 'height'] as const) {
    const v = req[field];
    check(Number.isInteger(v) && v >= L.minSize && v <= L.maxSize && v % L.sizeMultiple === 0, field,
      `must be a multiple of ${L.sizeMultiple} between ${L.minSize} and ${L.maxSize}`);
  }
  check(Number.isInteger(req.steps) && req.steps >= 1 && req.steps <= L.maxSteps, 'steps', `must be an integer 1–${L.maxSteps}`);
  check(Number.isInteger(req.count) && req.count >= 1 && req.count <= L.maxCount, 'count', `must be an integer 1–${L.maxCount}`);
  check(Number.isFinite(req.guidanceScale) && req.guidanceScale >= 0 && req.guidanceScale <= L.maxGuidance, 'guidanceScale', `must be 0–${L.maxGuidance}`);
  check(Number.isSafeInteger(req.seed) && req.seed >= 0, 'seed', 'must be a non-negative safe integer');
  check(typeof req.prompt === 'string' && req.prompt.length <= L.maxPromptChars, 'prompt', `must be a string of at most ${L.maxPromptChars} characters`);
  check(req.negativePrompt === undefined || (typeof req.negativePrompt === 'string' && req.negativePrompt.length <= L.maxPromptChars),
    'negativePrompt', `must be a string of at most ${L.maxPromptChars} characters`);
  check(req.previewEvery === undefined || (Number.isInteger(req.previewEvery) && req.previewEvery >= 0), 'previewEvery', 'must be a non-negative integer');
  check(req.sampler === undefined || req.sampler === 'euler' || req.sampler === 'ddim', 'sampler', "must be 'euler' or 'ddim'");
  const loras = req.loras ?? [];
  check(Array.isArray(loras) && loras.length <= L.maxLoras, 'loras', `must list at most ${L.maxLoras} LoRAs`);
  loras.forEach((l, i) => {
    check(typeof l.path === 'string' && l.path.length > 0, `loras[${i}].path`, 'is required');
    check(Number.isFinite(l.weight) && Math.abs(l.weight) <= L.maxLoraWeight, `loras[${i}].weight`, `must be within ±${L.maxLoraWeight}`);
  });
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
