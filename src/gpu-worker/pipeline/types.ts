import type { GenerationSettings } from '../../kernel/generation-parameters';
import type { SamplerKind } from './scheduler';

/** A LoRA to apply for one generation. */
export interface LoraApplication {
  /** Display name, recorded in the PNG metadata. */
  name: string;
  /** Path of the .safetensors file on the worker. */
  path: string;
  /** Strength; 0 leaves the output exactly as without the LoRA. */
  weight: number;
}

/**
 * Everything that determines the images of one generation: the settings the
 * API validated (ranges in kernel/generation-parameters.ts, checked again by
 * validateRequest) plus options only the pipeline knows.
 */
export interface GenerationRequest extends GenerationSettings {
  negativePrompt?: string;
  loras?: LoraApplication[];
  /** Attach a latent preview every N steps (0 or absent = never). */
  previewEvery?: number;
  /** Model name recorded in the PNG text chunks (default: the model's own name). */
  modelName?: string;
  /** Overrides the sampler chosen from scheduler_config.json. */
  sampler?: SamplerKind | null;
}

/** Emitted after every sampler step. */
export interface StepProgress {
  /** 1-based step just finished. */
  step: number;
  totalSteps: number;
  elapsedMs: number;
  /** Estimated time to finish the remaining steps and the decode. */
  etaMs: number;
  /** Small PNG (≤ 64 px) of the first image's latents, on preview steps. */
  preview?: Buffer;
}

/** One finished image. */
export interface GeneratedImage {
  png: Buffer;
  seed: number;
  width: number;
  height: number;
  /** sha256 of the PNG bytes, hex. */
  sha256: string;
}

/** Per-run hooks. */
export interface RunOptions {
  /** Awaited after each step, so a slow consumer applies back-pressure. */
  onStep?: (p: StepProgress) => void | Promise<void>;
  /** Checked before each step; when aborted the run throws PipelineAbortedError. */
  signal?: AbortSignal;
}

/** Options for DiffusionPipeline.load. */
export interface PipelineLoadOptions {
  /** Tried in order, e.g. ['cuda', 'cpu']; 'cpu' is always the last resort. */
  executionProviders?: string[];
  /** Threads per ONNX op; default 1 to leave a core for the API on small machines. */
  intraOpNumThreads?: number;
}

/**
 * What the worker needs of a loaded model: DiffusionPipeline in this thread,
 * or ThreadedPipeline running one in a worker thread.
 */
export interface ImagePipeline {
  readonly executionProvider: string;
  readonly modelDir: string;
  readonly modelName: string;
  readonly modelHash: string;
  readonly supportsLora: boolean;
  readonly approxBytes: number;
  /** False once released (or, for a thread, once the thread died): load it again. */
  readonly usable: boolean;
  generate(req: GenerationRequest, opts?: RunOptions): Promise<GeneratedImage[]>;
  release(): Promise<void>;
}
