import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ImagePipeline } from '../../../src/gpu-worker/pipeline/types';
import { defaultModelDir, loadRenderer } from '../renderer';
import { PromptExecutor, type Channel, type HistoryEntry, type QueueItem } from './executor';
import { nodeDefinitions, type NodeDefinition } from './nodes';
import { OutputFolder } from './output-folder';
import type { PromptBody } from './validation';
import { comfyRoutes } from './routes';

/**
 * A ComfyUI test server: ComfyUI's HTTP routes and WebSocket protocol, message
 * for message, in front of the tiny ONNX pipeline (docs/test-servers.md says
 * which ComfyUI version it follows and what it leaves out). Prompts run one at
 * a time from a queue ordered by number, as ComfyUI's prompt_worker runs them.
 */

export interface ComfyUiTestServerOptions {
  /** 0 (default) picks a free port; a restart keeps the port it got. */
  port?: number;
  host?: string;
  /** The ONNX model folder (written with the tiny model when empty). */
  modelDir?: string;
  /** Extra time per sampler step, e.g. 25 to behave like a GPU at 40 it/s. */
  stepDelayMs?: number;
  /** Binary preview frames: JPEG (ComfyUI's default), PNG, or none. */
  previewFormat?: 'JPEG' | 'PNG' | 'none';
  /** Delay before every HTTP answer, to test a client's timeouts. */
  responseDelayMs?: number;
  /** Where output/ and temp/ live; default a fresh temporary folder. */
  outputDir?: string;
  /** Checkpoint names CheckpointLoaderSimple offers (all render with the tiny model). */
  checkpoints?: string[];
  /** A folder of .safetensors LoRAs for LoraLoader; none when absent. */
  lorasDir?: string;
}

/** Routes whose next answer a test can replace (`answerNext`). */
export type InjectedRoute = 'POST /prompt' | 'GET /history/{prompt_id}';

/** A body POST /prompt received, with the prompt id it got (null when refused). */
export interface ReceivedPrompt { body: PromptBody; promptId: string | null; accepted: boolean }

/** The version of ComfyUI whose protocol this server follows (docs/test-servers.md). */
export const FOLLOWED_COMFYUI_VERSION = 'v0.3.4x (comfy_execution/progress.py 02a5b118)';

export class ComfyUiTestServer {
  readonly receivedPrompts: ReceivedPrompt[] = [];
  readonly defs: Record<string, NodeDefinition>;
  readonly folder: OutputFolder;
  private http: Server | null = null;
  private wss: WebSocketServer | null = null;
  private readonly connections = new Set<Socket>();
  private readonly sockets = new Map<string, { ws: WebSocket; previewMetadata: boolean }>();
  private pipeline: ImagePipeline | null = null;
  private executor: PromptExecutor | null = null;
  private boundPort: number;
  // Per process life (a restart forgets them, as a restarted ComfyUI does):
  pending: QueueItem[] = [];
  running: { item: QueueItem; abort: AbortController } | null = null;
  history = new Map<string, HistoryEntry>();
  lastNode: { sid: string | null; node: string } | null = null;
  number = 0;
  private readonly injected = new Map<InjectedRoute, { body: string; contentType: string }>();
  private worker: Promise<void> = Promise.resolve();

  constructor(readonly options: ComfyUiTestServerOptions = {}) {
    this.boundPort = options.port ?? 0;
    this.folder = new OutputFolder(options.outputDir ?? mkdtempSync(path.join(os.tmpdir(), 'comfyui-test-server-')));
    const loras = new Map(options.lorasDir ? readdirSync(options.lorasDir).filter((f) => f.endsWith('.safetensors')).map((f) => [f, path.join(options.lorasDir!, f)]) : []);
    this.defs = nodeDefinitions({ checkpoints: options.checkpoints ?? ['atelier-tiny.safetensors'], loras });
  }

  /** Starts a server and waits until it listens. */
  static async start(options: ComfyUiTestServerOptions = {}): Promise<ComfyUiTestServer> {
    const server = new ComfyUiTestServer(options);
    await server.start();
    return server;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `http://${this.options.host ?? '127.0.0.1'}:${this.boundPort}`;
  }

