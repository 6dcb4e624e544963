import { captionConditions, prepareImages } from './dataset';
import { encodeByInversion } from './latent-encoding';
import { LocalRun, type RunInputs } from './local-run';
import { validateTrainingSpec } from './spec-validation';
import { tfReady } from './tf';
import { loadTinyWeights } from './tiny-weights';
import type { TrainingBackend, TrainingHooks, TrainingResult, TrainingSpec } from './types';

/** Tuning of the local trainer that is not part of a run's spec. */
export interface LocalTrainerOptions {
  /** Sampler steps of the sample images (default 20, the tiny model's default). */
  sampleSteps?: number;
  /** Gradient steps that encode each training image to latents (default 150). */
  encodingIterations?: number;
}

/**
 * Trains a LoRA for the bundled tiny model in this process: real gradient
 * descent with @tensorflow/tfjs-core's autodiff on the LoRA matrices of the
 * UNet's adaptable layers, over the model's denoising loss (docs/training.md).
 */
export class LocalTrainer implements TrainingBackend {
  readonly name = 'local';

  constructor(private readonly options: LocalTrainerOptions = {}) {}

  async train(spec: TrainingSpec, hooks: TrainingHooks = {}, signal?: AbortSignal): Promise<TrainingResult> {
    validateTrainingSpec(spec);
    await tfReady();
    const inputs = await this.prepare(spec);
    const run = new LocalRun(spec, inputs, { sampleSteps: this.options.sampleSteps ?? 20 });
    try {
      return await run.execute(hooks, signal);
    } finally {
      await run.dispose();
    }
  }

  /** The weights, the images as latents and the captions as text conditions. */
  async prepare(spec: TrainingSpec): Promise<RunInputs> {
    const weights = await loadTinyWeights(spec.modelDir);
    const images = await prepareImages(spec.images, spec.resolution);
    const text = await captionConditions(spec.modelDir, images.captions);
    const encoded = await encodeByInversion(weights.decoder, images.pixels, images.count, images.size, this.options.encodingIterations);
    return { weights, text, latents: encoded.latents, reconstructionError: encoded.reconstructionError, count: images.count, datasetHash: images.hash };
  }
}
