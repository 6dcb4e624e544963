import type { ComfyWorkflow } from '../../kernel/backends';
import { PipelineAbortedError } from '../pipeline/errors';
import { badAnswer, BackendError, isJsonObject, jsonKind } from './backend-error';
import { describeRejection, PromptTracker, type ComfyImage, type PromptRejection, type TrackerEvent } from './comfyui-messages';
import { ComfySocket, type ComfyConnection } from './comfyui-socket';
import { call, callJson, jsonBody, type CallOptions } from './http';

/** What one ComfyUI run reports as it goes. */
export interface ComfyRunHooks {
  /** A step of the sampler node `node` (when ComfyUI names it). */
  onStep: (step: number, totalSteps: number, preview?: Buffer, node?: string) => void;
  signal: AbortSignal;
}

/** What a job's error calls this backend (never by its URL: docs/backends.md, "Who sees what"). */
const COMFYUI = 'ComfyUI';

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
    await call(`${this.baseUrl}/system_stats`, {}, { backend: COMFYUI, timeoutMs, signal });
  }

  private options(signal: AbortSignal): CallOptions {
    return { backend: COMFYUI, timeoutMs: this.timeoutMs, signal };
  }

  private async submit(workflow: ComfyWorkflow, clientId: string, signal: AbortSignal): Promise<string> {
    const url = `${this.baseUrl}/prompt`;
    try {
      const answer = await callJson(url, jsonBody({ prompt: workflow, client_id: clientId }), this.options(signal));
      const promptId = isJsonObject(answer) ? answer.prompt_id : undefined;
      if (typeof promptId !== 'string') throw badAnswer(COMFYUI, 'POST /prompt', url, `without a prompt_id (the body is ${jsonKind(answer)})`);
      return promptId;
    } catch (error) {
      // ComfyUI validates before queueing: 400 with node_errors means the workflow itself is wrong.
      if (error instanceof BackendError && error.kind === 'rejected') throw new BackendError('rejected', 'rejected', rejectionMessage(error), { detail: error.detail });
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
          const error = new BackendError('transient', 'timeout', `the WebSocket sent nothing for ${this.timeoutMs} ms`, { detail: `${this.baseUrl} sent nothing for ${this.timeoutMs} ms` });
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
          else if (event.kind === 'interrupted') finish(hooks.signal.aborted ? new PipelineAbortedError() : interrupted(this.baseUrl));
        }
      };
      const onAbort = () => void this.cancel(promptId, tracker.running).finally(() => finish(new PipelineAbortedError()));
      hooks.signal.addEventListener('abort', onAbort, { once: true });
      armIdle();
      stop = connection.follow(promptId, {
        heard: armIdle,
        frame: (message, binary) => handle(binary ? tracker.binary(binary) : tracker.message(message!)),
        closed: (error) => finish(socketClosed(this.baseUrl, error)),
      });
      if (settled) stop();
      followed();
      if (hooks.signal.aborted) onAbort();
    });
  }

  /** Deletes a queued prompt or interrupts a running one; best effort (the server may be gone). */
  private async cancel(promptId: string, running: boolean): Promise<void> {
    const options = this.options(new AbortController().signal);
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
    const url = `${this.baseUrl}/history/${encodeURIComponent(promptId)}`;
    const images = historyImages(await callJson(url, {}, this.options(signal)), promptId, url) ?? executed;
    const chosen = images.some((image) => image.type === 'output') ? images.filter((image) => image.type === 'output') : images;
    if (chosen.length === 0) {
      throw new BackendError('failed', 'bad_response', 'ComfyUI finished the prompt without output images', { detail: `${this.baseUrl} finished prompt ${promptId} without output images` });
    }
    return Promise.all(chosen.map((image) => views.get(imageKey(image)) ?? this.view(image, signal)));
  }

  private view(image: ComfyImage, signal: AbortSignal): Promise<Buffer> {
    const query = new URLSearchParams({ filename: image.filename, subfolder: image.subfolder ?? '', type: image.type ?? 'output' });
    return call(`${this.baseUrl}/view?${query}`, {}, this.options(signal));
  }
}

/**
 * The images `/history/{prompt_id}` lists for the prompt (`{[id]: {outputs:
 * {node: {images}}}}`), or null while it does not list the prompt yet. A
 * body of another shape is a bad answer: it is not ComfyUI answering.
 */
function historyImages(history: unknown, promptId: string, url: string): ComfyImage[] | null {
  const bad = (what: string) => badAnswer(COMFYUI, 'GET /history', url, what);
  if (!isJsonObject(history)) throw bad(`with ${jsonKind(history)} instead of a history object`);
  const entry = history[promptId];
  if (entry === undefined) return null;
  const outputs = isJsonObject(entry) ? entry.outputs ?? {} : null;
  if (!isJsonObject(outputs)) throw bad('with a history entry without an outputs object');
  return Object.values(outputs).flatMap((output) => {
    const images = isJsonObject(output) && Array.isArray(output.images) ? output.images : [];
    return images.filter((image): image is ComfyImage => isJsonObject(image) && typeof image.filename === 'string');
  });
}

/** A prompt ComfyUI interrupted though this client did not ask it to (someone pressed Cancel in ComfyUI's UI). */
function interrupted(baseUrl: string): BackendError {
  return new BackendError('failed', 'execution_error', 'ComfyUI interrupted the prompt', { detail: `${baseUrl} interrupted the prompt` });
}

/** The shared socket ended mid-run: transient, the job runs again (on another endpoint where there is one). */
function socketClosed(baseUrl: string, error?: Error): BackendError {
  return new BackendError('transient', 'socket_closed', error ? 'the WebSocket failed mid-run' : 'the server closed the WebSocket mid-run', {
    cause: error, detail: error ? `${baseUrl} WebSocket failed (${error.message})` : `${baseUrl} closed the WebSocket mid-run`,
  });
}

const imageKey = (image: ComfyImage): string => JSON.stringify([image.type ?? 'output', image.subfolder ?? '', image.filename]);

/**
 * The error text of a refused /prompt, made readable when it is ComfyUI's
 * validation answer (`{error, node_errors}`); any other body (a proxy's) is
 * not shown to the job's owner.
 */
function rejectionMessage(error: BackendError): string {
  try {
    const body: unknown = JSON.parse(error.body ?? '');
    return isJsonObject(body) && isJsonObject(body.node_errors) ? describeRejection(body as PromptRejection) : error.message;
  } catch {
    return error.message;
  }
}
