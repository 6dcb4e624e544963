import sharp from 'sharp';
import { PipelineAbortedError } from '../../../src/gpu-worker/pipeline/errors';
import type { GeneratedImage, GenerationRequest, ImagePipeline } from '../../../src/gpu-worker/pipeline/types';
import { delay } from '../renderer';
import type { NodeContext, NodeDefinition, NodeResult, SavedImage } from './nodes';
import type { OutputFolder } from './output-folder';
import type { ApiPrompt } from './validation';

/**
 * Runs one queued prompt the way ComfyUI's PromptExecutor and main.py's
 * prompt_worker do, sending the same WebSocket messages in the same order:
 * execution_start, execution_cached, then per node progress_state and
 * executing, per sampler step progress_state, progress and a binary preview,
 * executed for output nodes, and finally execution_success (or
 * execution_error / execution_interrupted). Outputs of nodes whose inputs did
 * not change since the previous prompt are reused and listed as cached, as
 * ComfyUI's cache does.
 */

/** A prompt in the queue: ComfyUI's tuple `(number, prompt_id, prompt, extra_data, outputs_to_execute)`. */
export interface QueueItem { number: number; promptId: string; prompt: ApiPrompt; extraData: Record<string, unknown>; outputs: string[] }

/** What the executor sends through; the server routes to a client's socket (sid) or to every socket (null). */
export interface Channel {
  send(event: string, data: Record<string, unknown>, sid: string | null): void;
  sendPreview(image: Buffer, format: 'JPEG' | 'PNG', metadata: Record<string, unknown>, sid: string | null): void;
}

/** GET /history/{prompt_id}'s entry. */
export interface HistoryEntry {
  prompt: [number, string, ApiPrompt, Record<string, unknown>, string[]];
  outputs: Record<string, { images: SavedImage[] }>;
  status: { status_str: 'success' | 'error'; completed: boolean; messages: [string, Record<string, unknown>][] };
  meta: Record<string, { node_id: string; display_node: string; parent_node: null; real_node_id: string }>;
}

export interface ExecutorOptions {
  defs: Record<string, NodeDefinition>;
  pipeline: ImagePipeline;
  folder: OutputFolder;
  channel: Channel;
  /** Time each sampler step takes on top of the tiny model's own (simulates a GPU's step time). */
  stepDelayMs: number;
  previewFormat: 'JPEG' | 'PNG' | 'none';
  /** Called when a node starts, so a reconnecting client can be told (server.py's last_node_id). */
  onNode(node: string | null): void;
}

interface Cached { signature: string; result: NodeResult }

