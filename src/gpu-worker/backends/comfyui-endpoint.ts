import type { ComfyWorkflow } from '../../kernel/backends';
import { PipelineAbortedError } from '../pipeline/errors';
import { BackendError } from './backend-error';
import { describeRejection, PromptTracker, type ComfyImage, type PromptRejection, type TrackerEvent } from './comfyui-messages';
import { ComfySocket, type ComfyConnection } from './comfyui-socket';
import { call, callJson, jsonBody, type CallOptions } from './http';

/** What one ComfyUI run reports as it goes. */
export interface ComfyRunHooks {
  /** A step of the sampler node `node` (when ComfyUI names it). */
  onStep: (step: number, totalSteps: number, preview?: Buffer, node?: string) => void;
  signal: AbortSignal;
}

type History = Record<string, { outputs?: Record<string, { images?: ComfyImage[] }>; status?: { status_str?: string } }>;

/**
 * A client of one ComfyUI server (its base URL), speaking ComfyUI's own API
 * over one WebSocket that every prompt shares (ComfySocket): `POST /prompt`
 * with the socket's `client_id`, follow the prompt's messages, fetch each
 * output image with `/view` as soon as `executed` names it, and take the
 * final list from `/history/{prompt_id}`. A cancel deletes a queued prompt
 * (`POST /queue`) or interrupts a running one (`POST /interrupt`).
 */
export class ComfyEndpoint {
  private readonly socket: ComfySocket;

  constructor(readonly baseUrl: string, private readonly timeoutMs: number) {
    this.socket = new ComfySocket(baseUrl, timeoutMs);
  }

  /** Runs `workflow` and returns the PNG bytes of its output images, in history order. */
  async run(workflow: ComfyWorkflow, hooks: ComfyRunHooks): Promise<Buffer[]> {
    if (hooks.signal.aborted) throw new PipelineAbortedError();
    const connection = await this.socket.connect(hooks.signal);
    // A short prompt can finish before POST /prompt answers: its frames are kept until it is followed.
    const submitted = connection.expect();
    const views = new Map<string, Promise<Buffer>>();
    try {
      const promptId = await this.submit(workflow, connection.clientId, hooks.signal);
      const executed = await this.follow(connection, promptId, hooks, submitted, (image) => this.prefetch(views, image, hooks.signal));
      return await this.outputs(promptId, executed, views, hooks.signal);
    } finally {
      submitted();
      this.socket.settled();
    }
  }

  /** Opens the socket ahead of a job, so the job's start and the socket's set-up overlap. */
  warm(): void {
    this.socket.warm();
  }

  /** Closes the socket once the runs in flight end. */
  release(): void {
    this.socket.release();
  }

  /** Liveness for a probe: `GET /system_stats` answers on every ComfyUI. */
  async probe(signal: AbortSignal, timeoutMs = this.timeoutMs): Promise<void> {
    await call(`${this.baseUrl}/system_stats`, {}, { timeoutMs, signal });
  }

  private options(signal: AbortSignal): CallOptions {
    return { timeoutMs: this.timeoutMs, signal };
  }

  private async submit(workflow: ComfyWorkflow, clientId: string, signal: AbortSignal): Promise<string> {
    const url = `${this.baseUrl}/prompt`;
    try {
      const answer = await callJson<{ prompt_id?: string }>(url, jsonBody({ prompt: workflow, client_id: clientId }), this.options(signal));
      if (typeof answer.prompt_id !== 'string') throw new BackendError('transient', 'bad_response', `${url} answered without a prompt_id`);
      return answer.prompt_id;
    } catch (error) {
      // ComfyUI validates before queueing: 400 with node_errors means the workflow itself is wrong.
      if (error instanceof BackendError && error.kind === 'rejected') throw new BackendError('rejected', 'rejected', rejectionMessage(error));
      throw error;
    }
  }

