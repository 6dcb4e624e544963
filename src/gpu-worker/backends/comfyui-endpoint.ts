import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import type { ComfyWorkflow } from '../../kernel/backends';
import { PipelineAbortedError } from '../pipeline/errors';
import { BackendError } from './backend-error';
import { describeRejection, PromptTracker, type PromptRejection, type TrackerEvent } from './comfyui-messages';
import { call, callJson, jsonBody, type CallOptions } from './http';

/** What one ComfyUI run reports as it goes. */
export interface ComfyRunHooks {
  onStep: (step: number, totalSteps: number, preview?: Buffer) => void;
  signal: AbortSignal;
}

interface HistoryImage { filename: string; subfolder?: string; type?: string }
type History = Record<string, { outputs?: Record<string, { images?: HistoryImage[] }>; status?: { status_str?: string } }>;

/**
 * A client of one ComfyUI server (its base URL), speaking ComfyUI's own API:
 * open `/ws?clientId=`, `POST /prompt` with that `client_id`, follow the
 * prompt's messages, then read `/history/{prompt_id}` and fetch each output
 * image with `/view`. A cancel deletes a queued prompt (`POST /queue`) or
 * interrupts a running one (`POST /interrupt`).
 */
export class ComfyEndpoint {
  constructor(readonly baseUrl: string, private readonly timeoutMs: number) {}

  /** Runs `workflow` and returns the PNG bytes of its output images, in history order. */
  async run(workflow: ComfyWorkflow, hooks: ComfyRunHooks): Promise<Buffer[]> {
    if (hooks.signal.aborted) throw new PipelineAbortedError();
    const clientId = randomUUID();
    const socket = await this.openSocket(clientId, hooks.signal);
    // A short prompt can finish before POST /prompt answers: frames are kept from the start.
    const inbox = new Inbox(socket);
    try {
      const promptId = await this.submit(workflow, clientId, hooks.signal);
      await this.follow(inbox, promptId, hooks);
      return await this.outputs(promptId, hooks.signal);
    } finally {
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.terminate();
    }
  }

  /** Liveness for a probe: `GET /system_stats` answers on every ComfyUI. */
  async probe(signal: AbortSignal, timeoutMs = this.timeoutMs): Promise<void> {
    await call(`${this.baseUrl}/system_stats`, {}, { timeoutMs, signal });
  }

  private options(signal: AbortSignal): CallOptions {
    return { timeoutMs: this.timeoutMs, signal };
  }

  private openSocket(clientId: string, signal: AbortSignal): Promise<WebSocket> {
    const url = `${this.baseUrl.replace(/^http/, 'ws')}/ws?clientId=${clientId}`;
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { handshakeTimeout: this.timeoutMs });
      const fail = (error: Error) => {
        socket.removeAllListeners();
        socket.on('error', () => undefined);
        socket.terminate();
        reject(signal.aborted ? new PipelineAbortedError() : new BackendError('transient', 'connection', `${url} unreachable (${error.message})`, { cause: error }));
      };
      socket.once('open', () => {
        socket.removeAllListeners();
        resolve(socket);
      });
      socket.once('error', fail);
      socket.once('unexpected-response', (_req, res) => fail(new Error(`HTTP ${res.statusCode}`)));
    });
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

  /** Resolves when the prompt finished; rejects on its error, a closed or silent socket, or a cancel. */
  private follow(inbox: Inbox, promptId: string, hooks: ComfyRunHooks): Promise<void> {
    const tracker = new PromptTracker(promptId);
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let idle: NodeJS.Timeout;
      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(idle);
        hooks.signal.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve();
      };
      const armIdle = () => {
        clearTimeout(idle);
        idle = setTimeout(() => finish(new BackendError('transient', 'timeout', `${this.baseUrl} sent nothing for ${this.timeoutMs} ms`)), this.timeoutMs);
      };
      const handle = (events: TrackerEvent[]) => {
        for (const event of events) {
          if (event.kind === 'step') hooks.onStep(event.step, event.totalSteps, event.preview);
          else if (event.kind === 'done') finish();
          else if (event.kind === 'failed') finish(event.error);
          else if (event.kind === 'interrupted') finish(hooks.signal.aborted ? new PipelineAbortedError() : new BackendError('failed', 'execution_error', `${this.baseUrl} interrupted the prompt`));
        }
      };
      const onAbort = () => void this.cancel(promptId, tracker.running).finally(() => finish(new PipelineAbortedError()));
      hooks.signal.addEventListener('abort', onAbort, { once: true });
      armIdle();
      inbox.deliver({
        frame: (data, isBinary) => {
          armIdle();
          handle(isBinary ? tracker.binary(data) : tracker.text(data.toString('utf8')));
        },
        closed: (error) => finish(new BackendError('transient', 'socket_closed', error
          ? `${this.baseUrl} WebSocket failed (${error.message})`
          : `${this.baseUrl} closed the WebSocket mid-run`, { cause: error })),
      });
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

  /** The images of the finished prompt: output images first; preview-only workflows give their temp images. */
  private async outputs(promptId: string, signal: AbortSignal): Promise<Buffer[]> {
    const history = await callJson<History>(`${this.baseUrl}/history/${encodeURIComponent(promptId)}`, {}, this.options(signal));
    const images = Object.values(history[promptId]?.outputs ?? {}).flatMap((output) => output.images ?? []);
    const chosen = images.some((image) => image.type === 'output') ? images.filter((image) => image.type === 'output') : images;
    if (chosen.length === 0) throw new BackendError('failed', 'bad_response', `${this.baseUrl} finished prompt ${promptId} without output images`);
    return Promise.all(chosen.map(async (image) => {
      const query = new URLSearchParams({ filename: image.filename, subfolder: image.subfolder ?? '', type: image.type ?? 'output' });
      return call(`${this.baseUrl}/view?${query}`, {}, this.options(signal));
    }));
  }
}

/** The error text of a 400 from /prompt, made readable when it is ComfyUI's JSON. */
function rejectionMessage(error: BackendError): string {
  try {
    return describeRejection(JSON.parse(error.body ?? '') as PromptRejection);
  } catch {
    return error.message;
  }
}

interface InboxHandler {
  frame(data: Buffer, isBinary: boolean): void;
  closed(error?: Error): void;
}

/** A socket's frames and its end, held until a handler is attached, then passed on in order. */
class Inbox {
  private readonly held: { data: Buffer; isBinary: boolean }[] = [];
  private end: { error?: Error } | null = null;
  private handler: InboxHandler | null = null;

  constructor(socket: WebSocket) {
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (this.handler) this.handler.frame(data, isBinary);
      else this.held.push({ data, isBinary });
    });
    socket.on('close', () => this.finish({}));
    socket.on('error', (error) => this.finish({ error }));
  }

  deliver(handler: InboxHandler): void {
    this.handler = handler;
    for (const { data, isBinary } of this.held.splice(0)) handler.frame(data, isBinary);
    if (this.end) handler.closed(this.end.error);
  }

  private finish(end: { error?: Error }): void {
    if (this.end) return;
    this.end = end;
    this.handler?.closed(end.error);
  }
}
