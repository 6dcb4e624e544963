import { InferenceBackend as BackendKind } from '../../entities/enums';
import { PipelineError } from '../pipeline/errors';
import type { GeneratedImage } from '../pipeline/types';
import { badAnswer, BackendError, isJsonObject, jsonKind } from './backend-error';
import { EndpointPool, type PoolObserver, type ResiliencePolicy } from './endpoint-pool';
import { callJson, jsonBody, type CallOptions } from './http';
import type { BackendHealthReport, BackendHooks, BackendRequest, InferenceBackend } from './inference-backend';
import { generatedImageOf } from './png-facts';

/** How often an elapsed-time PROGRESS event is sent while the server works (it reports no steps). */
const PROGRESS_EVERY_MS = 1000;

/** What a job's error calls this backend (never by its URL: docs/backends.md, "Who sees what"). */
const IMAGE_API = 'The image API';
const GENERATIONS = 'POST /v1/images/generations';

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
      const images = await this.images(request, hooks.signal);
      this.lastDurationMs = Date.now() - started;
      return images;
    } finally {
      clearInterval(ticker);
    }
  }

  /**
   * The job's `count` images. A server may answer fewer than the `n` asked
   * (self-hosted ones that cap or ignore `n`): it is asked again for the
   * missing ones, so the job gets what it asked and was counted for. Every
   * answer brings at least one image or fails, so this ends.
   */
  private async images(request: BackendRequest, signal: AbortSignal): Promise<GeneratedImage[]> {
    const images: GeneratedImage[] = [];
    while (images.length < request.count) {
      const missing = request.count - images.length;
      const firstSeed = request.seed + images.length;
      const answer = await this.pool.run('OpenAI Images', (base) => this.generations(base, request, missing, firstSeed, signal), signal);
      images.push(...answer.slice(0, missing));
    }
    return images;
  }

  /**
   * One `POST /v1/images/generations` for `n` images: one or more PNGs,
   * checked inside the pool's attempt so that an answer of the wrong shape
   * counts as `bad_response`.
   */
  private async generations(base: string, request: BackendRequest, n: number, firstSeed: number, signal: AbortSignal): Promise<GeneratedImage[]> {
    const url = `${base}/v1/images/generations`;
    const body = jsonBody({ model: this.remoteModel, prompt: request.prompt, n, size: `${request.width}x${request.height}`, response_format: 'b64_json' });
    const answer = await callJson(url, body, this.options(signal, this.policy.timeoutMs)).catch((error: unknown) => {
      throw refusal(error);
    });
    const data = isJsonObject(answer) ? answer.data : undefined;
    if (!Array.isArray(data)) throw badAnswer(IMAGE_API, GENERATIONS, url, `without a data list (the body is ${jsonKind(answer)})`);
    const images = data.map((item) => (isJsonObject(item) ? item.b64_json : undefined)).filter((b64): b64 is string => typeof b64 === 'string');
    if (images.length === 0) throw badAnswer(IMAGE_API, GENERATIONS, url, 'without b64_json images');
    return images.map((b64, index) => generatedImageOf(Buffer.from(b64, 'base64'), firstSeed + index, IMAGE_API));
  }

  private options(signal: AbortSignal, timeoutMs: number): CallOptions {
    return { backend: IMAGE_API, timeoutMs, signal, headers: this.credential ? { authorization: `Bearer ${this.credential}` } : {} };
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
    await callJson(`${base}/v1/models`, {}, this.options(signal, timeoutMs));
  }

  health(): BackendHealthReport {
    return { backend: this.kind, model: this.modelName, endpoints: this.pool.health() };
  }

  /** Nothing to prepare: each request is one HTTP call on fetch's kept-alive connections. */
  warm(): void {}

  release(): void {}
}

/** An identifier of OpenAI's error object (`code`, `param`): a word, never free text. */
const IDENTIFIER = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * A 4xx as the job's owner reads it: the status and OpenAI's error `code`
 * and `param` (`invalid_api_key`, `content_policy_violation`, `size`), not
 * its `message`, which can echo the request or part of the key; that stays
 * in the error's detail, for the log.
 */
function refusal(error: unknown): unknown {
  if (!(error instanceof BackendError) || error.kind !== 'rejected') return error;
  let named: string[] = [];
  try {
    const body: unknown = JSON.parse(error.body ?? '');
    const fields = isJsonObject(body) && isJsonObject(body.error) ? body.error : {};
    named = (['code', 'param'] as const).filter((key) => typeof fields[key] === 'string' && IDENTIFIER.test(fields[key])).map((key) => `${key} ${String(fields[key])}`);
  } catch {
    return error;
  }
  if (named.length === 0) return error;
  return new BackendError('rejected', 'rejected', `${error.message}: ${named.join(', ')}`, { body: error.body, detail: error.detail });
}
