import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger';
import { createHttpServer, HEADERS_TIMEOUT_MS } from '../../src/server/http-server';
import { startTestApp, type TestApp } from '../support/app';
import { openRawSocket } from '../support/raw-socket';

/*
 * The API's HTTP server against clients that trickle requests or hoard
 * connections (docs/operations.md, "HTTP connections and timeouts"). Nothing
 * here uses fetch against the app: its pooled keep-alive connections would
 * count against the cap.
 */
const CAP = 6;
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api', ATELIER_MAX_HTTP_CONNECTIONS: String(CAP) });
});
afterAll(() => app?.close());

/** A TCP connection to `port`; `closed` resolves with what the server sent and when it closed (ms after connecting). */
function connect(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  const started = Date.now();
  let received = '';
  socket.on('data', (data) => { received += data.toString(); });
  socket.on('error', () => undefined);
  const closed = new Promise<{ received: string; afterMs: number }>((resolve) => {
    socket.once('close', () => resolve({ received, afterMs: Date.now() - started }));
  });
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, closed, connected, received: () => received };
}

/** What `closed` resolves with, or 'open' when it is still open after `ms`. */
const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), ms))]);

const port = () => Number(new URL(app.url).port);

describe('HTTP timeouts', () => {
  it('cuts a client trickling its headers, and one that sends nothing, once the headers timeout passes', async () => {
    const trickle = connect(port());
    const silent = connect(port());
    await Promise.all([trickle.connected, silent.connected]);
    trickle.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const drip = setInterval(() => trickle.socket.write('a'), 500);
    try {
      // Node's default would be 60 s, checked every 30 s.
      const [cut, quiet] = await Promise.all([within(trickle.closed, HEADERS_TIMEOUT_MS + 8000), within(silent.closed, HEADERS_TIMEOUT_MS + 8000)]);
      expect(cut).not.toBe('open');
      expect(quiet).not.toBe('open');
      for (const result of [cut, quiet] as { received: string; afterMs: number }[]) {
        expect(result.afterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
        expect(result.afterMs).toBeLessThan(HEADERS_TIMEOUT_MS + 4000);
      }
      expect((cut as { received: string }).received).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      clearInterval(drip);
      trickle.socket.destroy();
      silent.socket.destroy();
    }
  }, 30_000);
});

describe('HTTP connection cap', () => {
  it(`holds at most ATELIER_MAX_HTTP_CONNECTIONS (${CAP}) open, a WebSocket counting as one; closing one lets the next in`, async () => {
    const ws = await openRawSocket(app.url);
    expect(ws.greeting.type).toBe('connection_ack');
    const held = Array.from({ length: CAP - 1 }, () => connect(port()));
    await Promise.all(held.map((c) => c.connected));
    await new Promise((resolve) => setTimeout(resolve, 100));
    try {
      // The kernel accepts it; the server closes it at once, without a byte.
      const refused = connect(port());
      const answer = await within(refused.closed, 2000);
      expect(answer).toMatchObject({ received: '' });
      expect((answer as { afterMs: number }).afterMs).toBeLessThan(1000);

      held[0].socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const next = connect(port());
      await next.connected;
      next.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      const served = await within(next.closed, 5000);
      expect((served as { received: string }).received).toMatch(/^HTTP\/1\.1 200/);
    } finally {
      for (const c of held) c.socket.destroy();
      ws.close();
    }
  });
});

describe('createHttpServer: body time', () => {
  let server: http.Server;
  let serverPort: number;
  beforeAll(async () => {
    server = createHttpServer({ maxConnections: 0, longestRequestMs: 600_000, bodyTimeoutMs: 300, logger: createLogger({ level: 'silent' }) });
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      let bytes = 0;
      req.on('data', (chunk: Buffer) => { bytes += chunk.length; });
      req.on('end', () => res.end(String(bytes)));
      req.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    serverPort = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = (path: string) => {
    const c = connect(serverPort);
    c.socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n${'x'.repeat(10)}`);
    return c;
  };

  it('answers 408 and closes a request whose body is late; /uploads is paced by the upload service instead', async () => {
    const graphql = post('/graphql');
    const upload = post('/uploads');
    const cut = await within(graphql.closed, 3000);
    expect(cut).not.toBe('open');
    expect((cut as { received: string }).received).toMatch(/^HTTP\/1\.1 408/);
    expect(await within(upload.closed, 1000)).toBe('open');
    upload.socket.end('y'.repeat(90));
    expect((await upload.closed).received).toMatch(/^HTTP\/1\.1 200[^]*\r\n\r\n100$/);
  });

  it('leaves a request whose body arrived in time alone, however long the answer takes', async () => {
    const c = post('/graphql');
    c.socket.end('z'.repeat(90));
    expect((await c.closed).received).toMatch(/^HTTP\/1\.1 200/);
  });
});
