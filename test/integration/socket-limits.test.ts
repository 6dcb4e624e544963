import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { gql, gqlData, signUp, waitFor, wsClient } from '../support/graphql';
import * as factory from '../support/factories';
import { startTestApp, type TestApp } from '../support/app';
import { openRawSocket, subscribeFrame } from '../support/raw-socket';

let app: TestApp;
let user: { token: string; id: string };
beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api', ATELIER_MAX_ANONYMOUS_CONNECTIONS_PER_ADDRESS: '3', ATELIER_SIGNED_OUT_REQUESTS_PER_MINUTE: '40' });
  user = await signUp(app.url, 'sockets');
});
afterAll(() => app?.close());

/** Runs one operation over a real graphql-ws client; returns its errors (as the client sees them). */
async function wsErrors(query: string, token: string | null = user.token): Promise<any[]> {
  const client = wsClient(app.url, token);
  try {
    return await new Promise<any[]>((resolve) => {
      client.subscribe({ query }, {
        next: (value) => resolve((value.errors as any[]) ?? []),
        error: (error) => resolve(Array.isArray(error) ? error : [error]),
        complete: () => undefined,
      });
    });
  } finally {
    await client.dispose();
  }
}

describe('graphql-ws limits', () => {
  it('closes a socket sending a message over 1 MiB (1009) without executing it, and keeps serving', async () => {
    for (const megabytes of [2, 10]) {
      const socket = await openRawSocket(app.url, user.token);
      expect(socket.greeting.type).toBe('connection_ack');
      const big = subscribeFrame('query Big($x: String) { me { id } }', `{"x":"${'a'.repeat(megabytes * 1024 * 1024)}"}`);
      expect(await socket.exchange(big)).toEqual({ type: 'closed', code: 1009 });
    }
    const socket = await openRawSocket(app.url, user.token);
    expect(await socket.exchange(subscribeFrame('{ me { id } }'))).toMatchObject({ type: 'next', payload: { data: { me: { id: user.id } } } });
    socket.close();
  });

  it('caps signed-out connections per address (4429); signed-in ones and freed slots still get in', async () => {
    const anonymous = await Promise.all([1, 2, 3].map(() => openRawSocket(app.url)));
    expect(anonymous.map((s) => s.greeting.type)).toEqual(['connection_ack', 'connection_ack', 'connection_ack']);
    const refused = await openRawSocket(app.url);
    expect(refused.greeting).toEqual({ type: 'closed', code: 4429 });
    const signedIn = await openRawSocket(app.url, user.token);
    expect(signedIn.greeting.type).toBe('connection_ack');
    anonymous[0].close();
    // The slot is freed when the server sees the close.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const again = await openRawSocket(app.url);
    expect(again.greeting.type).toBe('connection_ack');
    for (const socket of [...anonymous, again, signedIn]) socket.close();
  });

  it('gives back the slot of a socket that hangs up while it signs in: 25 such hang-ups do not lock the user out', async () => {
    const hasty = await signUp(app.url, 'hasty');
    const authenticate = app.services.auth.authenticate.bind(app.services.auth);
    // Sign-in made slow enough that every socket below is gone before it ends (a flaky network, a busy replica).
    const slow = vi.spyOn(app.services.auth, 'authenticate').mockImplementation(async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      return authenticate(...args);
    });
    try {
      await Promise.all(Array.from({ length: 25 }, async () => {
        const socket = new WebSocket(`${app.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
        await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
        socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${hasty.token}` } }));
        await new Promise((resolve) => setTimeout(resolve, 20));
        socket.terminate();
      }));
      await new Promise((resolve) => setTimeout(resolve, 400));
    } finally {
      slow.mockRestore();
    }
    expect(await app.redis.zcard(`${app.config.redisPrefix}:ws:conn:${hasty.id}`)).toBe(0);
    const socket = await openRawSocket(app.url, hasty.token);
    expect(socket.greeting.type).toBe('connection_ack');
    socket.close();
  });

  it('caps the operations one socket has open (QUOTA_EXCEEDED, scope SOCKET) and sets a burst up a few at a time', async () => {
    const busy = await factory.user(app, { tier: 'ENTERPRISE' });
    const job = (await gqlData<any>(app.url, 'mutation { createGeneration(input: { prompt: "held open" }) { id } }', {}, busy.token)).createGeneration;
    const seeJob = app.services.access.assertCanSeeJob.bind(app.services.access);
    let inFlight = 0;
    let most = 0;
    const watch = vi.spyOn(app.services.access, 'assertCanSeeJob').mockImplementation(async (...args) => {
      most = Math.max(most, ++inFlight);
      try {
        return await seeJob(...args);
      } finally {
        inFlight -= 1;
      }
    });
    const socket = new WebSocket(`${app.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    const received: any[] = [];
    socket.on('message', (data) => received.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${busy.token}` } }));
    await waitFor(async () => received.some((m) => m.type === 'connection_ack'), 5000);
    try {
      const feed = (n: number) => `{"id":"feed-${n}","type":"subscribe","payload":{"query":"subscription($id: ID!) { jobUpdated(jobId: $id) { type } }","variables":{"id":"${job.id}"}}}`;
      // 200 at once: every one is set up (the job is PENDING, so each feed stays open), never more than 8 at a time.
      for (let n = 0; n < 200; n++) socket.send(feed(n));
      await waitFor(async () => watch.mock.calls.length === 200, 20_000);
      expect(most).toBeLessThanOrEqual(8);
      socket.send(feed(200));
      await waitFor(async () => received.some((m) => m.id === 'feed-200'), 5000);
      expect(received.find((m) => m.id === 'feed-200')).toMatchObject({
        type: 'error', payload: [{ extensions: { code: 'QUOTA_EXCEEDED', scope: 'SOCKET', limit: 200 } }],
      });
      expect(received.filter((m) => m.type === 'error')).toHaveLength(1);
      // A completed one gives its place back.
      socket.send('{"id":"feed-0","type":"complete"}');
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.send(feed(201));
      await waitFor(async () => watch.mock.calls.length === 201, 5000);
    } finally {
      watch.mockRestore();
      socket.close();
    }
  });

  it('counts refused credentials against their address as HTTP does: past the window a socket is closed with 4429', async () => {
    const codes: number[] = [];
    for (let n = 0; n < 45; n++) codes.push((await openRawSocket(app.url, 'not-a-token')).greeting.code);
    // The file's other signed-out operations may have used a few of the 40 already.
    expect(codes.filter((code) => code === 4403).length).toBeLessThanOrEqual(40);
    expect(codes.slice(40)).toEqual([4429, 4429, 4429, 4429, 4429]);
    expect(new Set(codes)).toEqual(new Set([4403, 4429]));
    // A signed-out connection's operations count against the same window: it is full.
    const anonymous = await openRawSocket(app.url);
    expect(anonymous.greeting.type).toBe('connection_ack');
    expect(await anonymous.exchange(subscribeFrame('{ __typename }'))).toMatchObject({
      type: 'error', payload: [{ extensions: { code: 'RATE_LIMITED', limit: 40 } }],
    });
    anonymous.close();
  });

  it('names the document limit a refusal is for, as HTTP does (queryLimit)', async () => {
    const errors = await wsErrors(`{ jobs { edges { node { ${'images { job { '.repeat(5)}id${' } }'.repeat(5)} } } } }`);
    expect(errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', queryLimit: 'depth', limit: 12 });
  });

  it('applies the caller\'s tier cost budget, as HTTP does', async () => {
    const costly = '{ jobs(first: 100) { edges { node { id images { id url job { images { id url seed width height } } } } } } }';
    const errors = await wsErrors(costly);
    expect(errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 5000 });
    expect((await gql(app.url, costly, {}, user.token)).errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 5000 });
    expect(await wsErrors('{ jobs(first: 10) { edges { node { id } } } }')).toEqual([]);
  });

  it('errors carry extensions.code, and internal errors do not leak their text', async () => {
    const bad = await wsErrors('mutation { createAlbum(name: "") { id } }');
    expect(bad[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    expect(bad[0].extensions.http).toBeUndefined();
    const forbidden = await wsErrors('{ users { id } }');
    expect(forbidden[0].extensions.code).toBe('FORBIDDEN');
    // A real internal error: the table behind `albums` is gone for a moment.
    await app.db.query('ALTER TABLE albums RENAME TO albums_hidden');
    try {
      const internal = await wsErrors('{ albums { edges { node { id } } } }');
      expect(internal[0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL' } });
      expect(JSON.stringify(internal)).not.toMatch(/relation|does not exist/);
      const overHttp = await gql(app.url, '{ albums { edges { node { id } } } }', {}, user.token);
      expect(overHttp.errors?.[0].extensions?.code).toBe('INTERNAL');
    } finally {
      await app.db.query('ALTER TABLE albums_hidden RENAME TO albums');
    }
  });
});
