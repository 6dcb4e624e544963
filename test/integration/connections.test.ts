import jwt from 'jsonwebtoken';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, gqlData, signUp } from '../support/graphql';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../support/app';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api', ATELIER_MAX_CONNECTIONS_PER_USER: '3', ATELIER_CORS_ORIGINS: '*' });
});
afterAll(() => app?.close());

/** Connects and resolves with the close code (or 'open' once acknowledged). */
function connect(authorization: string | null): Promise<{ code: number | 'open'; dispose: () => void }> {
  return new Promise((resolve) => {
    const client = createClient({
      url: `${app.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: authorization ? { authorization } : {},
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

describe('graphql-ws connections', () => {
  it('refuses a bad token with 4403 and an anonymous subscribe with UNAUTHENTICATED', async () => {
    expect((await connect('Bearer not-a-token')).code).toBe(4403);
    const anonymous = await connect(null);
    expect(anonymous.code).toBe('open');
    anonymous.dispose();
  });

  it('limits open connections per user (4429 past the limit)', async () => {
    const user = await signUp(app.url);
    const open = await Promise.all([1, 2, 3].map(() => connect(`Bearer ${user.token}`)));
    expect(open.map((c) => c.code)).toEqual(['open', 'open', 'open']);
    expect((await connect(`Bearer ${user.token}`)).code).toBe(4429);
    open[0].dispose();
    await new Promise((r) => setTimeout(r, 300));
    const again = await connect(`Bearer ${user.token}`);
    expect(again.code).toBe('open');
    for (const c of [...open.slice(1), again]) c.dispose();
  });

  it('closes the socket with 4401 when the token expires', async () => {
    const user = await signUp(app.url);
    const shortLived = jwt.sign({ sub: user.id }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 1 });
    const closed = await new Promise<number>((resolve) => {
      const client = createClient({
        url: `${app.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false,
        connectionParams: { authorization: `Bearer ${shortLived}` },
        on: { closed: (event) => resolve((event as { code: number }).code) },
        onNonLazyError: () => undefined,
      });
      setTimeout(() => client.dispose(), 5000);
    });
    expect(closed).toBe(4401);
  });
});

describe('idle sessions', () => {
  it('are archived (kept, read-only), not deleted', async () => {
    const owner = await signUp(app.url);
    const { createSession } = await gqlData<any>(app.url, 'mutation { createSession(name: "Old") { id } }', {}, owner.token);
    await app.db.query(`UPDATE sessions SET last_activity_at = now() - interval '400 days' WHERE id = $1`, [createSession.id]);
    expect(await app.services.sessions.archiveIdle()).toBeGreaterThanOrEqual(1);
    const { session } = await gqlData<any>(app.url, 'query($s:ID!){ session(id:$s) { status archivedAt } }', { s: createSession.id }, owner.token);
    expect(session.status).toBe('ARCHIVED');
    expect(session.archivedAt).not.toBeNull();
    const generate = await gql(app.url, 'mutation($s:ID!){ createGeneration(input:{ prompt:"x", sessionId:$s }) { id } }', { s: createSession.id }, owner.token);
    expect(generate.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });
});

describe('CORS for third-party SPAs', () => {
  it('answers preflights and exposes the request id to any origin with ATELIER_CORS_ORIGINS=*', async () => {
    const preflight = await fetch(`${app.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://studio.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST', headers: { origin: 'https://studio.example.com', 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toBe('X-Request-ID');
  });
});
