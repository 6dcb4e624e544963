import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface GraphQLResponse<T = Record<string, any>> {
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, any>; path?: string[] }[];
}

/** POSTs a GraphQL operation; `token` may be a JWT or an API key. */
export async function gql<T = Record<string, any>>(
  url: string, query: string, variables: Record<string, unknown> = {}, token?: string | null, headers: Record<string, string> = {},
): Promise<GraphQLResponse<T> & { status: number; headers: Headers }> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as GraphQLResponse<T>;
  return { ...body, status: res.status, headers: res.headers };
}

/** Like gql but throws on errors and returns data. */
export async function gqlData<T = Record<string, any>>(url: string, query: string, variables: Record<string, unknown> = {}, token?: string | null): Promise<T> {
  const res = await gql<T>(url, query, variables, token);
  if (res.errors?.length || !res.data) throw new Error(`GraphQL error: ${JSON.stringify(res.errors)}`);
  return res.data;
}

let counter = 0;

/** An email address no other test uses. */
function uniqueEmail(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now()}-${counter}@example.com`;
}

/** Registers a user (a fresh address unless `email` is given); returns its token and id. */
export async function signUp(url: string, prefix = 'user', email = uniqueEmail(prefix)): Promise<{ token: string; id: string; email: string }> {
  const data = await gqlData<{ register: { token: string; user: { id: string } } }>(
    url, 'mutation($e:String!){ register(email:$e, password:"correct horse battery") { token user { id } } }', { e: email },
  );
  return { token: data.register.token, id: data.register.user.id, email };
}

/** A real graphql-ws client (Node needs `ws` as the WebSocket implementation). */
export function wsClient(url: string, token?: string | null, options: { retryAttempts?: number; lazyCloseTimeout?: number } = {}): Client {
  return createClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: options.retryAttempts ?? 0,
    lazy: true,
    lazyCloseTimeout: options.lazyCloseTimeout ?? 0,
  });
}

/** Collects a subscription's results until it completes or `until` says stop. */
export function collect<T = any>(
  client: Client, query: string, variables: Record<string, unknown>,
  until: (items: T[]) => boolean = () => false,
): { items: T[]; errors: unknown[]; done: Promise<void>; dispose: () => void } {
  const items: T[] = [];
  const errors: unknown[] = [];
  let dispose: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    dispose = client.subscribe<T>({ query, variables }, {
      next: (value) => {
        if (value.errors) errors.push(...value.errors);
        if (value.data) items.push(value.data as T);
        if (until(items)) {
          dispose();
          resolve();
        }
      },
      error: (error) => {
        errors.push(error);
        resolve();
      },
      complete: () => resolve(),
    });
  });
  return { items, errors, done, dispose: () => dispose() };
}

/** Polls `check` until it returns a truthy value. */
export async function waitFor<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Opens a graphql-ws connection at once; resolves with 'open' once acknowledged, or the close code. */
export function wsConnect(url: string, token: string | null): Promise<{ code: number | 'open'; dispose: () => void }> {
  return new Promise((resolve) => {
    const client = createClient({
      url: `${url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      retryAttempts: 0,
      lazy: false,
      on: {
        connected: () => resolve({ code: 'open', dispose: () => void client.dispose() }),
        closed: (event) => resolve({ code: (event as { code: number }).code, dispose: () => void client.dispose() }),
      },
      onNonLazyError: () => undefined,
    });
  });
}
