/**
 * The training backends' contract (docs/training.md). A backend fits a LoRA
 * for a base model on a captioned image set and reports as it goes; the
 * training service (queue, events, checkpoints in the artifact store, resume)
 * drives any backend through this interface alone.
 *
 * - `LocalTrainer` (local-trainer.ts): real gradient descent with
 *   @tensorflow/tfjs-core on the bundled tiny model.
 * - `CommandTrainer` (command-trainer.ts): runs a configured command line
 *   such as kohya_ss sd-scripts' train_network.py and parses its output.
 */

/** One training image: its encoded bytes (PNG, JPEG or WebP) or a file path, and its caption. */
export interface TrainingImage {
  /** Encoded image bytes; `path` is read when absent. */
  bytes?: Buffer;
  /** A PNG, JPEG or WebP file on this machine. */
  path?: string;
  caption: string;
}

/** Everything that determines a training run; the same spec and seed give the same LoRA. */
export interface TrainingSpec {
  /** The base model's folder (diffusers ONNX layout, model_index.json). */
  modelDir: string;
  images: TrainingImage[];
  /** LoRA rank (kohya's network_dim). */
  rank: number;
  /** LoRA alpha: the update is scaled by alpha / rank (kohya's network_alpha). */
  alpha: number;
  learningRate: number;
  /** Optimizer steps in all, including any already done by `resume`. */
  steps: number;
  batchSize: number;
  /** Square training resolution in pixels (a multiple of 8). */
  resolution: number;
  seed: number;
  /** Checkpoint (and sample) every N steps; 0 = only at the end. */
  saveEvery: number;
  /**
   * Min-SNR-γ loss weighting (kohya's --min_snr_gamma; 5 is the paper's
   * value); absent: plain mean squared error.
   */
  minSnrGamma?: number;
  /** Lowest training timestep drawn (kohya's --min_timestep; default 0). */
  minTimestep?: number;
  /** Prompts rendered at every save point with the current weights; may be empty. */
  samplePrompts: string[];
  /** Continue from this checkpoint instead of from zero. */
  resume?: TrainingCheckpoint;
}

/**
 * A resumable point of a run: continuing from it gives, step for step, the
 * run that would have happened without the interruption.
 */
export interface TrainingCheckpoint {
  /** Optimizer steps done. */
  step: number;
  /** The LoRA so far (the same layout as TrainingResult.lora). */
  lora: Buffer;
  /** Backend-specific optimizer state (safetensors for the local trainer); empty when the backend keeps none. */
  optimizerState: Buffer;
}

/** Reported after every optimizer step. */
export interface TrainingProgress {
  step: number;
  totalSteps: number;
  /** This step's loss (mean squared error of the predicted noise). */
  loss: number;
  learningRate: number;
  /** Seconds left at the current pace. */
  etaSeconds: number;
}

/**
 * The loss on the run's fixed evaluation draw at `step` (every image at six
 * timesteps across the schedule, the same noise each time): unlike the
 * per-step loss, comparable between steps, so its curve shows the fit.
 * Reported at step 0 (the base model), every `evaluationInterval(steps)`
 * steps, at every save point and at the last step.
 */
export interface TrainingEvaluation { step: number; loss: number }

/** Images rendered at a save point, one PNG per sample prompt, in the order of TrainingSpec.samplePrompts. */
export interface TrainingSamples { step: number; images: Buffer[] }

/** Called as the run goes; each is awaited, so a slow consumer slows the run rather than losing reports. */
export interface TrainingHooks {
  onProgress?(progress: TrainingProgress): void | Promise<void>;
  onEvaluation?(evaluation: TrainingEvaluation): void | Promise<void>;
  onCheckpoint?(checkpoint: TrainingCheckpoint): void | Promise<void>;
  onSample?(samples: TrainingSamples): void | Promise<void>;
}

/** A finished run. */
export interface TrainingResult {
  /** kohya-layout safetensors (`lora_unet_<layer>.lora_up/.lora_down/.alpha`), what src/gpu-worker/lora/ loads. */
  lora: Buffer;
  /** Every step's training loss (the minibatch at its sampled timesteps: noisy). */
  lossCurve: Array<{ step: number; loss: number }>;
  /** The evaluations reported (TrainingEvaluation), including those before a resume; empty when the backend has none. */
  evaluationCurve: Array<{ step: number; loss: number }>;
  /**
   * The evaluation loss of the final LoRA and of the base model (the last and
   * first points of evaluationCurve); a backend without evaluations gives its
   * last and first step losses.
   */
  finalLoss: number;
  initialLoss: number;
  /** sha256 over the images' bytes and captions, in order. */
  datasetHash: string;
}

/**
 * A way to train. `train` resolves with the result, or rejects with a
 * TrainingError; when `signal` aborts it stops before the next step and
 * rejects with code CANCELLED (the last checkpoint reported stays valid).
 */
export interface TrainingBackend {
  readonly name: string;
  train(spec: TrainingSpec, hooks: TrainingHooks, signal?: AbortSignal): Promise<TrainingResult>;
}

/** Why a run failed: INVALID_SPEC (bad input, with the field), UNSUPPORTED_MODEL, CANCELLED, FAILED. */
export type TrainingErrorCode = 'INVALID_SPEC' | 'UNSUPPORTED_MODEL' | 'CANCELLED' | 'FAILED';

/** A training failure with a code the service maps to its own. */
export class TrainingError extends Error {
  constructor(readonly code: TrainingErrorCode, message: string, readonly field?: string) {
    super(message);
    this.name = 'TrainingError';
  }
}
