import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { PipelineAbortedError } from '../pipeline/errors';
import { connectionError, timeoutError, type BackendError } from './backend-error';
import { promptIdOf, runningPromptOf, type ComfyMessage } from './comfyui-messages';

/** What a prompt's follower receives from the shared socket. */
export interface PromptRoute {
  /** A text message of this prompt, or a preview frame sent while it ran. */
  frame(message: ComfyMessage | null, binary: Buffer | null): void;
  /** Any frame on the socket: the server is alive (the follower's silence timer restarts). */
  heard(): void;
  /** The socket ended: every prompt on it is lost to this client. */
  closed(error?: Error): void;
}

interface Held { promptId: string; message: ComfyMessage | null; binary: Buffer | null }

/** Frames of not-yet-known prompts kept while a submission is under way; beyond this, the oldest go. */
const MAX_HELD_FRAMES = 1000;

/** How often an open socket is pinged; one without a pong by the next ping is dropped (ComfyUI's aiohttp answers pings). */
const HEARTBEAT_MS = 15_000;

/**
 * One open `/ws?clientId=` connection to a ComfyUI server, shared by every
 * prompt this process runs there (docs/backends.md, "One socket per
 * endpoint"). ComfyUI sends a prompt's messages to the socket of the
 * `client_id` it was submitted with, and runs one prompt at a time, so
 * messages are routed by their `prompt_id`, and binary preview frames (which
 * carry none) go to the prompt this client last saw executing.
 */
export class ComfyConnection {
  readonly clientId = randomUUID().replaceAll('-', '');
  private readonly routes = new Map<string, PromptRoute>();
  /** Frames of prompts whose POST /prompt has not answered yet (a short prompt can finish first). */
  private held: Held[] = [];
  private submitting = 0;
  private running: string | null = null;
  private end: { error?: Error } | null = null;
  private socket: WebSocket | null = null;
  private heartbeat: NodeJS.Timeout | null = null;

  /**
   * Opens the socket; rejects with a transient BackendError when the server
   * cannot be reached, or (reason `timeout`) when the handshake takes longer
   * than `timeoutMs` (the socket's URL, with its client id, in its detail only).
   */
  open(baseUrl: string, timeoutMs: number): Promise<this> {
    const url = `${baseUrl.replace(/^http/, 'ws')}/ws?clientId=${this.clientId}`;
    return new Promise((resolve, reject) => {
      // A timer of our own rather than ws's handshakeTimeout, whose error carries no code: a server that takes
      // the connection and never answers the upgrade is a timeout, as a hosted API's silence is, not "unreachable".
      const socket = new WebSocket(url);
      const fail = (error: BackendError) => {
        clearTimeout(timer);
        silence(socket);
        reject(error);
      };
      const timer = setTimeout(() => fail(timeoutError(url, timeoutMs, new Error('WebSocket opening handshake timed out'))), timeoutMs);
      socket.once('error', (error) => fail(connectionError(url, error)));
      socket.once('unexpected-response', (_req, res) => fail(connectionError(url, new Error(`HTTP ${res.statusCode}`))));
      socket.once('open', () => {
        clearTimeout(timer);
        socket.removeAllListeners();
        this.attach(socket, Math.min(HEARTBEAT_MS, timeoutMs));
        resolve(this);
      });
    });
  }

  get isOpen(): boolean {
    return this.end === null && this.socket !== null;
  }

