import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import aws4 from 'aws4';
import { assertSafeKey, type ArtifactStore, type LocalFile } from './artifact-store';

/** Long-term (or temporary, with a session token) access key. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** How to reach one bucket of an S3-compatible service (AWS S3, MinIO, Cloudflare R2, Ceph RGW…). */
export interface S3StoreOptions {
  /** Service base URL, e.g. `https://s3.eu-west-1.amazonaws.com` or `http://minio:9000`. */
  endpoint: string;
  bucket: string;
  /** Signing region; `us-east-1` for MinIO, `auto` for R2. */
  region: string;
  credentials: S3Credentials;
  /** `endpoint/bucket/key` (true, what MinIO and most self-hosted servers need) or `bucket.endpoint/key`. */
  forcePathStyle: boolean;
  /** Per-request limit; a stuck connection fails instead of hanging a job. */
  requestTimeoutMs?: number;
  /** Attempts for transient failures (network errors, 5xx, 429). */
  maxAttempts?: number;
  now?: () => Date;
}

/** An answer from S3 that means failure; carries the HTTP status and S3's error code. */
export class S3RequestError extends Error {
  constructor(
    readonly method: string,
    readonly key: string,
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(`S3 ${method} ${key} failed: HTTP ${status} ${code}${detail ? ` (${detail})` : ''}`);
    this.name = 'S3RequestError';
  }
}

const sha256Hex = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
const EMPTY_SHA256 = sha256Hex('');
/** The most S3 takes in one PUT; bigger objects would need a multipart upload. */
const MAX_SINGLE_PUT = 5 * 1024 ** 3;

/**
 * A request body, opened afresh for each attempt (a stream is read once), with
 * the SHA-256 that S3 checks it against. Streamed bodies also carry their
 * length: S3 refuses a PUT without Content-Length.
 */
interface Payload {
  sha256: string;
  open(): Uint8Array | ReadableStream<Uint8Array>;
  streamedBytes?: number;
}

const bufferPayload = (data: Buffer): Payload => ({ sha256: sha256Hex(data), open: () => new Uint8Array(data) });
const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);

/** `<Code>NoSuchKey</Code>` → `NoSuchKey`; S3 error bodies are small XML documents. */
function xmlField(body: string, name: string): string {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1] ?? '';
}

const DEFAULT_TIMEOUT_MS = 120_000;

/**
 * Aborts a streamed read after `ms` without news: each attempt and each chunk
 * restarts it (`S3ArtifactStore.openRead`).
 */
