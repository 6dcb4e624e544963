import type { JobFailureCode } from '../../kernel/errors';

/** Why a generation failed: the job failure codes the pipeline itself can report. */
export type PipelineErrorCode = Extract<
  JobFailureCode,
  'MODEL_INVALID' | 'MODEL_LOAD_FAILED' | 'LORA_INVALID' | 'LORA_MISMATCH' | 'LORA_NOT_FOUND' | 'LORA_UNSUPPORTED' | 'INVALID_PARAMETERS' | 'INFERENCE_FAILED'
>;

/** Codes that retrying the same job cannot fix. */
const UNRECOVERABLE: ReadonlySet<PipelineErrorCode> = new Set<PipelineErrorCode>([
  'MODEL_INVALID',
  'LORA_INVALID',
  'LORA_MISMATCH',
  'LORA_NOT_FOUND',
  'LORA_UNSUPPORTED',
  'INVALID_PARAMETERS',
]);

/**
 * A failure with a stable code. `unrecoverable` tells the worker to fail the
 * job at once instead of retrying (bad input or a broken model or LoRA file).
 */
export class PipelineError extends Error {
  readonly unrecoverable: boolean;
  /** The request field at fault, when there is one (e.g. 'width', 'loras[0].path'). */
  readonly field?: string;

  constructor(
    readonly code: PipelineErrorCode,
    message: string,
    options?: { cause?: unknown; field?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PipelineError';
    this.unrecoverable = UNRECOVERABLE.has(code);
    this.field = options?.field;
  }
}

/** Thrown when a run's AbortSignal fires; checked before each sampler step. */
export class PipelineAbortedError extends Error {
  constructor(message = 'generation aborted') {
    super(message);
    this.name = 'PipelineAbortedError';
  }
}
