import { InferenceBackend as BackendKind } from '../../entities/enums';
import type { GeneratedImage, ImagePipeline } from '../pipeline/types';
import type { BackendHealthReport, BackendHooks, BackendRequest, InferenceBackend } from './inference-backend';

/**
 * Today's pipeline behind the backend contract: the ONNX model loaded (or
 * found loaded) in the worker's pipeline cache renders the job in a thread.
 */
export class OnnxBackend implements InferenceBackend {
  readonly kind = BackendKind.ONNX;

  constructor(readonly pipeline: ImagePipeline) {}

  get executionProvider(): string {
    return this.pipeline.executionProvider;
  }

  generate(request: BackendRequest, hooks: BackendHooks): Promise<GeneratedImage[]> {
    return this.pipeline.generate(request, hooks);
  }

  health(): BackendHealthReport {
    return { backend: this.kind, model: this.pipeline.modelName, endpoints: [] };
  }

  release(): void {}
}
