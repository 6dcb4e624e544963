import type { JobFailureCode } from '../../kernel/errors';

/**
 * Why a remote backend call failed, as the resilience policy needs it:
 * `transient` failures (refused or reset connections, 5xx, timeouts, a socket
 * closed mid-run) count against the endpoint's breaker and are retried on
 * another endpoint; `rejected` (ComfyUI's 400 with node_errors, an API's 4xx)
 * and `failed` (ComfyUI's execution_error) fail the job at once.
 */
export type BackendFailureKind = 'transient' | 'rejected' | 'failed';

/** The label of `atelier_backend_failures_total{reason}`. */
export type BackendFailureReason =
  | 'connection' | 'http_5xx' | 'timeout' | 'socket_closed' | 'rejected' | 'execution_error' | 'circuit_open' | 'bad_response';

export class BackendError extends Error {
  /** The answer's body when a server refused the request (ComfyUI's node_errors JSON). */
  readonly body?: string;

  constructor(
    readonly kind: BackendFailureKind,
    readonly reason: BackendFailureReason,
    message: string,
    options?: { cause?: unknown; body?: string },
  ) {
    super(message, options);
    this.body = options?.body;
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

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

/** A fetch() that threw before an answer: the connection was refused, reset or never made. */
export function connectionError(url: string, error: unknown): BackendError {
  const cause = (error as { cause?: { code?: string } })?.cause;
  const code = cause?.code ?? (error as { code?: string })?.code;
  const detail = code && NETWORK_CODES.has(code) ? code : (error as Error)?.message ?? String(error);
  return new BackendError('transient', 'connection', `${url} unreachable (${detail})`, { cause: error });
}

/** A non-2xx answer: 5xx and 429 are transient, other 4xx a rejection. */
export function statusError(what: string, status: number, body: string): BackendError {
  const transient = status >= 500 || status === 429 || status === 408;
  return new BackendError(transient ? 'transient' : 'rejected', transient ? 'http_5xx' : 'rejected', `${what} answered ${status}: ${body.slice(0, 500)}`, { body });
}
