import type http from 'node:http';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';

/**
 * Bytes a socket may have waiting to be written before graphql-ws is made to
 * wait for them: below it a send is fire-and-forget, above it the send's
 * promise settles when the write completes, so a subscriber that reads slowly
 * holds back only its own operation (its events wait in the event log's queue).
 */
export const SEND_HIGH_WATER_BYTES = 64 * 1024;

/** Each socket is pinged once per keep-alive period, in one of this many evenly spaced ticks. */
const HEARTBEAT_SLOTS = 24;

/** What graphql-ws's `extra` holds for each connection, as with graphql-ws/use/ws. */
export interface SocketExtra { socket: WebSocket; request: http.IncomingMessage }

/**
 * graphql-ws on a `ws` server: graphql-ws's own protocol machine (`makeServer`)
 * with the socket glue of graphql-ws/use/ws, changed in two ways that matter
 * with thousands of subscribers (docs/architecture.md, "Fan-out"):
 *
 * - A send below SEND_HIGH_WATER_BYTES queued returns nothing instead of a
 *   promise settled by the write's callback, so each event to each subscriber
 *   costs no promise, closure or write callback.
 * - Keep-alive is one timer for the whole server (the heartbeat `ws` documents,
 *   with the sockets spread over its ticks) instead of an interval per socket
 *   and a timeout and a listener per ping: a socket that has not answered the
 *   previous ping when the next is due is terminated.
 */
export function serveGraphqlWs<P extends Record<string, unknown>, E extends Record<PropertyKey, unknown>>(
  options: ServerOptions<P, E & SocketExtra>,
  wss: WebSocketServer,
  keepAliveMs: number,
  onInternalError: (err: unknown) => void,
  onClientError: (err: unknown) => void = () => undefined,
): { dispose(): Promise<void> } {
  const server = makeServer<P, E & SocketExtra>(options);
  // Picks graphql-transport-ws from the offered subprotocols, as useServer does.
  wss.options.handleProtocols = handleProtocols;
  // Sockets are spread over HEARTBEAT_SLOTS slots, one slot pinged per tick, so 10,000 sockets are
  // never pinged in one burst of writes (which would hold up every delivery for that long).
  const slots = Array.from({ length: HEARTBEAT_SLOTS }, () => new Set<WebSocket>());
  const answered = new WeakSet<WebSocket>();
  let joined = 0;
  let tick = 0;
  const heartbeat = keepAliveMs > 0 && Number.isFinite(keepAliveMs)
    ? setInterval(() => {
      tick = (tick + 1) % HEARTBEAT_SLOTS;
      for (const socket of slots[tick]) {
        if (socket.readyState !== socket.OPEN) continue;
        if (!answered.has(socket)) {
          socket.terminate();
          continue;
        }
        answered.delete(socket);
        socket.ping();
      }
    }, keepAliveMs / HEARTBEAT_SLOTS)
    : null;
  heartbeat?.unref();

  const onConnection = (socket: WebSocket, request: http.IncomingMessage): void => {
    const slot = slots[joined++ % HEARTBEAT_SLOTS];
    slot.add(socket);
    answered.add(socket);
    socket.on('pong', () => answered.add(socket));
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
      { socket, request } as E & SocketExtra,
    );
    socket.once('close', (code, reason) => {
      slot.delete(socket);
      void closed(code, String(reason));
    });
  };
  wss.on('connection', onConnection);

  return {
    async dispose() {
      if (heartbeat) clearInterval(heartbeat);
      for (const socket of wss.clients) socket.close(1001, 'Going away');
      wss.off('connection', onConnection);
    },
  };
}
