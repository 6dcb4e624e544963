import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { collect, gql, wsClient } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api', ATELIER_AUTH_ATTEMPTS_PER_MINUTE: '3' });
});
afterAll(() => app?.close());

const LOGIN = 'mutation($e:String!, $p:String!){ login(email:$e, password:$p) { token } }';

describe('sign-in throttling', () => {
  it('limits password guesses per account and per address, with retryAfterSeconds', async () => {
    await gql(app.url, 'mutation { register(email:"target@example.com", password:"the real one") { token } }');
    const codes: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const res = await gql(app.url, LOGIN, { e: 'target@example.com', p: `guess ${i}` });
      codes.push(res.errors?.[0].extensions?.code);
    }
    expect(codes).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED', 'RATE_LIMITED']);
    const blocked = await gql(app.url, LOGIN, { e: 'target@example.com', p: 'the real one' });
    expect(blocked.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 3 });
    expect(blocked.errors?.[0].extensions?.retryAfterSeconds).toBeGreaterThan(0);
    // Sign-ups have their own allowance per address (one was used above).
    const signups = [];
    for (let i = 0; i < 3; i += 1) {
      signups.push((await gql(app.url, `mutation { register(email:"another${i}@example.com", password:"long enough pw") { token } }`)).errors?.[0].extensions?.code ?? 'OK');
    }
    expect(signups).toEqual(['OK', 'OK', 'RATE_LIMITED']);
  });
});

/** Runs one operation over a graphql-ws socket; answers the first error code, or OK. */
async function overSocket(client: Client, query: string, variables: Record<string, unknown>): Promise<string> {
  const run = collect<any>(client, query, variables, (items) => items.length > 0);
  await run.done;
  const [error] = run.errors as { extensions?: { code?: string } }[];
  return error ? String(error.extensions?.code) : 'OK';
}

describe('sign-in throttling over graphql-ws (17.5)', () => {
  let other: TestApp;
  beforeAll(async () => {
    // One trusted proxy: requests without X-Forwarded-For are still counted by their own address (127.0.0.1).
    other = await startTestApp({ ATELIER_ROLE: 'api', ATELIER_AUTH_ATTEMPTS_PER_MINUTE: '3', ATELIER_TRUST_PROXY: '1' });
  });
  afterAll(() => other?.close());

  it('login and register on a socket count against the same per-address counters as over HTTP', async () => {
    const socket = wsClient(other.url);
    try {
      expect((await gql(other.url, 'mutation { register(email:"ws-target@example.com", password:"the real one") { token } }')).errors).toBeUndefined();
      // Two guesses on the socket and one over HTTP use up the address's three attempts...
      expect(await overSocket(socket, LOGIN, { e: 'ws-target@example.com', p: 'guess 1' })).toBe('UNAUTHENTICATED');
      expect(await overSocket(socket, LOGIN, { e: 'ws-target@example.com', p: 'guess 2' })).toBe('UNAUTHENTICATED');
      expect((await gql(other.url, LOGIN, { e: 'someone@example.com', p: 'guess 3' })).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      // ...so the address is limited over HTTP, and the socket is limited too, even with the right password.
      expect((await gql(other.url, LOGIN, { e: 'someone-else@example.com', p: 'guess 4' })).errors?.[0].extensions?.code).toBe('RATE_LIMITED');
      expect(await overSocket(socket, LOGIN, { e: 'ws-target@example.com', p: 'the real one' })).toBe('RATE_LIMITED');

      // Sign-ups: one over HTTP above, two more on the socket, then the socket is refused.
      const signups = [];
      for (let i = 0; i < 3; i += 1) {
        signups.push(await overSocket(socket, 'mutation($e:String!){ register(email:$e, password:"long enough pw") { token } }', { e: `ws-new${i}@example.com` }));
      }
      expect(signups).toEqual(['OK', 'OK', 'RATE_LIMITED']);
      expect((await gql(other.url, 'mutation { register(email:"http-new@example.com", password:"long enough pw") { token } }')).errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    } finally {
      await socket.dispose();
    }
  });

  it('behind a trusted proxy, both transports count the forwarded client address', async () => {
    const forwardedSocket = (address: string): Client => createClient({
      url: `${other.url.replace(/^http/, 'ws')}/graphql`, retryAttempts: 0, lazy: true,
      webSocketImpl: class extends WebSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols, { headers: { 'x-forwarded-for': address } });
        }
      },
    });
    const viaProxy = (address: string) => ({ 'x-forwarded-for': address });
    const limited = forwardedSocket('203.0.113.7');
    const neighbour = forwardedSocket('203.0.113.8');
    try {
      const codes = [];
      for (let i = 0; i < 3; i += 1) codes.push((await gql(other.url, LOGIN, { e: `proxied${i}@example.com`, p: 'guess' }, null, viaProxy('203.0.113.7'))).errors?.[0].extensions?.code);
      expect(codes).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED']);
      expect(await overSocket(limited, LOGIN, { e: 'proxied-ws@example.com', p: 'guess' })).toBe('RATE_LIMITED');
      expect(await overSocket(neighbour, LOGIN, { e: 'proxied-ws@example.com', p: 'guess' })).toBe('UNAUTHENTICATED');
    } finally {
      await limited.dispose();
      await neighbour.dispose();
    }
  });
});