  /**
   * A prompt is about to be submitted: until the returned function is
   * called (after `follow`), frames of prompts not yet followed are kept.
   */
  expect(): () => void {
    this.submitting += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.submitting -= 1;
      if (this.submitting === 0) this.held = [];
    };
  }

  /** Routes `promptId`'s frames to `route`, first those that came before; returns the function that stops it. */
  follow(promptId: string, route: PromptRoute): () => void {
    this.routes.set(promptId, route);
    const [mine, others] = partition(this.held, (h) => h.promptId === promptId);
    this.held = others;
    for (const h of mine) route.frame(h.message, h.binary);
    if (this.end) route.closed(this.end.error);
    return () => {
      if (this.routes.get(promptId) === route) this.routes.delete(promptId);
    };
  }

  /** Closes the socket (the backend was released and no prompt follows it). */
  close(): void {
    if (this.socket) silence(this.socket);
    this.finish({});
  }

  /** Ends the socket as failed: every prompt on it fails as a transient error and the next run reconnects. */
  drop(error: Error): void {
    if (this.socket) silence(this.socket);
    this.finish({ error });
  }

  get idle(): boolean {
    return this.routes.size === 0 && this.submitting === 0;
  }

  private attach(socket: WebSocket, heartbeatMs: number): void {
    this.socket = socket;
    socket.on('message', (data: Buffer, isBinary: boolean) => this.receive(data, isBinary));
    socket.on('close', () => this.finish({}));
    socket.on('error', (error) => this.finish({ error }));
    // A socket kept open between jobs can die silently (a NAT or proxy forgetting it): a missed pong ends it
    // before a job waits on it for the whole timeout.
    let answered = true;
    socket.on('pong', () => { answered = true; });
    this.heartbeat = setInterval(() => {
      if (!answered) return this.drop(new Error(`no answer to a ping within ${heartbeatMs} ms`));
      answered = false;
      socket.ping();
    }, heartbeatMs);
    this.heartbeat.unref();
  }

  private receive(data: Buffer, isBinary: boolean): void {
    for (const route of this.routes.values()) route.heard();
    if (isBinary) return this.dispatch(this.running, null, data);
    let message: ComfyMessage;
    try {
      message = JSON.parse(data.toString('utf8')) as ComfyMessage;
    } catch {
      return;
    }
    const promptId = promptIdOf(message);
    if (promptId === null) return;
    this.running = runningPromptOf(message, this.running);
    this.dispatch(promptId, message, null);
  }

  private dispatch(promptId: string | null, message: ComfyMessage | null, binary: Buffer | null): void {
    if (promptId === null) return;
    const route = this.routes.get(promptId);
    if (route) return route.frame(message, binary);
    if (this.submitting === 0) return;
    this.held.push({ promptId, message, binary });
    if (this.held.length > MAX_HELD_FRAMES) this.held.shift();
  }

  private finish(end: { error?: Error }): void {
    if (this.end) return;
    this.end = end;
    this.socket = null;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const route of [...this.routes.values()]) route.closed(end.error);
  }
}

/** A socket this client no longer listens to: its late errors are swallowed and it is torn down. */
function silence(socket: WebSocket): void {
  socket.removeAllListeners();
  socket.on('error', () => undefined);
  socket.terminate();
}

function partition<T>(items: T[], test: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (test(item) ? yes : no).push(item);
  return [yes, no];
}

/**
 * The endpoint's one connection: opened on first use (or ahead of a job, see
 * `warm`), shared by concurrent runs, and opened again, with a new client id,
 * once it closed. A new id per connection means a prompt submitted on a
 * closed socket can never send its messages to the next one.
 */
export class ComfySocket {
  private connection: ComfyConnection | null = null;
  private opening: Promise<ComfyConnection> | null = null;
  private released = false;

  constructor(private readonly baseUrl: string, private readonly timeoutMs: number) {}

  /** The open connection, opening one when there is none (concurrent callers share the attempt). */
  async connect(signal: AbortSignal): Promise<ComfyConnection> {
    if (signal.aborted) throw new PipelineAbortedError();
    if (this.connection?.isOpen) return this.connection;
    this.opening ??= new ComfyConnection().open(this.baseUrl, this.timeoutMs)
      .then((connection) => (this.connection = connection))
      .finally(() => { this.opening = null; });
    try {
      return await this.opening;
    } catch (error) {
      throw signal.aborted ? new PipelineAbortedError() : error;
    }
  }

  /** Opens the connection ahead of a job, so its set-up overlaps the job's start; a failure is the job's to see. */
  warm(): void {
    if (!this.released && !this.connection?.isOpen) void this.connect(new AbortController().signal).catch(() => undefined);
  }

  /** A run ended: a released socket closes once no prompt follows it. */
  settled(): void {
    if (this.released && this.connection?.idle) this.connection.close();
  }

  /** No more jobs come (the backend was rebuilt or the worker stops): closes now, or after the runs in flight. */
  release(): void {
    this.released = true;
    this.settled();
  }
}
