import { TaskCancelledError, timeout, TimeoutStrategy } from 'cockatiel';
import { PipelineAbortedError } from '../pipeline/errors';
import { badAnswer, BackendError, connectionError, requestName, statusError, timeoutError } from './backend-error';

/** One HTTP call to a backend, bounded by the request timeout and the job's abort signal. */
export interface CallOptions {
  /** The backend as a job's error names it ("ComfyUI", "The image API"), never by its URL. */
  backend: string;
  timeoutMs: number;
  signal: AbortSignal;
  headers?: Record<string, string>;
}

/**
 * Sends a request and returns the body of a 2xx answer. The body is read
 * inside the timeout (cockatiel aborts its signal once the call returns), so
 * a server that stalls mid-body times out too. A refused or reset connection,
 * a 5xx or the timeout become transient BackendErrors; the job's own abort
 * becomes PipelineAbortedError.
 */
export async function call(url: string, init: RequestInit, options: CallOptions): Promise<Buffer> {
  const policy = timeout(options.timeoutMs, TimeoutStrategy.Cooperative);
  try {
    return await policy.execute(async ({ signal }) => {
      const response = await fetch(url, { ...init, headers: { ...options.headers, ...init.headers }, signal });
      const body = Buffer.from(await response.arrayBuffer());
      if (!response.ok) throw statusError(options.backend, init.method ?? 'GET', url, response.status, body.toString('utf8'));
      return body;
    }, options.signal);
  } catch (error) {
    throw classify(url, error, options);
  }
}

/**
 * `call` for a JSON answer. What parsed is `unknown`: a 2xx can carry
 * anything (`null`, a proxy's page), so callers check its shape. A body that
 * is not JSON is a bad answer, not a transient failure.
 */
export async function callJson(url: string, init: RequestInit, options: CallOptions): Promise<unknown> {
  const body = (await call(url, init, options)).toString('utf8');
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw badAnswer(options.backend, requestName(init.method ?? 'GET', url), url, 'with something that is not JSON', body);
  }
}

function classify(url: string, error: unknown, options: CallOptions): Error {
  if (error instanceof BackendError || error instanceof PipelineAbortedError) return error;
  if (options.signal.aborted) return new PipelineAbortedError();
  // The job's signal did not fire, so an abort is the timeout's: it revokes fetch's signal, and fetch (or the body
  // being read) rejects with an AbortError rather than cockatiel's TaskCancelledError.
  if (error instanceof TaskCancelledError || (error as Error)?.name === 'AbortError') return timeoutError(url, options.timeoutMs, error);
  return connectionError(url, error);
}

/** A body for POSTing JSON. */
export function jsonBody(value: unknown): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}