  /** Listens (again, after close or kill) on the same port, with an empty queue and history. */
  async start(): Promise<void> {
    if (this.http) return;
    this.pipeline ??= await loadRenderer(this.options.modelDir ?? defaultModelDir());
    this.executor = new PromptExecutor({
      defs: this.defs, pipeline: this.pipeline, folder: this.folder, channel: this.channel(),
      stepDelayMs: this.options.stepDelayMs ?? 0, previewFormat: this.options.previewFormat ?? 'JPEG',
      onNode: (node) => { this.lastNode = node === null ? null : { sid: this.running?.item.extraData.client_id as string ?? null, node }; },
    });
    this.pending = [];
    this.history = new Map();
    this.number = 0;
    const http = createServer(comfyRoutes(this));
    http.on('connection', (socket) => {
      this.connections.add(socket);
      socket.on('close', () => this.connections.delete(socket));
    });
    this.wss = new WebSocketServer({ noServer: true });
    http.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/ws' && url.pathname !== '/api/ws') return socket.destroy();
      this.wss!.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws, url.searchParams.get('clientId') || randomUUID().replaceAll('-', '')));
    });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(this.boundPort, this.options.host ?? '127.0.0.1', () => resolve());
    });
    this.boundPort = (http.address() as { port: number }).port;
    this.http = http;
  }

  /** Makes the next KSampler fail with `message` (execution_error), once. */
  failNextSampler(message: string): void {
    this.executor?.failNextSampler(message);
  }

  /**
   * The next call of `route` answers 200 with `body` as it is (`null`, an
   * HTML page, JSON without `prompt_id`) and does nothing else (a prompt is
   * not queued): what a proxy or a server that is not ComfyUI sends. Once.
   */
  answerNext(route: InjectedRoute, body: string, contentType = 'application/json'): void {
    this.injected.set(route, { body, contentType });
  }

  /** The answer `answerNext` set for `route`, once (the route sends it instead of its own). */
  takeInjected(route: InjectedRoute): { body: string; contentType: string } | null {
    const answer = this.injected.get(route) ?? null;
    this.injected.delete(route);
    return answer;
  }

  /** Adds a validated prompt to the queue (POST /prompt). */
  enqueue(item: QueueItem): void {
    this.pending.push(item);
    this.queueUpdated();
    this.worker = this.worker.then(() => this.runNext());
  }

  /** Removes pending prompts (POST /queue); the running one is not touched, as in ComfyUI. */
  removePending(match: (item: QueueItem) => boolean): void {
    this.pending = this.pending.filter((item) => !match(item));
    this.queueUpdated();
  }

  /** POST /interrupt: stops the running prompt (only if it is `promptId`, when given). */
  interrupt(promptId?: string): void {
    if (this.running && (!promptId || this.running.item.promptId === promptId)) this.running.abort.abort();
  }

  /** Ends every WebSocket abruptly while the server keeps running (a proxy or network dropping the socket); prompts go on. */
  dropSockets(): void {
    for (const { ws } of this.sockets.values()) ws.terminate();
    this.sockets.clear();
  }

  /** How many WebSockets are connected now. */
  get socketCount(): number {
    return this.sockets.size;
  }

  queueRemaining(): number {
    return this.pending.length + (this.running ? 1 : 0);
  }

  /** Graceful stop: sockets closed, the running prompt interrupted, the pipeline released. */
  async close(): Promise<void> {
    await this.stop(false);
    await this.pipeline?.release();
    this.pipeline = null;
  }

  /** Abrupt death: every connection destroyed mid-message, nothing more sent. */
  async kill(): Promise<void> {
    await this.stop(true);
  }

  private async stop(abrupt: boolean): Promise<void> {
    const http = this.http;
    if (!http) return;
    this.http = null;
    this.pending = [];
    this.running?.abort.abort();
    for (const { ws } of this.sockets.values()) {
      if (abrupt) ws.terminate();
      else ws.close(1001);
    }
    this.sockets.clear();
    if (abrupt) for (const socket of this.connections) socket.destroy();
    this.wss?.close();
    const closed = new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeAllConnections();
    await closed;
    await this.worker;
  }

  private async runNext(): Promise<void> {
    this.pending.sort((a, b) => a.number - b.number);
    const item = this.pending.shift();
    if (!item || !this.http) return;
    const abort = new AbortController();
    this.running = { item, abort };
    this.queueUpdated();
    const http = this.http;
    const entry = await this.executor!.execute(item, abort.signal);
    this.running = null;
    if (this.http !== http) return; // killed or closed meanwhile: a dead process records nothing
    this.history.set(item.promptId, entry);
    this.queueUpdated();
    const sid = typeof item.extraData.client_id === 'string' ? item.extraData.client_id : null;
    if (sid !== null) this.send('executing', { node: null, prompt_id: item.promptId }, sid);
  }

  private onSocket(ws: WebSocket, sid: string): void {
    this.sockets.set(sid, { ws, previewMetadata: false });
    this.send('status', { status: { exec_info: { queue_remaining: this.queueRemaining() } }, sid }, sid);
    if (this.lastNode && this.lastNode.sid === sid) this.send('executing', { node: this.lastNode.node }, sid);
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.onClientMessage(sid, data.toString());
    });
    ws.on('close', () => {
      if (this.sockets.get(sid)?.ws === ws) this.sockets.delete(sid);
    });
  }

  /** server.py answers a client's feature_flags message with its own and remembers the client's. */
  private onClientMessage(sid: string, text: string): void {
    let message: { type?: string; data?: Record<string, unknown> };
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.type !== 'feature_flags') return;
    const socket = this.sockets.get(sid);
    if (socket) socket.previewMetadata = message.data?.supports_preview_metadata === true;
    this.send('feature_flags', SERVER_FEATURES, sid);
  }

  private queueUpdated(): void {
    this.send('status', { status: { exec_info: { queue_remaining: this.queueRemaining() } } }, null);
  }

  private send(type: string, data: Record<string, unknown>, sid: string | null): void {
    const text = JSON.stringify({ type, data });
    for (const socket of this.targets(sid)) socket.ws.send(text);
  }

  private targets(sid: string | null): { ws: WebSocket; previewMetadata: boolean }[] {
    if (sid === null) return [...this.sockets.values()];
    const one = this.sockets.get(sid);
    return one ? [one] : [];
  }

  private channel(): Channel {
    return {
      send: (event, data, sid) => this.send(event, data, sid),
      sendPreview: (image, format, metadata, sid) => {
        for (const socket of this.targets(sid)) socket.ws.send(socket.previewMetadata ? metadataFrame(image, format, metadata) : previewFrame(image, format));
      },
    };
  }
}

/** server.py's feature flags (comfy_api/feature_flags.py). */
export const SERVER_FEATURES = { supports_preview_metadata: true, max_upload_size: 100 * 1024 * 1024 };

/** BinaryEventTypes.PREVIEW_IMAGE (1), then the image type (1 JPEG, 2 PNG), then the image: send_image's frame. */
export function previewFrame(image: Buffer, format: 'JPEG' | 'PNG'): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(1, 0);
  header.writeUInt32BE(format === 'PNG' ? 2 : 1, 4);
  return Buffer.concat([header, image]);
}

/** BinaryEventTypes.PREVIEW_IMAGE_WITH_METADATA (4), metadata length, metadata JSON, image: for clients that announced it. */
export function metadataFrame(image: Buffer, format: 'JPEG' | 'PNG', metadata: Record<string, unknown>): Buffer {
  const json = Buffer.from(JSON.stringify({ ...metadata, image_type: format === 'PNG' ? 'image/png' : 'image/jpeg' }));
  const header = Buffer.alloc(8);
  header.writeUInt32BE(4, 0);
  header.writeUInt32BE(json.length, 4);
  return Buffer.concat([header, json, image]);
}
