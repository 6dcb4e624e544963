import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { GraphQLObjectType, GraphQLSchema, GraphQLString, type ExecutionArgs, type FormattedExecutionResult } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket, { WebSocketServer } from 'ws';
import { SEND_HIGH_WATER_BYTES, serveGraphqlWs } from '../../src/server/graphql-ws-socket';
import { subscribeSharingResults } from '../../src/server/shared-execution';
import { AsyncQueue } from '../../src/subscriptions/async-queue';

/** Pulls counted by the subscription's generator: what the server took from its source. */
let pulled = 0;
/** The `queued` subscriptions' sources, as the event log makes them (pushed to, not pulled from). */
const queues: AsyncQueue<{ queued: string; fail?: boolean }>[] = [];
const BIG = 'x'.repeat(32 * 1024);

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      ok: { type: GraphQLString, resolve: () => 'ok' },
      // What the connection kept of its upgrade request (see `start`'s extraOf).
      agent: { type: GraphQLString, resolve: (_root, _args, context: { extra: { agent?: string } }) => context.extra.agent },
    },
  }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      // Five small events at once, all in one turn of the event loop.
      burst: {
        type: GraphQLString,
        subscribe: async function* () {
          for (let i = 0; i < 5; i += 1) yield { burst: `event ${i}` };
        },
      },
      // An event log's queue: events are pushed as they come; `fail` makes that event's execution fail.
      queued: {
        type: GraphQLString,
        subscribe: () => {
          const queue = new AsyncQueue<{ queued: string; fail?: boolean }>();
          queues.push(queue);
          return queue;
        },
        resolve: (event: { queued: string; fail?: boolean }) => {
          if (event.fail) throw new Error(`cannot resolve ${event.queued}`);
          return event.queued;
        },
      },
      big: {
        type: GraphQLString,
        subscribe: async function* () {
          for (let i = 0; i < 2000; i += 1) {
            pulled += 1;
            yield { big: BIG };
          }
        },
      },
    },
  }),
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(
  keepAliveMs: number,
  reported: { internal: unknown[]; client: unknown[] } = { internal: [], client: [] },
  extraOf: (request: http.IncomingMessage) => Record<string, unknown> = () => ({}),
  direct?: { directResults: boolean; onNext: () => void },
) {
  const httpServer = http.createServer();
  const wss = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: 1024 });
  // With `direct`, as the service runs it: results shared through the event log's queue (shared-execution.ts),
  // an onNext that hands a result without errors back unchanged.
  const sharing = direct
    ? { subscribe: (args: ExecutionArgs) => subscribeSharingResults(args), onNext: (_ctx: unknown, _id: string, _payload: unknown, _args: unknown, result: FormattedExecutionResult) => { direct.onNext(); return result; } }
    : {};
  const served = serveGraphqlWs<Record<string, unknown>, Record<string, unknown>>({ schema, context: (ctx) => ({ extra: ctx.extra }), ...sharing }, wss, {
    keepAliveMs, onInternalError: (err) => reported.internal.push(err), onClientError: (err) => reported.client.push(err), extraOf,
    directResults: direct?.directResults,
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    await served.dispose();
    await new Promise((resolve) => wss.close(resolve));
    await new Promise((resolve) => httpServer.close(resolve));
  });
  return { url: `ws://127.0.0.1:${(httpServer.address() as AddressInfo).port}/graphql`, wss };
}

