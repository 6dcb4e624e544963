import type { GenerationSettings } from '../../kernel/generation-parameters';
import type { SamplerKind } from './scheduler';

/** A LoRA to apply for one generation. */
export interface LoraApplication {
  /** What the PNG metadata and errors call it (the worker gives a private LoRA's id: docs/security.md, "Private LoRAs"). */
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

/**
 * Steps that come closer together than this go to the main thread in one
 * message, and out to Redis in one write (under a frame at 120 Hz).
 */
export const STEP_EVENTS_WINDOW_MS = 8;

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
  /** The file the PNG was also written to (RunOptions.saveTo), when it was. */
  savedTo?: string;
}

/** A clip: `frames` images walking through latent space (pipeline/latent-walk.ts); `count` is ignored. */
export interface VideoRequest extends GenerationRequest {
  frames: number;
  /** Frames from one keyframe to the next (new noise every this many frames). */
  keyframeEvery: number;
  /** The prompt the clip's text states move toward (default: `prompt`, i.e. no prompt change). */
  endPrompt?: string;
}

/** One finished frame, handed over in order. */
export interface VideoFrame {
  /** 0-based frame index. */
  index: number;
  frames: number;
  /** 8-bit RGB, row-major, width × height × 3 bytes. */
  rgb: Uint8Array;
  width: number;
  height: number;
  elapsedMs: number;
  etaMs: number;
  /** Small PNG (≤ 64 px) of the frame, on preview frames. */
  preview?: Buffer;
}

/** Per-clip hooks. */
export interface VideoRunOptions {
  /** Awaited after each frame (in order), so a slow encoder applies back-pressure. */
  onFrame: (frame: VideoFrame) => void | Promise<void>;
  /** Checked before each step of each frame; when aborted the run throws PipelineAbortedError. */
  signal?: AbortSignal;
}

/** Per-run hooks. */
export interface RunOptions {
  /** Awaited after each step, so a slow consumer applies back-pressure. */
  onStep?: (p: StepProgress) => void | Promise<void>;
  /** Checked before each step; when aborted the run throws PipelineAbortedError. */
  signal?: AbortSignal;
  /**
   * Files to write each image's PNG to, by index, as well as returning it
   * (ThreadedPipeline only: in its thread, so the caller's event loop makes
   * no file operations for it). Each is written atomically, a temporary file
   * renamed into place; an image whose file could not be written comes back
   * without `savedTo`, for the caller to store.
   */
  saveTo?: string[];
  /**
   * Called once the sampler's last step is done and delivered, before the
   * latents are decoded to pixels and the images encoded: a worker may take
   * its next job, which then waits (a VAE decode at most) for the pipeline to
   * be free (ThreadedPipeline takes its next run at the pixels, and encodes
   * the images beside it).
   */
  onSampled?: () => void;
}

/** Options for DiffusionPipeline.load. */
export interface PipelineLoadOptions {
  /** Tried in order, e.g. ['cuda', 'cpu']; 'cpu' is always the last resort. */
  executionProviders?: string[];
  /** Threads per ONNX op; default 1 to leave a core for the API on small machines. */
  intraOpNumThreads?: number;
  /** onnxruntime's CPU memory arena (ATELIER_ONNX_CPU_ARENA); default on, as the service's default (docs/operations.md, "Memory"). */
  cpuMemArena?: boolean;
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
  /** Renders a clip frame by frame; same request and model ⇒ identical frames. */
  generateVideo(req: VideoRequest, opts: VideoRunOptions): Promise<void>;
  release(): Promise<void>;
}
