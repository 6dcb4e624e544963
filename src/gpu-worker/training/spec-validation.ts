import { checkNumber } from '../../kernel/generation-parameters';
import { TRAINING_LIMITS } from '../../kernel/training-parameters';
import { TrainingError, type TrainingSpec } from './types';

/** The hyperparameters checked against TRAINING_LIMITS, the one table the API validates against too. */
const NUMBERS = ['rank', 'alpha', 'learningRate', 'steps', 'batchSize', 'resolution', 'seed'] as const;

function fail(field: string, message: string): never {
  throw new TrainingError('INVALID_SPEC', message.startsWith(field) ? message : `${field} ${message}`, field);
}

function check(field: keyof typeof TRAINING_LIMITS, value: unknown): void {
  const violation = checkNumber(field, value, TRAINING_LIMITS[field]);
  if (violation) fail(field, violation.message);
}

/** Throws TrainingError INVALID_SPEC naming the first field out of bounds. */
export function validateTrainingSpec(spec: TrainingSpec): void {
  for (const field of NUMBERS) check(field, spec[field]);
  // 0 ("only at the end") is the library's own: the API always asks for save points.
  if (spec.saveEvery !== 0) check('saveEvery', spec.saveEvery);
  const images = TRAINING_LIMITS.images;
  if (!Array.isArray(spec.images) || spec.images.length < images.min || spec.images.length > images.max) {
    fail('images', `must hold ${images.min} to ${images.max} images`);
  }
  spec.images.forEach((image, i) => {
    if (typeof image.caption !== 'string') fail(`images[${i}].caption`, 'must be a string');
  });
  if (spec.minTimestep !== undefined) check('minTimestep', spec.minTimestep);
  if (spec.minSnrGamma !== undefined) check('minSnrGamma', spec.minSnrGamma);
  if (spec.samplePrompts.length > TRAINING_LIMITS.samplePrompts.max) fail('samplePrompts', `must list at most ${TRAINING_LIMITS.samplePrompts.max} prompts`);
  if (spec.resume && (spec.resume.step < 0 || spec.resume.step > spec.steps)) fail('resume', `step ${spec.resume.step} is outside 0..${spec.steps}`);
}
