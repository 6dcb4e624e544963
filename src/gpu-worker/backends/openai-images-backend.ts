import { InferenceBackend as BackendKind } from '../../entities/enums';
import { PipelineError } from '../pipeline/errors';
import type { GeneratedImage } from '../pipeline/types';
import { BackendError } from './backend-error';
import { EndpointPool, type PoolObserver, type ResiliencePolicy } from './endpoint-pool';
import { callJson, jsonBody } from './http';
import type { BackendHealthReport, BackendHooks, BackendRequest, InferenceBackend } from './inference-backend';
import { generatedImageOf } from './png-facts';

/** How often an elapsed-time PROGRESS event is sent while the server works (it reports no steps). */
const PROGRESS_EVERY_MS = 1000;

interface ImagesAnswer { data?: { b64_json?: string }[] }

/**
 * A model served by one or more servers speaking the OpenAI Images API
 * (`POST {endpoint}/v1/images/generations`, `response_format: "b64_json"`,
 * Bearer credential). The API has no steps: the job reports step 0 with the
 * elapsed time (and an ETA from the last run) until the answer arrives.
 */
export class OpenAiImagesBackend implements InferenceBackend {
  readonly kind = BackendKind.OPENAI_IMAGES;
  readonly executionProvider = 'openai-images';
  private readonly pool: EndpointPool<string>;
  private lastDurationMs: number | null = null;

  constructor(
    private readonly modelName: string,
    private readonly remoteModel: string,
    endpoints: readonly string[],
    private readonly credential: string | null,
    private readonly policy: ResiliencePolicy,
    observer: PoolObserver,
  ) {
    this.pool = new EndpointPool(endpoints.map((url) => ({ url, endpoint: url.replace(/\/$/, '') })), policy, observer);
  }

  async generate(request: BackendRequest, hooks: BackendHooks): Promise<GeneratedImage[]> {
    if (request.loras?.length) throw new PipelineError('LORA_UNSUPPORTED', 'LoRAs cannot be applied to a hosted image API model', { field: 'loras' });
    const started = Date.now();
    const ticker = setInterval(() => {
      const elapsedMs = Date.now() - started;
      hooks.onStep({ step: 0, totalSteps: request.steps, elapsedMs, etaMs: Math.max(0, (this.lastDurationMs ?? elapsedMs * 2) - elapsedMs) });
    }, PROGRESS_EVERY_MS);
    try {
      const answer = await this.pool.run('OpenAI Images', (base) => callJson<ImagesAnswer>(`${base}/v1/images/generations`, jsonBody({
        model: this.remoteModel, prompt: request.prompt, n: request.count, size: `${request.width}x${request.height}`, response_format: 'b64_json',
      }), { timeoutMs: this.policy.timeoutMs, signal: hooks.signal, headers: this.credential ? { authorization: `Bearer ${this.credential}` } : {} }), hooks.signal);
      const images = (answer.data ?? []).map((item) => item.b64_json).filter((b64): b64 is string => typeof b64 === 'string');
      if (images.length === 0) throw new BackendError('failed', 'bad_response', 'The image API answered without b64_json images');
      this.lastDurationMs = Date.now() - started;
      return images.map((b64, index) => generatedImageOf(Buffer.from(b64, 'base64'), request.seed + index, 'The image API'));
    } finally {
      clearInterval(ticker);
    }
  }

  available(): boolean {
    return this.pool.available;
  }

  recover(): Promise<boolean> {
    return this.pool.recover((base, signal) => this.listModels(base, signal, this.policy.timeoutMs));
  }

  probe(timeoutMs: number): Promise<void> {
    return this.pool.probe((base, signal) => this.listModels(base, signal, timeoutMs));
  }

  /** Liveness for a probe: `GET /v1/models` is cheap on every OpenAI-compatible server. */
  private async listModels(base: string, signal: AbortSignal, timeoutMs: number): Promise<void> {
    await callJson(`${base}/v1/models`, {}, { timeoutMs, signal, headers: this.credential ? { authorization: `Bearer ${this.credential}` } : {} });
  }

  health(): BackendHealthReport {
    return { backend: this.kind, model: this.modelName, endpoints: this.pool.health() };
  }

  /** Nothing to prepare: each request is one HTTP call on fetch's kept-alive connections. */
  warm(): void {}

  release(): void {}
}
