import { TrainingError, type TrainingSpec } from './types';

/**
 * The bounds a training spec must respect, whichever backend runs it. The
 * service narrows them per tier; these are what a backend accepts at all.
 */
export const TRAINING_LIMITS = {
  images: { min: 1, max: 1000 },
  rank: { min: 1, max: 128 },
  alpha: { min: 0.001, max: 1024 },
  learningRate: { min: 1e-7, max: 1 },
  steps: { min: 1, max: 100_000 },
  batchSize: { min: 1, max: 64 },
  resolution: { min: 64, max: 2048 },
  seed: { min: 0, max: 2_147_483_647 },
  saveEvery: { min: 0, max: 100_000 },
  samplePrompts: { min: 0, max: 8 },
} as const;

const INTEGERS = new Set(['rank', 'steps', 'batchSize', 'resolution', 'seed', 'saveEvery']);

function fail(field: string, message: string): never {
  throw new TrainingError('INVALID_SPEC', `${field} ${message}`, field);
}

/** Throws TrainingError INVALID_SPEC naming the first field out of bounds. */
export function validateTrainingSpec(spec: TrainingSpec): void {
  for (const field of ['rank', 'alpha', 'learningRate', 'steps', 'batchSize', 'resolution', 'seed', 'saveEvery'] as const) {
    const value = spec[field];
    const { min, max } = TRAINING_LIMITS[field];
    const integral = !INTEGERS.has(field) || Number.isInteger(value);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || !integral) {
      fail(field, `must be ${INTEGERS.has(field) ? 'an integer' : 'a number'} from ${min} to ${max}`);
    }
  }
  if (spec.resolution % 8 !== 0) fail('resolution', 'must be a multiple of 8');
  if (!Array.isArray(spec.images) || spec.images.length < TRAINING_LIMITS.images.min || spec.images.length > TRAINING_LIMITS.images.max) {
    fail('images', `must hold ${TRAINING_LIMITS.images.min} to ${TRAINING_LIMITS.images.max} images`);
  }
  spec.images.forEach((image, i) => {
    if (typeof image.caption !== 'string') fail(`images[${i}].caption`, 'must be a string');
  });
  const { minTimestep, minSnrGamma } = spec;
  if (minTimestep !== undefined && !(Number.isInteger(minTimestep) && minTimestep >= 0 && minTimestep < 1000)) fail('minTimestep', 'must be an integer from 0 to 999');
  if (minSnrGamma !== undefined && !(Number.isFinite(minSnrGamma) && minSnrGamma > 0)) fail('minSnrGamma', 'must be a positive number');
  if (spec.samplePrompts.length > TRAINING_LIMITS.samplePrompts.max) fail('samplePrompts', `must list at most ${TRAINING_LIMITS.samplePrompts.max} prompts`);
  if (spec.resume && (spec.resume.step < 0 || spec.resume.step > spec.steps)) fail('resume', `step ${spec.resume.step} is outside 0..${spec.steps}`);
}
