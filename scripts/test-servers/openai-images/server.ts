import { randomInt, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import express, { type Request, type Response } from 'express';
import type { ImagePipeline } from '../../../src/gpu-worker/pipeline/types';
import { defaultModelDir, delay, loadRenderer } from '../renderer';

/**
 * An OpenAI-Images-compatible test server: POST /v1/images/generations as
 * OpenAI's API reference describes it (Bearer key, model, prompt, n, size,
 * response_format b64_json | url; OpenAI's error object), rendering with the
 * tiny ONNX pipeline. docs/test-servers.md lists what it leaves out.
 */

export interface OpenAiImagesTestServerOptions {
  port?: number;
  host?: string;
  modelDir?: string;
  /** The key clients must send as `Authorization: Bearer <key>`. */
  apiKey?: string;
  /** Model ids it accepts (GET /v1/models lists them). */
  models?: string[];
  /** Extra time before each generation answers, e.g. a hosted API's latency. */
  delayMs?: number;
  /** Denoising steps of the tiny pipeline per image. */
  steps?: number;
  /** At most this many images per answer, whatever `n` asks (as self-hosted servers that cap or ignore `n`). */
  maxImages?: number;
}

/** A request POST /v1/images/generations received, with the status it got. */
export interface ReceivedImageRequest { body: Record<string, unknown>; authorization: string | undefined; status: number }

interface OpenAiError { status: number; message: string; type: string; param: string | null; code: string | null }

const OPENAI_SIZES = ['256x256', '512x512', '1024x1024', '1536x1024', '1024x1536', '1792x1024', '1024x1792'];

export class OpenAiImagesTestServer {
  readonly receivedRequests: ReceivedImageRequest[] = [];
  private http: Server | null = null;
  private readonly connections = new Set<Socket>();
  private pipeline: ImagePipeline | null = null;
  private boundPort: number;
  private readonly files = new Map<string, Buffer>();
  private injected: OpenAiError | null = null;
  private raw: { body: string; contentType: string } | null = null;

  constructor(readonly options: OpenAiImagesTestServerOptions = {}) {
    this.boundPort = options.port ?? 0;
  }

  static async start(options: OpenAiImagesTestServerOptions = {}): Promise<OpenAiImagesTestServer> {
    const server = new OpenAiImagesTestServer(options);
    await server.start();
    return server;
  }

  get url(): string {
    return `http://${this.options.host ?? '127.0.0.1'}:${this.boundPort}`;
  }

  get apiKey(): string {
    return this.options.apiKey ?? 'sk-atelier-test';
  }

  /** Listens (again, after close or kill) on the same port. */
  async start(): Promise<void> {
    if (this.http) return;
    this.pipeline ??= await loadRenderer(this.options.modelDir ?? defaultModelDir());
    const http = createServer(this.routes());
    http.on('connection', (socket) => {
      this.connections.add(socket);
      socket.on('close', () => this.connections.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(this.boundPort, this.options.host ?? '127.0.0.1', () => resolve());
    });
    this.boundPort = (http.address() as { port: number }).port;
    this.http = http;
  }

  /** The next generation answers OpenAI's 500 server_error (or the given status) once. */
  failNext(status = 500): void {
    this.injected = { status, message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null };
  }

  /**
   * The next generation answers 200 with `body` as it is (`null`, an HTML
   * page, JSON without `data`): what a proxy or a server that only looks
   * OpenAI-compatible sends. Once.
   */
  answerNext(body: string, contentType = 'application/json'): void {
    this.raw = { body, contentType };
  }

  async close(): Promise<void> {
    await this.kill();
    await this.pipeline?.release();
    this.pipeline = null;
  }

  /** Stops listening and destroys every open connection, answered or not. */
  async kill(): Promise<void> {
    const http = this.http;
    if (!http) return;
    this.http = null;
    for (const socket of this.connections) socket.destroy();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  }

  private routes(): express.Express {
    const app = express();
    app.use(express.json({ limit: '1mb' }));
    app.get('/v1/models', (req, res) => this.authorized(req, res) && void res.json({ object: 'list', data: this.models().map((id) => ({ id, object: 'model', created: 0, owned_by: 'atelier-test-server' })) }));
    app.post('/v1/images/generations', (req, res) => void this.generations(req, res));
    app.get('/v1/files/images/:name', (req, res) => {
      const png = this.files.get(req.params.name);
      if (!png) return void res.status(404).json(errorBody({ status: 404, message: 'No such file', type: 'invalid_request_error', param: null, code: null }));
      res.type('image/png').send(png);
    });
    return app;
  }

  private models(): string[] {
    return this.options.models ?? ['atelier-tiny'];
  }

  private authorized(req: Request, res: Response): boolean {
    const header = req.headers.authorization;
    if (!header) return fail(res, { status: 401, message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", type: 'invalid_request_error', param: null, code: null });
    if (header !== `Bearer ${this.apiKey}`) {
      const shown = header.replace(/^Bearer\s+/i, '');
      return fail(res, { status: 401, message: `Incorrect API key provided: ${shown.slice(0, 3)}***${shown.slice(-4)}. You can find your API key at https://platform.openai.com/account/api-keys.`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' });
    }
    return true;
  }

  private async generations(req: Request, res: Response): Promise<void> {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const received = { body, authorization: req.headers.authorization, status: 0 };
    this.receivedRequests.push(received);
    res.on('finish', () => { received.status = res.statusCode; });
    if (!this.authorized(req, res)) return;
    const parsed = this.parse(body);
    if ('status' in parsed) return void fail(res, parsed);
    await delay(this.options.delayMs ?? 0);
    if (this.injected) {
      const injected = this.injected;
      this.injected = null;
      return void fail(res, injected);
    }
    if (this.raw) {
      const raw = this.raw;
      this.raw = null;
      return void res.status(200).type(raw.contentType).send(raw.body);
    }
    // Stopped while this request waited (a test's teardown): answered as a server going away would answer.
    if (!this.pipeline) return void fail(res, { status: 503, message: 'The server is shutting down', type: 'server_error', param: null, code: null });
    const images = await this.pipeline.generate({
      prompt: parsed.prompt, width: parsed.width, height: parsed.height, count: Math.min(parsed.n, this.options.maxImages ?? parsed.n), seed: parsed.seed,
      steps: this.options.steps ?? 4, guidanceScale: 7.5, modelName: parsed.model,
    }).catch((error: unknown) => fail(res, { status: 500, message: error instanceof Error ? error.message : String(error), type: 'server_error', param: null, code: null }));
    if (!images) return;
    const data = images.map((image) => {
      if (parsed.format === 'b64_json') return { b64_json: image.png.toString('base64'), revised_prompt: parsed.prompt };
      const name = `${randomUUID()}.png`;
      this.files.set(name, image.png);
      return { url: `${this.url}/v1/files/images/${name}`, revised_prompt: parsed.prompt };
    });
    res.json({ created: Math.floor(Date.now() / 1000), data });
  }

  private parse(body: Record<string, unknown>): OpenAiError | { model: string; prompt: string; n: number; width: number; height: number; format: string; seed: number } {
    const invalid = (param: string, message: string, code: string | null = null): OpenAiError => ({ status: 400, message, type: 'invalid_request_error', param, code });
    if (typeof body.prompt !== 'string' || body.prompt.length === 0) return invalid('prompt', "Missing required parameter: 'prompt'.", 'missing_required_parameter');
    const model = body.model ?? this.models()[0];
    if (typeof model !== 'string' || !this.models().includes(model)) return { status: 404, message: `The model \`${String(model)}\` does not exist or you do not have access to it.`, type: 'invalid_request_error', param: null, code: 'model_not_found' };
    const n = body.n ?? 1;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 10) return invalid('n', `${String(n)} is not a valid value for 'n': it must be an integer from 1 to 10.`, 'invalid_value');
    const size = body.size ?? '1024x1024';
    const match = typeof size === 'string' ? /^(\d+)x(\d+)$/.exec(size) : null;
    const [width, height] = match ? [Number(match[1]), Number(match[2])] : [0, 0];
    if (!match || width % 8 || height % 8 || width < 64 || height < 64 || width > 2048 || height > 2048) {
      return invalid('size', `'${String(size)}' is not one of ${JSON.stringify(OPENAI_SIZES)} (this test server also accepts any WxH, multiples of 8 from 64 to 2048) - 'size'`, 'invalid_value');
    }
    const format = body.response_format ?? 'url';
    if (format !== 'url' && format !== 'b64_json') return invalid('response_format', `'${String(format)}' is not one of ['url', 'b64_json'] - 'response_format'`, 'invalid_value');
    const seed = typeof body.seed === 'number' && Number.isInteger(body.seed) && body.seed >= 0 ? body.seed : randomInt(0, 2 ** 31 - 16);
    return { model, prompt: body.prompt, n, width, height, format, seed };
  }
}

function errorBody(e: OpenAiError): { error: Omit<OpenAiError, 'status'> } {
  return { error: { message: e.message, type: e.type, param: e.param, code: e.code } };
}

function fail(res: Response, e: OpenAiError): false {
  res.status(e.status).json(errorBody(e));
  return false;
}

