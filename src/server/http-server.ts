import http from 'node:http';
import type { Logger } from '../observability/logger';

/*
 * The API's HTTP server and the limits a client that trickles a request or
 * hoards connections runs into (docs/operations.md, "HTTP connections and
 * timeouts"). Node's defaults give a request 60 s for its headers and 300 s
 * for its body, checked every 30 s, and take connections without a cap.
 */

/** Time to send a request's headers; a connection that sends nothing is closed after it too. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** Time to send a request's body once its headers are in, on every route but /uploads (those bodies are 1 MiB at most). */
export const BODY_TIMEOUT_MS = 30_000;
/** How often Node looks for requests past their timeouts: its default, 30 s, lets them run up to that much longer. */
const CHECK_EVERY_MS = 2_000;
/** Refused connections are logged at most once a minute: a flood of them must not flood the log. */
const DROP_LOG_EVERY_MS = 60_000;
/** Uploads are paced by the upload service instead: a minimum rate, not a total time (services/uploads.ts). */
const UPLOADS = /^\/uploads(\/|\?|$)/;

export interface HttpServerLimits {
  /** Open connections, WebSockets included (they stay on the socket they were upgraded from); 0: no cap. */
  maxConnections: number;
  /** The longest a request may take to arrive: the longest upload (services/uploads.ts, `longestUploadMs`). */
  longestRequestMs: number;
  /** Body time on routes other than /uploads; BODY_TIMEOUT_MS unless a test shortens it. */
  bodyTimeoutMs?: number;
  logger: Logger;
}

/** An HTTP server with the connection cap and the header, body and request timeouts set. */
export function createHttpServer(limits: HttpServerLimits): http.Server {
  const server = http.createServer({
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: limits.longestRequestMs,
    connectionsCheckingInterval: CHECK_EVERY_MS,
  });
  if (limits.maxConnections > 0) server.maxConnections = limits.maxConnections;
  let loggedAt = -Infinity;
  server.on('drop', () => {
    const now = Date.now();
    if (now - loggedAt < DROP_LOG_EVERY_MS) return;
    loggedAt = now;
    limits.logger.warn({ maxConnections: limits.maxConnections }, 'HTTP connection cap reached: new connections are closed (ATELIER_MAX_HTTP_CONNECTIONS)');
  });
  const bodyTimeoutMs = limits.bodyTimeoutMs ?? BODY_TIMEOUT_MS;
  // Registered before the routes' listener, so it runs first for every request.
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!UPLOADS.test(req.url ?? '')) limitBodyTime(req, res, bodyTimeoutMs);
  });
  return server;
}

/** Closes the connection of a request whose body has not all arrived `ms` after its headers. */
function limitBodyTime(req: http.IncomingMessage, res: http.ServerResponse, ms: number): void {
  if (req.complete) return;
  const timer = setTimeout(() => {
    if (req.complete || req.socket.destroyed) return;
    // What Node answers for its own requestTimeout; the rest of the body is never read.
    if (!res.headersSent) res.writeHead(408, { connection: 'close', 'content-length': 0 }).end();
    req.socket.destroy();
  }, ms);
  const stop = () => clearTimeout(timer);
  req.once('end', stop);
  res.once('close', stop);
}