class SilenceTimer {
  private controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number, private readonly what: string) {}

  /** The signal for what comes next; a retry after a silent attempt gets a fresh one. */
  restart(): AbortSignal {
    clearTimeout(this.timer);
    if (this.controller.signal.aborted) this.controller = new AbortController();
    this.timer = setTimeout(() => this.controller.abort(new Error(`${this.what}: nothing received for ${this.ms} ms`)), this.ms);
    return this.controller.signal;
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `2013-05-24T00:00:00.000Z` → `20130524T000000Z`, the form SigV4 dates take. */
const amzDate = (now: Date): string => now.toISOString().replace(/[-:]|\.\d{3}/g, '');

/**
 * Artifacts as objects in one S3 bucket, over plain fetch with SigV4 headers
 * signed by the `aws4` package (no AWS SDK).
 * Every request carries the payload's SHA-256 (x-amz-content-sha256), so the
 * service verifies what it stores. A missing object is `null`/`false`, never
 * an error; any other refusal throws S3RequestError with S3's own code.
 */
export class S3ArtifactStore implements ArtifactStore {
  private readonly base: URL;
  private readonly now: () => Date;

  constructor(private readonly o: S3StoreOptions) {
    this.base = new URL(o.endpoint);
    if (!/^https?:$/.test(this.base.protocol)) throw new Error('S3 endpoint must be an http(s) URL');
    this.now = o.now ?? (() => new Date());
  }

  /** The object's URL, path-style or virtual-hosted-style. */
  urlOf(key: string): URL {
    const url = new URL(this.base.toString());
    const prefix = url.pathname.replace(/\/+$/, '');
    const objectPath = assertSafeKey(key).split('/').map(encodeURIComponent).join('/');
    if (this.o.forcePathStyle) {
      url.pathname = `${prefix}/${encodeURIComponent(this.o.bucket)}/${objectPath}`;
    } else {
      url.hostname = `${this.o.bucket}.${url.hostname}`;
      url.pathname = `${prefix}/${objectPath}`;
    }
    return url;
  }

  async put(key: string, data: Buffer, contentType: string): Promise<void> {
    const res = await this.send('PUT', key, bufferPayload(data), { 'content-type': contentType });
    if (!res.ok) throw await this.failure('PUT', key, res);
  }

  /**
   * One PUT streamed from the file, signed with the SHA-256 the caller
   * computed while writing it, so S3 still refuses bytes that changed on the way.
   */
  async putFile(key: string, file: LocalFile): Promise<void> {
    if (file.bytes > MAX_SINGLE_PUT) throw new Error(`S3 PUT ${key}: ${file.bytes} bytes is more than one PUT takes (5 GiB)`);
    const payload: Payload = {
      sha256: file.sha256, streamedBytes: file.bytes,
      open: () => Readable.toWeb(createReadStream(file.path)) as ReadableStream<Uint8Array>,
    };
    const res = await this.send('PUT', key, payload, { 'content-type': file.contentType });
    if (!res.ok) throw await this.failure('PUT', key, res);
  }

  async get(key: string): Promise<Buffer | null> {
    const res = await this.send('GET', key);
    if (res.status === 404) return null;
    if (!res.ok) throw await this.failure('GET', key, res);
    return Buffer.from(await res.arrayBuffer());
  }

  /**
   * The GET's body as it arrives. Its timeout (`requestTimeoutMs`) is for
   * silence, not for the whole body: the wait for the answer, then each wait
   * between two chunks, so a file of gigabytes may take as long as it needs
   * while a stalled connection still fails.
   */
  async openRead(key: string): Promise<Readable | null> {
    const silence = new SilenceTimer(this.o.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS, `S3 GET ${key}`);
    const res = await this.send('GET', key, undefined, {}, silence).catch((error: unknown) => {
      silence.stop();
      throw error;
    });
    if (res.status === 404 || !res.ok || !res.body) {
      silence.stop();
      if (res.status === 404) return null;
      throw await this.failure('GET', key, res);
    }
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', () => silence.restart()).once('close', () => silence.stop());
    silence.restart();
    return body;
  }

  async exists(key: string): Promise<boolean> {
    const res = await this.send('HEAD', key);
    if (res.status === 404) return false;
    if (!res.ok) throw await this.failure('HEAD', key, res);
    return true;
  }

  /** S3 answers 204 whether or not the object was there; deleting twice is fine. */
  async delete(key: string): Promise<void> {
    const res = await this.send('DELETE', key);
    if (!res.ok && res.status !== 404) throw await this.failure('DELETE', key, res);
  }

  /** Signs afresh per attempt (the signature carries the time) and retries what is worth retrying. */
  private async send(method: string, key: string, payload?: Payload, extra: Record<string, string> = {}, silence?: SilenceTimer): Promise<Response> {
    const url = this.urlOf(key);
    const given: Record<string, string> = { ...extra, 'x-amz-content-sha256': payload?.sha256 ?? EMPTY_SHA256 };
    if (payload?.streamedBytes !== undefined) given['content-length'] = String(payload.streamedBytes);
    const attempts = this.o.maxAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      const headers = this.sign(method, url, given);
      try {
        const res = await fetch(url, {
          method, headers, body: payload?.open(), duplex: 'half',
          signal: silence?.restart() ?? AbortSignal.timeout(this.o.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS),
        } as RequestInit);
        if (!RETRY_STATUS.has(res.status) || attempt >= attempts) return res;
        await res.arrayBuffer().catch(() => undefined);
      } catch (error) {
        if (attempt >= attempts) throw new Error(`S3 ${method} ${key} failed: ${(error as Error).message}`, { cause: error });
      }
      await sleep(100 * 2 ** attempt);
    }
  }

  /**
   * The headers to send: the given ones plus x-amz-date (from `now`, so tests
   * can fix the time), the session token and Authorization. The payload hash
   * is passed in, not the body, so aws4 adds no Content-Length of its own.
   */
  private sign(method: string, url: URL, given: Record<string, string>): Record<string, string> {
    const request = {
      method, host: url.host, path: `${url.pathname}${url.search}`, service: 's3', region: this.o.region,
      headers: { ...given, 'x-amz-date': amzDate(this.now()) },
    };
    const signed = aws4.sign(request, this.o.credentials);
    // fetch derives Host from the URL (the same value that was signed) and refuses to take it as a header.
    const { Host: _host, ...headers } = signed.headers as Record<string, string>;
    return headers;
  }

  private async failure(method: string, key: string, res: Response): Promise<S3RequestError> {
    const body = method === 'HEAD' ? '' : await res.text().catch(() => '');
    const code = xmlField(body, 'Code') || res.statusText || 'UnknownError';
    return new S3RequestError(method, key, res.status, code, xmlField(body, 'Message'));
  }
}
