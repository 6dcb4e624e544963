import type { InferenceBackend as BackendKind } from '../../entities/enums';
import type { EndpointHealth } from '../../kernel/backends';
import type { GeneratedImage, GenerationRequest, StepProgress } from '../pipeline/types';

/**
 * The one contract every inference backend fulfils (docs/backends.md): the
 * ONNX pipeline in this process, a pool of ComfyUI servers, an OpenAI-Images
 * server. The worker drives a job through it and never knows which it is.
 */
export interface InferenceBackend {
  readonly kind: BackendKind;
  /** Where the job ran, for the STARTED event (`cpu`, `cuda`, `comfyui`, …). */
  readonly executionProvider: string;
  /**
   * Renders the images of one job. Calls `onStep` per step (with a preview
   * when the backend sends one) and stops with PipelineAbortedError once
   * `signal` fires; failures are PipelineError or BackendError.
   */
  generate(request: BackendRequest, hooks: BackendHooks): Promise<GeneratedImage[]>;
  /** Endpoint health (remote backends) for /readyz, systemStats and the health store. */
  health(): BackendHealthReport;
  /** Frees what the backend holds (loaded sessions, sockets). */
  release(): Promise<void> | void;
}

/** A job's request as every backend receives it. */
export interface BackendRequest extends GenerationRequest {
  jobId: string;
  /** ComfyUI's sampler and scheduler names for the job's sampler, or null for the workflow's own. */
  comfySampler?: { sampler: string; scheduler: string } | null;
}

export interface BackendHooks {
  onStep: (progress: StepProgress) => void;
  signal: AbortSignal;
  /** Where to write each image's PNG as it is made (RunOptions.saveTo); backends that cannot leave it out of their images. */
  saveTo?: string[];
  /** The backend's part of the work that holds a render slot is nearly over (RunOptions.onSampled); not every backend calls it. */
  onSampled?: () => void;
}

/** What a backend says about itself: the state of each endpoint (empty for ONNX). */
export interface BackendHealthReport {
  backend: BackendKind;
  model: string;
  endpoints: EndpointHealth[];
}