class NodeFailure extends Error {
  constructor(readonly nodeId: string, override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

export class PromptExecutor {
  private cache = new Map<string, Cached>();
  private injectedFailure: string | null = null;

  constructor(private readonly opts: ExecutorOptions) {}

  /** Makes the next KSampler raise `message` (a node exception, reported as execution_error). */
  failNextSampler(message: string): void {
    this.injectedFailure = message;
  }

  async execute(item: QueueItem, signal: AbortSignal): Promise<HistoryEntry> {
    const sid = typeof item.extraData.client_id === 'string' ? item.extraData.client_id : null;
    const messages: HistoryEntry['status']['messages'] = [];
    const record = (event: string, data: Record<string, unknown>, broadcast = false): void => {
      const stamped = { ...data, timestamp: Date.now() };
      messages.push([event, stamped]);
      if (sid !== null || broadcast) this.opts.channel.send(event, stamped, sid);
    };
    const run = new PromptRun(this.opts, item, sid, signal, this.cache, () => this.takeFailure());
    record('execution_start', { prompt_id: item.promptId });
    record('execution_cached', { nodes: run.cachedNodes(), prompt_id: item.promptId });
    const entry: HistoryEntry = { prompt: [item.number, item.promptId, item.prompt, item.extraData, item.outputs], outputs: {}, status: { status_str: 'success', completed: true, messages }, meta: {} };
    try {
      await run.executeOutputs();
      record('execution_success', { prompt_id: item.promptId });
    } catch (error) {
      const failure = error instanceof NodeFailure ? error : new NodeFailure(item.outputs[0], error);
      const base = { prompt_id: item.promptId, node_id: failure.nodeId, node_type: item.prompt[failure.nodeId]?.class_type, executed: run.executed() };
      if (failure.cause instanceof PipelineAbortedError || signal.aborted) record('execution_interrupted', base, true);
      else record('execution_error', { ...base, exception_message: failure.message, exception_type: exceptionType(failure.cause), traceback: [], current_inputs: {}, current_outputs: {} });
      entry.status = { status_str: 'error', completed: false, messages };
    } finally {
      this.cache = run.cacheAfter();
      this.opts.onNode(null);
    }
    Object.assign(entry, run.history());
    return entry;
  }

  private takeFailure(): string | null {
    const message = this.injectedFailure;
    this.injectedFailure = null;
    return message;
  }
}

function exceptionType(cause: unknown): string {
  return cause instanceof Error ? `atelier.${cause.constructor.name}` : 'Exception';
}

/** The state of one prompt's execution: node outputs, executed set, UI outputs. */
class PromptRun {
  private readonly results = new Map<string, NodeResult>();
  private readonly signatures = new Map<string, string>();
  private readonly done = new Set<string>();
  private readonly cached = new Set<string>();
  private readonly ui: HistoryEntry['outputs'] = {};
  private readonly states: Record<string, Record<string, unknown>> = {};

  constructor(private readonly opts: ExecutorOptions, private readonly item: QueueItem, private readonly sid: string | null,
    private readonly signal: AbortSignal, private readonly previous: Map<string, Cached>, private readonly takeFailure: () => string | null) {
    for (const id of Object.keys(item.prompt)) {
      const before = previous.get(id);
      if (before && before.signature === this.signature(id)) {
        this.results.set(id, before.result);
        this.cached.add(id);
      }
    }
  }

  cachedNodes(): string[] {
    return [...this.cached];
  }

  executed(): string[] {
    return [...this.done];
  }

  async executeOutputs(): Promise<void> {
    for (const output of this.item.outputs) await this.executeNode(output);
  }

  history(): Pick<HistoryEntry, 'outputs' | 'meta'> {
    const meta = Object.fromEntries(Object.keys(this.ui).map((id) => [id, { node_id: id, display_node: id, parent_node: null, real_node_id: id }]));
    return { outputs: this.ui, meta };
  }

  /** The cache the next prompt starts from: this prompt's finished nodes. */
  cacheAfter(): Map<string, Cached> {
    const next = new Map<string, Cached>();
    for (const [id, result] of this.results) next.set(id, { signature: this.signature(id), result });
    return next;
  }

  private async executeNode(id: string): Promise<void> {
    if (this.done.has(id)) return;
    const node = this.item.prompt[id];
    const inputs: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(node.inputs ?? {})) {
      if (!Array.isArray(value)) {
        inputs[name] = value;
        continue;
      }
      await this.executeNode(String(value[0]));
      inputs[name] = this.results.get(String(value[0]))!.outputs[value[1] as number];
    }
    this.done.add(id);
    const cached = this.results.get(id);
    if (cached) {
      if (cached.ui) this.sendExecuted(id, cached.ui);
      return;
    }
    if (this.signal.aborted) throw new NodeFailure(id, new PipelineAbortedError('interrupted'));
    this.progressState(id, 'running', 0, 1);
    this.opts.onNode(id);
    this.send('executing', { node: id, display_node: id, prompt_id: this.item.promptId });
    const result = await this.opts.defs[node.class_type!].run(inputs, this.context(id)).catch((error: unknown) => {
      throw new NodeFailure(id, error);
    });
    this.results.set(id, result);
    if (result.ui) this.sendExecuted(id, result.ui);
    this.progressState(id, 'finished', 1, 1);
  }

  private sendExecuted(id: string, ui: { images: SavedImage[] }): void {
    this.ui[id] = ui;
    this.send('executed', { node: id, display_node: id, output: ui, prompt_id: this.item.promptId });
  }

  private context(id: string): NodeContext {
    return {
      render: (request) => this.render(id, request),
      save: (images, prefix, type) => this.opts.folder.save(images.map((i) => i.png), prefix, type),
    };
  }

  private async render(id: string, request: GenerationRequest): Promise<GeneratedImage[]> {
    const failure = this.takeFailure();
    if (failure) throw new Error(failure);
    const previews = this.opts.previewFormat !== 'none';
    const images = await this.opts.pipeline.generate({ ...request, previewEvery: previews ? 1 : 0 }, {
      signal: this.signal,
      onStep: async (step) => {
        await delay(this.opts.stepDelayMs);
        if (this.signal.aborted) return;
        this.progressState(id, 'running', step.step, step.totalSteps);
        // main.py's hook sends progress to the prompt's client, or to everyone when it has none.
        this.opts.channel.send('progress', { value: step.step, max: step.totalSteps, prompt_id: this.item.promptId, node: id }, this.sid);
        if (step.preview && this.opts.previewFormat !== 'none') await this.preview(id, step.preview);
      },
    });
    // The thread may finish its last steps before it sees the abort; ComfyUI's sampler stops at the next step.
    if (this.signal.aborted) throw new PipelineAbortedError('interrupted');
    return images;
  }

  private async preview(id: string, png: Buffer): Promise<void> {
    const format = this.opts.previewFormat === 'PNG' ? 'PNG' : 'JPEG';
    const image = format === 'PNG' ? png : await sharp(png).jpeg({ quality: 95 }).toBuffer();
    const metadata = { node_id: id, prompt_id: this.item.promptId, display_node_id: id, parent_node_id: null, real_node_id: id };
    this.opts.channel.sendPreview(image, format, metadata, this.sid);
  }

  /** comfy_execution/progress.py's progress_state, which ComfyUI sends to every socket. */
  private progressState(id: string, state: 'running' | 'finished', value: number, max: number): void {
    this.states[id] = { value, max, state, node_id: id, prompt_id: this.item.promptId, display_node_id: id, parent_node_id: null, real_node_id: id };
    this.opts.channel.send('progress_state', { prompt_id: this.item.promptId, nodes: { ...this.states } }, null);
  }

  private send(event: string, data: Record<string, unknown>): void {
    if (this.sid !== null) this.opts.channel.send(event, data, this.sid);
  }

  /** A node's identity for the cache: its class, literal inputs and its upstream nodes' signatures. */
  private signature(id: string): string {
    const known = this.signatures.get(id);
    if (known !== undefined) return known;
    this.signatures.set(id, `cycle:${id}`);
    const node = this.item.prompt[id];
    const inputs = Object.entries(node.inputs ?? {}).map(([name, v]) => [name, Array.isArray(v) ? [this.signature(String(v[0])), v[1]] : v]);
    const signature = JSON.stringify([node.class_type, inputs]);
    this.signatures.set(id, signature);
    return signature;
  }
}
