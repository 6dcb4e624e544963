import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { AtelierError } from './errors';

/** How the SDK reaches Atelier. */
export interface AtelierClientOptions {
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

  constructor(private readonly options: AtelierClientOptions) {}

  /** A URL on the server (the API path, or a relative file URL from `Image.url`). */
  resolve(pathOrUrl: string): URL {
    return new URL(pathOrUrl, this.options.url);
  }

  /** Runs a query or mutation; throws AtelierError with the server's code. */
  async request<TData, TVariables extends Variables>(document: TypedDocumentNode<TData, TVariables>, variables: TVariables): Promise<TData> {
    const response = await this.fetch(this.resolve('/graphql'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.apiKey}` },
      body: JSON.stringify({ query: print(document), variables }),
    });
    const body = (await response.json().catch(() => null)) as { data?: TData | null; errors?: [] } | null;
    if (body?.errors?.length) throw AtelierError.fromGraphQL(body.errors);
    if (!body?.data) throw new AtelierError(`Atelier answered HTTP ${response.status} without data`, 'NETWORK');
    return body.data;
  }

  /**
   * One subscription's results. GraphQL errors throw AtelierError with their
   * code; a lost connection throws AtelierError NETWORK (the caller decides
   * whether to resubscribe).
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
      const reason = (error as { reason?: string }).reason || (error as Error).message || 'connection closed';
      throw new AtelierError(`Subscription interrupted: ${reason}`, 'NETWORK');
    }
  }

  /** Downloads bytes (a signed image URL needs no credentials). */
  async download(pathOrUrl: string): Promise<Uint8Array> {
    const response = await this.fetch(this.resolve(pathOrUrl)).catch((error: Error) => {
      throw new AtelierError(`Download failed: ${error.message}`, 'NETWORK');
    });
    if (!response.ok) throw new AtelierError(`Download failed with HTTP ${response.status}`, response.status === 404 ? 'NOT_FOUND' : 'NETWORK');
    return new Uint8Array(await response.arrayBuffer());
  }

  /** Closes the socket, if one was opened. */
  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    if (socket) await (await socket).dispose();
  }

  private fetch(url: URL, init?: RequestInit): Promise<Response> {
    return (this.options.fetch ?? fetch)(url, init).catch((error: Error) => {
      throw new AtelierError(`Cannot reach Atelier: ${error.message}`, 'NETWORK');
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
