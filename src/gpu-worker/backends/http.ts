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
 * Sends a request and returns the response once it is 2xx. A refused or reset
 * connection, a 5xx or the timeout (cockatiel's cooperative timeout, which
 * aborts the fetch) become transient BackendErrors; the job's own abort
 * becomes PipelineAbortedError.
 */
export async function call(url: string, init: RequestInit, options: CallOptions): Promise<Response> {
  const policy = timeout(options.timeoutMs, TimeoutStrategy.Cooperative);
  try {
    const response = await policy.execute(({ signal }) => fetch(url, { ...init, headers: { ...options.headers, ...init.headers }, signal }), options.signal);
    if (!response.ok) throw statusError(`${init.method ?? 'GET'} ${url}`, response.status, await response.text().catch(() => ''));
    return response;
  } catch (error) {
    throw classify(url, error, options);
  }
}

/** `call` for a JSON answer. */
export async function callJson<T>(url: string, init: RequestInit, options: CallOptions): Promise<T> {
  const response = await call(url, init, options);
  try {
    return (await response.json()) as T;
  } catch (error) {
    throw classify(url, error, options);
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