describe('graphql-ws on ws (serveGraphqlWs)', () => {
  it('answers queries and streams subscriptions with graphql-ws’s own client', async () => {
    const { url } = await start(10_000);
    const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0 });
    cleanups.push(() => client.dispose());
    const result = await new Promise((resolve, reject) => {
      client.subscribe({ query: '{ ok }' }, { next: resolve, error: reject, complete: () => undefined });
    });
    expect(result).toEqual({ data: { ok: 'ok' } });
    pulled = 0;
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      client.subscribe({ query: 'subscription { big }' }, { next: () => { received += 1; }, error: reject, complete: resolve });
    });
    expect(received).toBe(2000);
  });

  it('stops taking events from the source while a subscriber does not read, and resumes when it does', async () => {
    const { url } = await start(10_000);
    pulled = 0;
    const socket = new WebSocket(url, 'graphql-transport-ws');
    cleanups.push(() => socket.terminate());
    let received = 0;
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { big }' } }));
        // Stop reading once the subscription is asked for: the server's writes pile up in the kernel, then in ws.
        setImmediate(() => (socket as unknown as { _socket: import('node:net').Socket })._socket.pause());
      }
      if (message.type === 'next') received += 1;
    });
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // 2,000 events of 32 KB are 64 MB; without backpressure the server would have taken them all.
    const whilePaused = pulled;
    expect(whilePaused).toBeGreaterThan(0);
    expect(whilePaused * BIG.length).toBeLessThan(32 * 1024 * 1024);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(pulled).toBe(whilePaused);
    (socket as unknown as { _socket: import('node:net').Socket })._socket.resume();
    await expect.poll(() => received, { timeout: 20_000 }).toBe(2000);
    expect(SEND_HIGH_WATER_BYTES).toBeLessThan(BIG.length * 4);
  });

  it('sends a socket’s frames of one turn after its first in one write, in order', async () => {
    const { url, wss } = await start(10_000);
    const socket = new WebSocket(url, 'graphql-transport-ws');
    cleanups.push(() => socket.terminate());
    const messages: { type: string; payload?: { data?: unknown } }[] = [];
    const done = new Promise<void>((resolve) => socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      messages.push(message);
      if (message.type === 'connection_ack') socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { burst }' } }));
      if (message.type === 'complete') resolve();
    }));
    await new Promise((resolve) => socket.once('open', resolve));
    // Count the server socket's writes to the kernel: one per _write or _writev call.
    const [served] = [...wss.clients];
    const raw = (served as unknown as { _socket: import('node:net').Socket & { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void } })._socket;
    let writes = 0;
    for (const method of ['_write', '_writev'] as const) {
      const original = raw[method].bind(raw);
      raw[method] = (...args: unknown[]) => { writes += 1; original(...args); };
    }
    socket.send(JSON.stringify({ type: 'connection_init' }));
    await done;
    expect(messages.map((m) => m.type)).toEqual(['connection_ack', 'next', 'next', 'next', 'next', 'next', 'complete']);
    expect(messages.slice(1, 6).map((m) => m.payload!.data)).toEqual([0, 1, 2, 3, 4].map((i) => ({ burst: `event ${i}` })));
    // The ack in its own turn; then the first event at once and the other four with the completion in one write.
    // Sent one by one, the seven frames took seven writes.
    expect(writes).toBe(3);
    expect(raw.writableCorked).toBe(0);
  });

  it('writes an event queue’s results itself, frame for frame as graphql-ws writes them; a result with errors goes through onNext', async () => {
    /** The frames a raw client reads from a server, `directResults` on or off, for the same pushed events. */
    const framesFrom = async (directResults: boolean) => {
      let onNext = 0;
      const { url } = await start(10_000, undefined, undefined, { directResults, onNext: () => { onNext += 1; } });
      queues.length = 0;
      const socket = new WebSocket(url, 'graphql-transport-ws');
      cleanups.push(() => socket.terminate());
      const frames: string[] = [];
      const done = new Promise<void>((resolve) => socket.on('message', (data) => {
        const frame = String(data);
        frames.push(frame);
        if (frame.includes('connection_ack')) socket.send(JSON.stringify({ id: 'sub "1"', type: 'subscribe', payload: { query: 'subscription { queued }' } }));
        if (frame.includes('"complete"')) resolve();
      }));
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
      await expect.poll(() => queues.length).toBe(1);
      const [queue] = queues;
      queue.push({ queued: 'one' });
      queue.push({ queued: 'two "quoted" é' });
      queue.push({ queued: 'three', fail: true });
      await new Promise((resolve) => setTimeout(resolve, 50));
      queue.push({ queued: 'four' });
      queue.end();
      await done;
      return { frames, onNext };
    };
    const direct = await framesFrom(true);
    const throughGraphqlWs = await framesFrom(false);
    expect(direct.frames).toEqual(throughGraphqlWs.frames);
    expect(direct.frames).toHaveLength(6); // the ack, four events (one with errors) and the completion
    expect(JSON.parse(direct.frames[3]).payload.errors[0].message).toBe('cannot resolve three');
    // graphql-ws's onNext saw every result; with directResults, only the one with errors.
    expect(throughGraphqlWs.onNext).toBe(4);
    expect(direct.onNext).toBe(1);
  });

  it('holds an event queue’s results in the queue while a subscriber does not read, and writes them all, in order, when it does', async () => {
    const { url, wss } = await start(10_000, undefined, undefined, { directResults: true, onNext: () => undefined });
    queues.length = 0;
    const socket = new WebSocket(url, 'graphql-transport-ws');
    cleanups.push(() => socket.terminate());
    const received: string[] = [];
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      if (message.type === 'connection_ack') socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { queued }' } }));
      if (message.type === 'next') received.push(message.payload.data.queued.slice(0, 8));
    });
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
    await expect.poll(() => queues.length).toBe(1);
    const clientSide = (socket as unknown as { _socket: import('node:net').Socket })._socket;
    clientSide.pause();
    const [queue] = queues;
    // 2,000 events of 32 KB (64 MB), pushed as an event log pushes them, whatever the socket's state.
    for (let i = 0; i < 2000; i += 1) queue.push({ queued: `${String(i).padStart(8, '0')}${BIG}` });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const [served] = [...wss.clients];
    // What ws holds for the socket stays near the high-water mark: the rest waits in the queue.
    expect(served.bufferedAmount).toBeLessThan(SEND_HIGH_WATER_BYTES + 2 * BIG.length);
    expect(queue.size).toBeGreaterThan(1000);
    clientSide.resume();
    await expect.poll(() => received.length, { timeout: 20_000 }).toBe(2000);
    expect(received).toEqual(Array.from({ length: 2000 }, (_, i) => String(i).padStart(8, '0')));
  });

  it('terminates a socket that stops answering pings, and keeps one that answers', async () => {
    const { url, wss } = await start(200);
    const silent = new WebSocket(url, 'graphql-transport-ws', { autoPong: false });
    const alive = new WebSocket(url, 'graphql-transport-ws');
    cleanups.push(() => { silent.terminate(); alive.terminate(); });
    await Promise.all([silent, alive].map((s) => new Promise((resolve) => s.once('open', resolve))));
    const closed = new Promise<number>((resolve) => silent.once('close', resolve));
    // 1006: the server dropped the connection without a closing handshake.
    await expect(closed).resolves.toBe(1006);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(alive.readyState).toBe(WebSocket.OPEN);
    expect(wss.clients.size).toBe(1);
  });

  it('drops a client that stops reading: it never sees the ping, so it never answers', async () => {
    const { url, wss } = await start(300);
    const reader = new WebSocket(url, 'graphql-transport-ws');
    cleanups.push(() => reader.terminate());
    await new Promise((resolve) => reader.once('open', resolve));
    expect(wss.clients.size).toBe(1);
    (reader as unknown as { _socket: import('node:net').Socket })._socket.pause();
    await expect.poll(() => wss.clients.size, { timeout: 3000 }).toBe(0);
  });

  it('a message over maxPayload is the client’s error: closed with 1009, not reported as an internal one', async () => {
    const reported = { internal: [] as unknown[], client: [] as unknown[] };
    const { url } = await start(10_000, reported);
    const socket = new WebSocket(url, 'graphql-transport-ws');
    cleanups.push(() => socket.terminate());
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', resolve));
    socket.send('x'.repeat(4096));
    await expect(closed).resolves.toBe(1009);
    expect(reported.client).toHaveLength(1);
    expect(reported.internal).toEqual([]);
  });

  it('keeps what extraOf took from the upgrade request, and lets the request itself go', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    let request: WeakRef<http.IncomingMessage> | undefined;
    const { url } = await start(10_000, undefined, (upgrade) => {
      request = new WeakRef(upgrade);
      return { agent: upgrade.headers['user-agent'] };
    });
    const client = createClient({ url, webSocketImpl: class extends WebSocket {
      constructor(address: string, protocols: string[]) { super(address, protocols, { headers: { 'user-agent': 'probe/1' } }); }
    }, retryAttempts: 0, lazy: false });
    cleanups.push(() => client.dispose());
    // A subscription that stays open while the request is collected.
    let unsubscribe = () => undefined as void;
    const first = await new Promise((resolve, reject) => {
      unsubscribe = client.subscribe({ query: 'subscription { big }' }, { next: resolve, error: reject, complete: () => undefined });
    });
    expect(first).toEqual({ data: { big: BIG } });
    const agent = await new Promise((resolve, reject) => {
      client.subscribe({ query: '{ agent }' }, { next: resolve, error: reject, complete: () => undefined });
    });
    expect(agent).toEqual({ data: { agent: 'probe/1' } });
    expect(request).toBeDefined();
    // A WeakRef's deref() keeps its target alive until the current job ends, so each collection runs a turn later.
    const collected = async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
      return request!.deref() === undefined;
    };
    await expect.poll(collected, { interval: 0, timeout: 5000 }).toBe(true);
    unsubscribe();
  });
});
