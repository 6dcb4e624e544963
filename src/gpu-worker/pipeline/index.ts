/** The diffusion pipeline: what the GPU worker codes against. */
export { DiffusionPipeline } from './diffusion-pipeline';
export { PipelineError, PipelineAbortedError, type PipelineErrorCode } from './errors';
export type { GenerationRequest, GeneratedImage, LoraApplication, PipelineLoadOptions, RunOptions, StepProgress } from './types';
export { validateRequest } from './request';
export { ClipTokenizer } from './tokenizer';
export { createScheduler, type SamplerKind, type Scheduler, type SchedulerConfig } from './scheduler';
export { SeededRandom } from './rng';
export { encodePng, readPngInfo, type PngInfo } from './png';
export { sessionsCreated } from './onnx-session';
export { hashModelDir, type ModelHash } from './model-files';
