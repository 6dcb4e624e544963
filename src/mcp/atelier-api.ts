import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { ErrorCode } from '../kernel/errors';
import { unreachableReason } from '../../sdk/src/errors';
import { refusalOf } from '../../sdk/src/resume';
import { answerOf, isQueryText, RETRY_DEFAULTS, retryPolicy, type AnsweredFailure } from '../../sdk/src/retries';

/** Where the running Atelier is and the API key the MCP server acts with. */
export interface AtelierConnection {
  /** Base URL of the Atelier API, e.g. http://localhost:4000. */
  url: string;
  /** An API key (`atl_…`), sent as `Authorization: Bearer`. */
  apiKey: string;
}

/**
 * A GraphQL error from Atelier, with the `extensions.code` and `extensions.field`
 * it carried, and the answer's status and Retry-After (null when none came).
 */
export class AtelierApiError extends Error {
  readonly status: number | null;
  readonly retryAfterSeconds: number | null;

  constructor(message: string, readonly code: string, readonly field: string | null = null, answer: Partial<AnsweredFailure> = {}) {
    super(message);
    this.name = 'AtelierApiError';
    this.status = answer.status ?? null;
    this.retryAfterSeconds = answer.retryAfterSeconds ?? null;
  }
}

/**
 * The live connection dropped (no answer, not a refusal): SERVICE_UNAVAILABLE
 * to the caller, but a subscription with an `after` can resume.
 */
export class ConnectionLostError extends AtelierApiError {
  constructor(reason: string) {
    super(`Subscription failed: ${reason}`, ErrorCode.SERVICE_UNAVAILABLE);
  }
}

interface FormattedError {
  message: string;
  extensions?: { code?: unknown; field?: unknown };
}

/** The first GraphQL error of a response, as an AtelierApiError. */
function toApiError(errors: readonly FormattedError[], answer: Partial<AnsweredFailure> = {}): AtelierApiError {
  const [first] = errors;
  const code = typeof first?.extensions?.code === 'string' ? first.extensions.code : ErrorCode.INTERNAL;
  const field = typeof first?.extensions?.field === 'string' ? first.extensions.field : null;
  return new AtelierApiError(first?.message ?? 'Unknown GraphQL error', code, field, answer);
}

/**
 * Atelier's public GraphQL API as the MCP server uses it: queries and
 * mutations over HTTP, subscriptions over graphql-ws, both with the API key.
 */
export class AtelierApi {
  private socket: Client | null = null;

  constructor(private readonly connection: AtelierConnection) {}

  /**
   * Runs a query or mutation; throws AtelierApiError on a GraphQL error or an
   * HTTP failure. Made again by the SDK's retry policy (sdk/README.md,
   * "Retries"): after a 429 or 503's Retry-After always, after no answer only
   * when `repeatable` (a query, unless the caller says otherwise).
   */
  async request<T>(query: string, variables: Record<string, unknown> = {}, repeatable = isQueryText(query)): Promise<T> {
    const payload = JSON.stringify({ query, variables });
    return retryPolicy(RETRY_DEFAULTS, repeatable).execute(() => this.post<T>(payload));
  }

  private async post<T>(payload: string): Promise<T> {
    const response = await fetch(new URL('/graphql', this.connection.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.connection.apiKey}` },
      body: payload,
    }).catch((error: unknown) => {
      // fetch says only "fetch failed": the reason (ECONNREFUSED 127.0.0.1:4000, ENOTFOUND …) is its cause.
      throw new AtelierApiError(`Cannot reach Atelier at ${this.connection.url} (${unreachableReason(error)}): is it running?`, ErrorCode.SERVICE_UNAVAILABLE);
    });
    const answer = answerOf(response);
    const body = (await response.json().catch(() => null)) as { data?: T | null; errors?: FormattedError[] } | null;
    if (body?.errors?.length) throw toApiError(body.errors, answer);
    if (!body?.data) throw new AtelierApiError(`Atelier answered HTTP ${response.status} without data`, ErrorCode.INTERNAL, null, answer);
    return body.data;
  }

  /**
   * Streams a subscription's results until it completes; throws AtelierApiError
   * on an error: UNAUTHENTICATED (close 4401, 4403) or RATE_LIMITED (4429)
   * when the server refused the connection, ConnectionLostError when it
   * dropped (resuming is the caller's business: it knows the last eventId).
   */
  async *subscribe<T>(query: string, variables: Record<string, unknown>): AsyncGenerator<T> {
    try {
      for await (const result of this.ws().iterate<T>({ query, variables })) {
        if (result.errors?.length) throw toApiError(result.errors);
        if (result.data) yield result.data;
      }
    } catch (error) {
      if (error instanceof AtelierApiError) throw error;
      // graphql-ws rejects with the error list, or with the close event of a refused socket.
      if (Array.isArray(error)) throw toApiError(error as FormattedError[]);
      const close = error as { reason?: string; code?: unknown } | null;
      const reason = close?.reason || (error as Error | null)?.message || 'connection closed';
      const refusal = refusalOf(close?.code);
      if (refusal) throw new AtelierApiError(`Subscription refused (${String(close?.code)}): ${reason}`, refusal);
      throw new ConnectionLostError(reason);
    }
  }

  /** Downloads a signed file URL (an image, a video's poster) as bytes; made again like a query. */
  async download(url: string): Promise<Buffer> {
    return retryPolicy(RETRY_DEFAULTS, true).execute(async () => {
      const response = await fetch(url).catch((error: unknown) => {
        throw new AtelierApiError(`Downloading ${url} failed (${unreachableReason(error)})`, ErrorCode.SERVICE_UNAVAILABLE);
      });
      if (response.ok) return Buffer.from(await response.arrayBuffer());
      throw new AtelierApiError(`Downloading ${url} failed with HTTP ${response.status}`, ErrorCode.SERVICE_UNAVAILABLE, null, answerOf(response));
    });
  }

  /** Closes the graphql-ws socket, if one was opened. */
  async close(): Promise<void> {
    await this.socket?.dispose();
    this.socket = null;
  }

  private ws(): Client {
    this.socket ??= createClient({
      url: new URL('/graphql', this.connection.url).toString().replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${this.connection.apiKey}` },
      lazy: true,
      retryAttempts: 0,
    });
    return this.socket;
  }
}
