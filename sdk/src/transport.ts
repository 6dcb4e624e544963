import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { Kind, OperationTypeNode, print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { AtelierError, unreachableReason } from './errors';
import type { ErrorCode } from './generated/enums';
import { refusalOf } from './resume';
import { answerOf, retryPolicy, type RetryOptions } from './retries';

/**
 * How the SDK reaches Atelier. Queries and mutations are made again on the
 * server's "come back later" answers, and on no answer when that is harmless
 * (`RetryOptions`; sdk/README.md, "Retries").
 */
export interface AtelierClientOptions extends RetryOptions {
  /** Base URL of the Atelier API, e.g. http://localhost:4000. */
  url: string;
  /** An API key (`atl_…`) or a session token, sent as `Authorization: Bearer`. */
  apiKey: string;
  /**
   * A WebSocket constructor for the live events; the global one by default
   * (Node 22+, browsers), else the `ws` package.
   */
  webSocketImpl?: unknown;
  /** fetch to use; the global one by default. */
  fetch?: typeof fetch;
  /**
   * How long the live-events socket stays open after its last subscription
   * ends, in ms (default 1000): jobs watched one after another share one
   * socket instead of a handshake and sign-in each. `close()` ends it at once;
   * 0 closes it as soon as nothing is watched.
   */
  socketIdleMs?: number;
}

/** `AtelierClientOptions.socketIdleMs`'s default. */
export const SOCKET_IDLE_MS = 1000;

type Variables = Record<string, unknown>;

/** Queries and mutations over HTTP, subscriptions over one lazy graphql-ws socket. */
export class Transport {
  private socket: Promise<Client> | null = null;

  /**
   * Throws AtelierError BAD_USER_INPUT (field `url`) when `options.url` is not
   * an absolute http(s) URL: `localhost:4000` parses as a URL whose scheme is
   * `localhost:`, and every call would then fail.
   */
  constructor(private readonly options: AtelierClientOptions) {
    let protocol: string | null = null;
    try {
      protocol = new URL(options.url).protocol;
    } catch {
      // Reported below.
    }
    if (protocol !== 'http:' && protocol !== 'https:') {
      throw new AtelierError(`url must be an absolute http(s) URL such as http://localhost:4000, not ${JSON.stringify(options.url)}`, 'BAD_USER_INPUT', 'url');
    }
  }

  /** A URL on the server (the API path, or a relative file URL from `Image.url`). */
  resolve(pathOrUrl: string): URL {
    return new URL(pathOrUrl, this.options.url);
  }

  /**
   * Runs a query or mutation; throws AtelierError with the server's code.
   * Made again as `isRetryable` says; `repeatable` (whether doing it twice is
   * harmless) is true for queries unless the caller says otherwise.
   */
  async request<TData, TVariables extends Variables>(
    document: TypedDocumentNode<TData, TVariables>, variables: TVariables, repeatable = isQuery(document),
  ): Promise<TData> {
    const body = JSON.stringify({ query: print(document), variables });
    return retryPolicy(this.options, repeatable).execute(() => this.post<TData>(body));
  }

  private async post<TData>(body: string): Promise<TData> {
    const response = await this.fetch(this.resolve('/graphql'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.apiKey}` },
      body,
    });
    const answer = answerOf(response);
    const result = (await response.json().catch(() => null)) as { data?: TData | null; errors?: [] } | null;
    if (result?.errors?.length) throw AtelierError.fromGraphQL(result.errors, answer);
    if (!result?.data) throw new AtelierError(`Atelier answered HTTP ${response.status} without data`, 'NETWORK', null, answer);
    return result.data;
  }

  /**
   * One subscription's results. GraphQL errors throw AtelierError with their
   * code; a connection the server refused throws UNAUTHENTICATED (close 4401,
   * 4403) or RATE_LIMITED (4429); a lost connection throws AtelierError
   * NETWORK (the caller decides whether to resubscribe).
   */
  async *subscribe<TData, TVariables extends Variables>(document: TypedDocumentNode<TData, TVariables>, variables: TVariables): AsyncGenerator<TData> {
    const socket = await this.ws();
    try {
      for await (const result of socket.iterate<TData>({ query: print(document), variables })) {
        if (result.errors?.length) throw AtelierError.fromGraphQL(result.errors);
        if (result.data) yield result.data;
      }
    } catch (error) {
      if (error instanceof AtelierError) throw error;
      // graphql-ws rejects with the error list, or with the close event of a dropped socket.
      if (Array.isArray(error)) throw AtelierError.fromGraphQL(error);
      const close = error as { code?: unknown; reason?: string } | null;
      const reason = close?.reason || (error as Error | null)?.message || 'connection closed';
      const refusal = refusalOf(close?.code);
      if (refusal) throw new AtelierError(`Subscription refused (${String(close?.code)}): ${reason}`, refusal);
      throw new AtelierError(`Subscription interrupted: ${reason}`, 'NETWORK');
    }
  }

  /**
   * Downloads bytes (a signed image URL needs no credentials). A read, so made
   * again like a query; an error answer carries the file route's code.
   */
  async download(pathOrUrl: string): Promise<Uint8Array> {
    return retryPolicy(this.options, true).execute(async () => {
      const response = await this.fetch(this.resolve(pathOrUrl));
      if (response.ok) return new Uint8Array(await response.arrayBuffer());
      const answer = answerOf(response);
      const body = (await response.json().catch(() => null)) as { code?: unknown; error?: unknown } | null;
      const code = typeof body?.code === 'string' ? body.code as ErrorCode : response.status === 404 ? 'NOT_FOUND' : 'NETWORK';
      throw new AtelierError(`Download failed with HTTP ${response.status}${typeof body?.error === 'string' ? `: ${body.error}` : ''}`, code, null, answer);
    });
  }

  /** Closes the socket, if one was opened. */
  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    if (socket) await (await socket).dispose();
  }

  private fetch(url: URL, init?: RequestInit): Promise<Response> {
    return (this.options.fetch ?? fetch)(url, init).catch((error: unknown) => {
      throw new AtelierError(`Cannot reach Atelier at ${url.origin} (${unreachableReason(error)})`, 'NETWORK');
    });
  }

  private ws(): Promise<Client> {
    this.socket ??= this.webSocketImpl().then((webSocketImpl) => createClient({
      url: this.resolve('/graphql').toString().replace(/^http/, 'ws'),
      webSocketImpl,
      connectionParams: { authorization: `Bearer ${this.options.apiKey}` },
      lazy: true,
      lazyCloseTimeout: this.options.socketIdleMs ?? SOCKET_IDLE_MS,
      // Resuming is the job stream's business (it knows the last eventId).
      retryAttempts: 0,
    }));
    return this.socket;
  }

  private async webSocketImpl(): Promise<unknown> {
    if (this.options.webSocketImpl) return this.options.webSocketImpl;
    if ('WebSocket' in globalThis) return globalThis.WebSocket;
    return (await import('ws')).default;
  }
}

/** Whether the document's operation is a query (reading only, so harmless to repeat). */
function isQuery(document: TypedDocumentNode<unknown, never>): boolean {
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  return operation?.kind === Kind.OPERATION_DEFINITION && operation.operation === OperationTypeNode.QUERY;
}
