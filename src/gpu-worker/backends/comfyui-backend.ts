import { InferenceBackend as BackendKind } from '../../entities/enums';
import type { ComfyWorkflow } from '../../kernel/backends';
import { fillWorkflow } from '../../kernel/comfy-workflow';
import { PipelineError } from '../pipeline/errors';
import type { GeneratedImage } from '../pipeline/types';
import { ComfyEndpoint } from './comfyui-endpoint';
import { EndpointPool, type PoolObserver, type ResiliencePolicy } from './endpoint-pool';
import type { BackendHealthReport, BackendHooks, BackendRequest, InferenceBackend } from './inference-backend';
import { generatedImageOf } from './png-facts';

/** ComfyUI's built-in sampler nodes, which report progress per step (docs/backends.md, "ComfyUI protocol"). */
const SAMPLER_NODES = new Set(['KSampler', 'KSamplerAdvanced', 'SamplerCustom', 'SamplerCustomAdvanced']);

/**
 * A model served by a pool of ComfyUI servers (docs/backends.md): the job's
 * values fill the model's workflow, the pool picks a server and retries on
 * another, and ComfyUI's progress (value/max of the running sampler) is
 * scaled to the job's steps so clients see the usual step/totalSteps. Once
 * every sampler node of the workflow has reported its last step, the rest
 * (VAE decode, saving, the download) runs while the worker takes its next
 * job (`onSampled`), whose prompt then waits in ComfyUI's queue.
 */
export class ComfyUiBackend implements InferenceBackend {
  readonly kind = BackendKind.COMFYUI;
  readonly executionProvider = 'comfyui';
  private readonly pool: EndpointPool<ComfyEndpoint>;
  /** The workflow's sampler nodes, by id. */
  private readonly samplers: ReadonlySet<string>;

  constructor(
    private readonly modelName: string,
    private readonly workflow: ComfyWorkflow,
    endpoints: readonly string[],
    policy: ResiliencePolicy,
    observer: PoolObserver,
  ) {
    this.pool = new EndpointPool(endpoints.map((url) => ({ url, endpoint: new ComfyEndpoint(url, policy.timeoutMs) })), policy, observer);
    this.samplers = new Set(Object.keys(workflow).filter((id) => SAMPLER_NODES.has(workflow[id].class_type)));
  }

  async generate(request: BackendRequest, hooks: BackendHooks): Promise<GeneratedImage[]> {
    // LoRAs are refused for ComfyUI models (BAD_USER_INPUT on `loras` at submit); this guards older queued jobs.
    if (request.loras?.length) throw new PipelineError('LORA_UNSUPPORTED', 'LoRAs cannot be applied to a ComfyUI model: put LoraLoader nodes in its workflow', { field: 'loras' });
    const workflow = fillWorkflow(this.workflow, {
      prompt: request.prompt, negative_prompt: request.negativePrompt ?? '', seed: request.seed, steps: request.steps,
      cfg: request.guidanceScale, width: request.width, height: request.height, batch_size: request.count,
      sampler: request.comfySampler?.sampler ?? 'euler', scheduler: request.comfySampler?.scheduler ?? 'normal',
    });
    const started = Date.now();
    return this.pool.run('ComfyUI', async (endpoint) => {
      // Sampler nodes that reported their last step on this attempt; a workflow with none known (or a sampler
      // ComfyUI took from its cache, which reports nothing) gives its slot up with its images, as every backend does.
      const sampled = new Set<string>();
      const pngs = await endpoint.run(workflow, {
        signal: hooks.signal,
        onStep: (value, max, preview, node) => {
          const step = Math.max(1, Math.min(request.steps, Math.round((value / max) * request.steps)));
          const elapsedMs = Date.now() - started;
          // ComfyUI sends a preview every step; jobs carry one every `previewEvery` steps, as ONNX jobs do (ATELIER_PREVIEW_EVERY).
          const wanted = Boolean(request.previewEvery) && step % request.previewEvery! === 0;
          hooks.onStep({ step, totalSteps: request.steps, elapsedMs, etaMs: Math.round((elapsedMs / step) * (request.steps - step)), preview: wanted ? preview : undefined });
          if (node !== undefined && value >= max && this.samplers.has(node)) {
            sampled.add(node);
            if (sampled.size === this.samplers.size) hooks.onSampled?.();
          }
        },
      });
      // Checked inside the attempt, so an image that is not a PNG counts as `bad_response`, as other bad answers do.
      return pngs.map((png, index) => generatedImageOf(png, request.seed + index, 'ComfyUI'));
    }, hooks.signal);
  }

  available(): boolean {
    return this.pool.available;
  }

  recover(): Promise<boolean> {
    return this.pool.recover((endpoint, signal) => endpoint.probe(signal));
  }

  probe(timeoutMs: number): Promise<void> {
    return this.pool.probe((endpoint, signal) => endpoint.probe(signal, timeoutMs));
  }

  health(): BackendHealthReport {
    return { backend: this.kind, model: this.modelName, endpoints: this.pool.health() };
  }

  /** Opens each usable server's socket while the job's start transition runs (docs/backends.md, "One socket per endpoint"). */
  warm(): void {
    this.pool.prepare((endpoint) => endpoint.warm());
  }

  /** Closes every server's socket once its runs end. */
  release(): void {
    this.pool.forEach((endpoint) => endpoint.release());
  }
}
