import { TaskCancelledError, timeout, TimeoutStrategy } from 'cockatiel';
import { PipelineAbortedError } from '../pipeline/errors';
import { BackendError, connectionError, statusError } from './backend-error';

/** One HTTP call to a backend, bounded by the request timeout and the job's abort signal. */
export interface CallOptions {
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
      if (!response.ok) throw statusError(`${init.method ?? 'GET'} ${url}`, response.status, body.toString('utf8'));
      return body;
    }, options.signal);
  } catch (error) {
    throw classify(url, error, options);
  }
}

/** `call` for a JSON answer. */
export async function callJson<T>(url: string, init: RequestInit, options: CallOptions): Promise<T> {
  const body = await call(url, init, options);
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch {
    throw new BackendError('transient', 'bad_response', `${url} answered something that is not JSON`);
  }
}

function classify(url: string, error: unknown, options: CallOptions): Error {
  if (error instanceof BackendError || error instanceof PipelineAbortedError) return error;
  if (options.signal.aborted) return new PipelineAbortedError();
  if (error instanceof TaskCancelledError) return new BackendError('transient', 'timeout', `${url} did not answer within ${options.timeoutMs} ms`, { cause: error });
  return connectionError(url, error);
}

/** A body for POSTing JSON. */
export function jsonBody(value: unknown): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}
