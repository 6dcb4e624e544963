import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { ErrorCode } from '../kernel/errors';

/** Where the running Atelier is and the API key the MCP server acts with. */
export interface AtelierConnection {
  /** Base URL of the Atelier API, e.g. http://localhost:4000. */
  url: string;
  /** An API key (`atl_…`), sent as `Authorization: Bearer`. */
  apiKey: string;
}

/** A GraphQL error from Atelier, with the `extensions.code` and `extensions.field` it carried. */
export class AtelierApiError extends Error {
  constructor(message: string, readonly code: string, readonly field: string | null = null) {
    super(message);
    this.name = 'AtelierApiError';
  }
}

interface FormattedError {
  message: string;
  extensions?: { code?: unknown; field?: unknown };
}

/** The first GraphQL error of a response, as an AtelierApiError. */
function toApiError(errors: readonly FormattedError[]): AtelierApiError {
  const [first] = errors;
  const code = typeof first?.extensions?.code === 'string' ? first.extensions.code : ErrorCode.INTERNAL;
  const field = typeof first?.extensions?.field === 'string' ? first.extensions.field : null;
  return new AtelierApiError(first?.message ?? 'Unknown GraphQL error', code, field);
}

/**
 * Atelier's public GraphQL API as the MCP server uses it: queries and
 * mutations over HTTP, subscriptions over graphql-ws, both with the API key.
 */
export class AtelierApi {
  private socket: Client | null = null;

  constructor(private readonly connection: AtelierConnection) {}

  /** Runs a query or mutation; throws AtelierApiError on a GraphQL error or an HTTP failure. */
  async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const response = await fetch(new URL('/graphql', this.connection.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.connection.apiKey}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json().catch(() => null)) as { data?: T | null; errors?: FormattedError[] } | null;
    if (body?.errors?.length) throw toApiError(body.errors);
    if (!body?.data) throw new AtelierApiError(`Atelier answered HTTP ${response.status} without data`, ErrorCode.INTERNAL);
    return body.data;
  }

  /** Streams a subscription's results until it completes; throws AtelierApiError on an error. */
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
      const reason = (error as { reason?: string; code?: number }).reason || (error as Error).message || 'connection closed';
      throw new AtelierApiError(`Subscription failed: ${reason}`, ErrorCode.SERVICE_UNAVAILABLE);
    }
  }

  /** Downloads a signed file URL (an image) as bytes. */
  async download(url: string): Promise<Buffer> {
    const response = await fetch(url);
    if (!response.ok) throw new AtelierApiError(`Downloading ${url} failed with HTTP ${response.status}`, ErrorCode.SERVICE_UNAVAILABLE);
    return Buffer.from(await response.arrayBuffer());
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
