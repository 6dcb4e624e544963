import type { JobFailureCode } from '../../kernel/errors';

/**
 * Why a remote backend call failed, as the resilience policy needs it:
 * `transient` failures (refused or reset connections, 5xx, timeouts, a socket
 * closed mid-run) count against the endpoint's breaker and are retried on
 * another endpoint; `rejected` (ComfyUI's 400 with node_errors, an API's 4xx)
 * and `failed` (ComfyUI's execution_error, a 2xx answer of the wrong shape)
 * fail the job at once.
 */
export type BackendFailureKind = 'transient' | 'rejected' | 'failed';

/** The label of `atelier_backend_failures_total{reason}`. */
export type BackendFailureReason =
  | 'connection' | 'http_5xx' | 'timeout' | 'socket_closed' | 'rejected' | 'execution_error' | 'circuit_open' | 'bad_response';

/**
 * A remote backend's failure. `message` becomes the job's error, which its
 * owner reads: it names the backend and what went wrong, never an endpoint's
 * URL, a ComfyUI client id or the upstream body. `detail` says all of that,
 * for the worker's log and admins' endpoint health (docs/backends.md, "Who
 * sees what").
 */
export class BackendError extends Error {
  /** The answer's body when a server refused the request (ComfyUI's node_errors JSON). */
  readonly body?: string;
  readonly detail: string;

  constructor(
    readonly kind: BackendFailureKind,
    readonly reason: BackendFailureReason,
    message: string,
    options?: { cause?: unknown; body?: string; detail?: string },
  ) {
    super(message, options);
    this.body = options?.body;
    this.detail = options?.detail ?? message;
    this.name = 'BackendError';
  }

  get transient(): boolean {
    return this.kind === 'transient';
  }

  /** The job failure code this ends a job with when it is the last word. */
  get failureCode(): JobFailureCode {
    if (this.kind === 'rejected') return 'BACKEND_REJECTED';
    if (this.kind === 'failed') return 'INFERENCE_FAILED';
    return 'BACKEND_UNAVAILABLE';
  }
}

/** System error codes that name a network failure and nothing else (no host, no port): safe to show. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

/** A fetch() or WebSocket that failed before an answer: the connection was refused, reset or never made. */
export function connectionError(url: string, error: unknown): BackendError {
  const cause = (error as { cause?: { code?: string } })?.cause;
  const code = cause?.code ?? (error as { code?: string })?.code;
  const known = code && NETWORK_CODES.has(code) ? code : null;
  return new BackendError('transient', 'connection', `an endpoint could not be reached${known ? ` (${known})` : ''}`, {
    cause: error, detail: `${url} unreachable (${known ?? (error as Error)?.message ?? String(error)})`,
  });
}

/** A request past the timeout, before or while its answer came. */
export function timeoutError(url: string, timeoutMs: number, cause: unknown): BackendError {
  return new BackendError('transient', 'timeout', `an endpoint did not answer within ${timeoutMs} ms`, { cause, detail: `${url} did not answer within ${timeoutMs} ms` });
}

/**
 * A non-2xx answer: 5xx, 408 and 429 are transient, other 4xx a rejection.
 * The job's message names the request by its method and path only.
 */
export function statusError(backend: string, method: string, url: string, status: number, body: string): BackendError {
  const transient = status >= 500 || status === 429 || status === 408;
  const detail = `${method} ${url} answered ${status}: ${body.slice(0, 500)}`;
  if (transient) return new BackendError('transient', 'http_5xx', `an endpoint answered HTTP ${status}`, { body, detail });
  return new BackendError('rejected', 'rejected', `${backend} refused ${requestName(method, url)} (HTTP ${status})`, { body, detail });
}

/**
 * The routes of the protocols we speak (OpenAI Images' `/v1/…`, ComfyUI's), at the end of a request's path: an
 * endpoint registered with a path of its own (`https://gw.example/tenant-7f3a/openai`) keeps that prefix out of
 * a job's error, since such prefixes often name a tenant or a deployment.
 */
const PROTOCOL_ROUTE = /\/(?:v1\/[^?]*|prompt|history(?:\/[^/?]*)?|view|queue|interrupt|system_stats|object_info|upload\/image)$/;

/** A request as a job's error may name it: the method and the protocol's route, without the endpoint. */
export function requestName(method: string, url: string): string {
  const route = PROTOCOL_ROUTE.exec(new URL(url).pathname);
  return `${method} ${route ? route[0] : 'to the endpoint'}`;
}

/**
 * A 2xx answer of the wrong shape (`null`, a proxy's HTML page, JSON without
 * the fields the protocol promises): the server does not speak the protocol,
 * and asking it again would get the same, so the job fails at once and the
 * endpoint's breaker does not count it (docs/backends.md, "Resilience").
 */
export function badAnswer(backend: string, request: string, url: string, problem: string, body?: string): BackendError {
  const excerpt = body === undefined ? '' : `: ${body.slice(0, 200)}`;
  return new BackendError('failed', 'bad_response', `${backend} answered ${request} ${problem}`, { detail: `${url} answered ${problem}${excerpt}` });
}

/** What a JSON value is, for a bad answer's message: `null`, `an array`, `a number`… */
export function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
