import type http from 'node:http';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import { SpreadInterval } from '../subscriptions/spread-interval';

/**
 * Bytes a socket may have waiting to be written before graphql-ws is made to
 * wait for them: below it a send is fire-and-forget, above it the send's
 * promise settles when the write completes, so a subscriber that reads slowly
 * holds back only its own operation (its events wait in the event log's queue).
 */
export const SEND_HIGH_WATER_BYTES = 64 * 1024;

/**
 * What graphql-ws's `extra` holds for each connection: the socket, and what
 * `extraOf` took from the upgrade request. The request itself is not kept
 * (graphql-ws/use/ws keeps it): its headers and stream state are about 1.5 KB
 * a socket for the socket's whole life (docs/performance.md).
 */
export interface SocketExtra { socket: WebSocket }

export interface SocketGlueOptions<E> {
  /** Keep-alive ping interval; 0 or Infinity for none. */
  keepAliveMs: number;
  onInternalError: (err: unknown) => void;
  /** A frame the client got wrong (ws has already closed the socket with the matching code). */
  onClientError?: (err: unknown) => void;
  /** What a connection keeps of its upgrade request (its address, its user agent). */
  extraOf: (request: http.IncomingMessage) => E;
}

/**
 * graphql-ws on a `ws` server: graphql-ws's own protocol machine (`makeServer`)
 * with the socket glue of graphql-ws/use/ws, changed in three ways that matter
 * with thousands of subscribers (docs/architecture.md, "Fan-out"):
 *
 * - A send below SEND_HIGH_WATER_BYTES queued returns nothing instead of a
 *   promise settled by the write's callback, so each event to each subscriber
 *   costs no promise, closure or write callback.
 * - Keep-alive is one timer for the whole server (the heartbeat `ws` documents,
 *   with the sockets spread over its ticks) instead of an interval per socket
 *   and a timeout and a listener per ping: a socket that has not answered the
 *   previous ping when the next is due is terminated.
 * - The upgrade request is let go once `extraOf` has read it.
 */
export function serveGraphqlWs<P extends Record<string, unknown>, E extends Record<PropertyKey, unknown>>(
  options: ServerOptions<P, E & SocketExtra>,
  wss: WebSocketServer,
  glue: SocketGlueOptions<E>,
): { dispose(): Promise<void> } {
  const { keepAliveMs, onInternalError, onClientError = () => undefined, extraOf } = glue;
  const server = makeServer<P, E & SocketExtra>(options);
  // Picks graphql-transport-ws from the offered subprotocols, as useServer does.
  wss.options.handleProtocols = handleProtocols;
  // One timer for every socket's keep-alive, a 24th of the sockets pinged per tick: 10,000 pings in one
  // burst of writes would hold up every delivery for that long.
  const heartbeat = keepAliveMs > 0 && Number.isFinite(keepAliveMs) ? new SpreadInterval(keepAliveMs) : null;

  const onConnection = (socket: WebSocket, request: http.IncomingMessage): void => {
    // A socket that has not answered the previous ping when the next is due is terminated.
    let answered = true;
    socket.on('pong', () => { answered = true; });
    const stopBeating = heartbeat?.add(() => {
      if (socket.readyState !== socket.OPEN) return;
      if (!answered) return void socket.terminate();
      answered = false;
      socket.ping();
    });
    // ws emits 'error' on a socket only for what the client sent (a frame over maxPayload, invalid UTF-8, a bad
    // opcode); it has already closed the socket with the matching code (1009, 1007, 1002).
    socket.once('error', (err) => onClientError(err));
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) => {
          if (socket.readyState !== socket.OPEN) return undefined;
          if (socket.bufferedAmount < SEND_HIGH_WATER_BYTES) {
            socket.send(data);
            return undefined;
          }
          return new Promise<void>((resolve, reject) => socket.send(data, (err) => (err ? reject(err) : resolve())));
        },
        close: (code, reason) => socket.close(code, reason),
        onMessage: (cb) => socket.on('message', (message) => {
          cb(String(message)).catch((err: unknown) => {
            onInternalError(err);
            socket.close(CloseCode.InternalServerError, 'Internal server error');
          });
        }),
      },
      { ...extraOf(request), socket },
    );
    socket.once('close', (code, reason) => {
      stopBeating?.();
      void closed(code, String(reason));
    });
  };
  wss.on('connection', onConnection);

  return {
    async dispose() {
      for (const socket of wss.clients) socket.close(1001, 'Going away');
      wss.off('connection', onConnection);
    },
  };
}