  /**
   * Resolves, with the images `executed` named, when the prompt finished;
   * rejects on its error, a closed or silent socket, or a cancel. A socket
   * silent for the timeout is dropped: the server is gone for every prompt
   * on it, and the next run connects again.
   */
  private follow(
    connection: ComfyConnection, promptId: string, hooks: ComfyRunHooks, followed: () => void, onImage: (image: ComfyImage) => void,
  ): Promise<ComfyImage[]> {
    const tracker = new PromptTracker(promptId);
    const executed: ComfyImage[] = [];
    return new Promise<ComfyImage[]>((resolve, reject) => {
      let settled = false;
      let idle: NodeJS.Timeout;
      let stop = () => undefined as void;
      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(idle);
        stop();
        hooks.signal.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(executed);
      };
      const armIdle = () => {
        clearTimeout(idle);
        idle = setTimeout(() => {
          const error = new BackendError('transient', 'timeout', `${this.baseUrl} sent nothing for ${this.timeoutMs} ms`);
          finish(error);
          connection.drop(error);
        }, this.timeoutMs);
      };
      const handle = (events: TrackerEvent[]) => {
        for (const event of events) {
          if (event.kind === 'step') hooks.onStep(event.step, event.totalSteps, event.preview, event.node);
          else if (event.kind === 'images') for (const image of event.images) { executed.push(image); onImage(image); }
          else if (event.kind === 'done') finish();
          else if (event.kind === 'failed') finish(event.error);
          else if (event.kind === 'interrupted') finish(hooks.signal.aborted ? new PipelineAbortedError() : new BackendError('failed', 'execution_error', `${this.baseUrl} interrupted the prompt`));
        }
      };
      const onAbort = () => void this.cancel(promptId, tracker.running).finally(() => finish(new PipelineAbortedError()));
      hooks.signal.addEventListener('abort', onAbort, { once: true });
      armIdle();
      stop = connection.follow(promptId, {
        heard: armIdle,
        frame: (message, binary) => handle(binary ? tracker.binary(binary) : tracker.message(message!)),
        closed: (error) => finish(new BackendError('transient', 'socket_closed', error
          ? `${this.baseUrl} WebSocket failed (${error.message})`
          : `${this.baseUrl} closed the WebSocket mid-run`, { cause: error })),
      });
      if (settled) stop();
      followed();
      if (hooks.signal.aborted) onAbort();
    });
  }

  /** Deletes a queued prompt or interrupts a running one; best effort (the server may be gone). */
  private async cancel(promptId: string, running: boolean): Promise<void> {
    const options: CallOptions = { timeoutMs: this.timeoutMs, signal: new AbortController().signal };
    const request = running
      ? call(`${this.baseUrl}/interrupt`, jsonBody({ prompt_id: promptId }), options)
      : call(`${this.baseUrl}/queue`, jsonBody({ delete: [promptId] }), options);
    await request.catch(() => undefined);
  }

  /** Starts fetching an output image as soon as `executed` names it (the run awaits it after `/history`). */
  private prefetch(views: Map<string, Promise<Buffer>>, image: ComfyImage, signal: AbortSignal): void {
    if ((image.type ?? 'output') !== 'output' || views.has(imageKey(image))) return;
    const view = this.view(image, signal);
    view.catch(() => undefined); // awaited, and its failure seen, in `outputs` when the image is listed
    views.set(imageKey(image), view);
  }

  /**
   * The images of the finished prompt: output images first; preview-only
   * workflows give their temp images. `/history` is the list (it includes
   * outputs served from ComfyUI's cache, which send no `executed`); the
   * images `executed` named stand in when history does not list the prompt
   * yet. Images already being fetched are not fetched again.
   */
  private async outputs(promptId: string, executed: ComfyImage[], views: Map<string, Promise<Buffer>>, signal: AbortSignal): Promise<Buffer[]> {
    const history = await callJson<History>(`${this.baseUrl}/history/${encodeURIComponent(promptId)}`, {}, this.options(signal));
    const entry = history[promptId];
    const images = entry ? Object.values(entry.outputs ?? {}).flatMap((output) => output.images ?? []) : executed;
    const chosen = images.some((image) => image.type === 'output') ? images.filter((image) => image.type === 'output') : images;
    if (chosen.length === 0) throw new BackendError('failed', 'bad_response', `${this.baseUrl} finished prompt ${promptId} without output images`);
    return Promise.all(chosen.map((image) => views.get(imageKey(image)) ?? this.view(image, signal)));
  }

  private view(image: ComfyImage, signal: AbortSignal): Promise<Buffer> {
    const query = new URLSearchParams({ filename: image.filename, subfolder: image.subfolder ?? '', type: image.type ?? 'output' });
    return call(`${this.baseUrl}/view?${query}`, {}, this.options(signal));
  }
}

const imageKey = (image: ComfyImage): string => JSON.stringify([image.type ?? 'output', image.subfolder ?? '', image.filename]);

/** The error text of a 400 from /prompt, made readable when it is ComfyUI's JSON. */
function rejectionMessage(error: BackendError): string {
  try {
    return describeRejection(JSON.parse(error.body ?? '') as PromptRejection);
  } catch {
    return error.message;
  }
}
