/**
 * Training hyperparameters: the one table of their limits and defaults and
 * the shape a training run stores them in (docs/training.md, "API"). The API
 * validates `startTraining` against it, the worker hands the stored values to
 * the trainer, and the tier's `maxTrainingSteps` narrows `steps` further.
 * A leaf: imports nothing of ours but the generation limits' NumberLimit.
 * The trainers validate their spec against the same table
 * (gpu-worker/training/spec-validation.ts), so a run the API admits is one a
 * backend takes.
 */
import type { NumberLimit } from './generation-parameters';

/** The hard limits of every training run, whatever the tier. */
export const TRAINING_LIMITS = {
  rank: { min: 1, max: 128, integer: true },
  alpha: { min: 0.001, max: 1024, integer: false },
  learningRate: { min: 1e-7, max: 1, integer: false },
  steps: { min: 1, max: 100_000, integer: true },
  batchSize: { min: 1, max: 64, integer: true },
  resolution: { min: 64, max: 2048, integer: true, multipleOf: 8 },
  seed: { min: 0, max: 2_147_483_647, integer: true },
  /** The trainers also take 0 ("only at the end"); a service run always checkpoints, so it resumes. */
  saveEvery: { min: 1, max: 100_000, integer: true },
  /** Lowest timestep drawn (kohya's --min_timestep); high values teach colour on the tiny model (docs/training.md, "The loss"). */
  minTimestep: { min: 0, max: 999, integer: true },
  /** Min-SNR-γ loss weighting (kohya's --min_snr_gamma). */
  minSnrGamma: { min: 0.001, max: 1000, integer: false },
  /** Images a trainer accepts in one run (the tier's imagesPerDataset is usually lower). */
  images: { min: 1, max: 1000, integer: true },
  /** Prompts rendered with the current weights at each save point. */
  samplePrompts: { min: 0, max: 8, integer: true },
  samplePromptChars: { min: 1, max: 500, integer: true },
  nameChars: { min: 1, max: 80, integer: true },
} as const satisfies Record<string, NumberLimit>;

/** What a run trains with, stored on the run and on the LoRA version it produces. */
export interface TrainingConfig {
  rank: number;
  alpha: number;
  learningRate: number;
  steps: number;
  batchSize: number;
  resolution: number;
  seed: number;
  saveEvery: number;
  samplePrompts: string[];
  /** Lowest timestep drawn; absent: all of them (or the model's default, MODEL_TRAINING_DEFAULTS). */
  minTimestep?: number;
  /** Min-SNR-γ loss weighting; absent: unweighted. */
  minSnrGamma?: number;
}

/** Defaults for whatever `startTraining` leaves out (sized for the bundled tiny model). */
export const TRAINING_DEFAULTS: Omit<TrainingConfig, 'seed' | 'samplePrompts'> = {
  rank: 4, alpha: 4, learningRate: 0.01, steps: 200, batchSize: 4, resolution: 64, saveEvery: 50,
};

/** What a base model may default differently from TRAINING_DEFAULTS. */
export type ModelTrainingDefaults = Partial<Pick<TrainingConfig, 'learningRate' | 'minTimestep' | 'minSnrGamma'>>;

/**
 * Defaults a base model brings for what a run leaves out, by model name. The
 * bundled tiny model learns colour only from the top of the noise schedule
 * and needs a larger step than 0.01 to get there in 200 steps (docs/training.md,
 * "Defaults for atelier-tiny"): with the general defaults a new user's run fits
 * the layout of their images and barely, or not at all, their colours.
 */
export const MODEL_TRAINING_DEFAULTS: Readonly<Record<string, ModelTrainingDefaults>> = {
  'atelier-tiny': { learningRate: 0.03, minTimestep: 900 },
};

/** The defaults of a base model (none for a model not listed). */
export function modelTrainingDefaults(modelName: string): ModelTrainingDefaults {
  return Object.hasOwn(MODEL_TRAINING_DEFAULTS, modelName) ? MODEL_TRAINING_DEFAULTS[modelName] : {};
}
