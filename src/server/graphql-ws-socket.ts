import type http from 'node:http';
import type net from 'node:net';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import { flatString } from '../kernel/flat-string';
import { AsyncQueue } from '../subscriptions/async-queue';
import { SpreadInterval } from '../subscriptions/spread-interval';

/**
 * Bytes a socket may have waiting to be written before graphql-ws is made to
 * wait for them: below it a send is fire-and-forget, above it the send's
 * promise settles when the write completes, so a subscriber that reads slowly
 * holds back only its own operation (its events wait in the event log's queue).
 */
export const SEND_HIGH_WATER_BYTES = 64 * 1024;

/**
 * Frames sent to one socket in one turn of the event loop leave in at most
 * two writes. The first frame of a turn goes out at once, as it always did;
 * from the second on, the socket is corked until the turn ends (a
 * `setImmediate`), so a job's grouped steps or several jobs' events to the
 * same client cost two writes and wake-ups of the client instead of one
 * each. A turn that sends each socket one frame (an event fanned out to many
 * subscribers) is written exactly as before. One timer per turn for the whole server; the per-socket
 * state is two fields of the connection's closure.
 */
export class TurnCoalescer {
  private turn = 0;
  private scheduled = false;
  private readonly corked: net.Socket[] = [];
  private readonly endTurn = (): void => {
    this.scheduled = false;
    this.turn += 1;
    for (const socket of this.corked.splice(0)) socket.uncork();
  };

  /** Called before each frame to a socket; `seen` is that socket's record of the turn it last wrote in. */
  beforeSend(socket: net.Socket | undefined, seen: { turn: number; corked: boolean }): void {
    if (!socket) return;
    if (seen.turn !== this.turn) {
      seen.turn = this.turn;
      seen.corked = false;
    } else if (!seen.corked) {
      seen.corked = true;
      socket.cork();
      this.corked.push(socket);
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.endTurn);
    }
  }
}

/**
 * What graphql-ws's `extra` holds for each connection: the socket, and what
 * `extraOf` took from the upgrade request. The request itself is not kept
 * (graphql-ws/use/ws keeps it): its headers and stream state are about 1.5 KB
 * a socket for the socket's whole life (docs/performance.md).
 */
export interface SocketExtra {
  socket: WebSocket;
  /** Writes a frame now unless SEND_HIGH_WATER_BYTES are waiting (then false, and nothing is written). */
  sendNow: (data: string) => boolean;
}

export interface SocketGlueOptions<E> {
  /** Keep-alive ping interval; 0 or Infinity for none. */
  keepAliveMs: number;
  onInternalError: (err: unknown) => void;
  /** A frame the client got wrong (ws has already closed the socket with the matching code). */
  onClientError?: (err: unknown) => void;
  /** What a connection keeps of its upgrade request (its address, its user agent). */
  extraOf: (request: http.IncomingMessage) => E;
  /**
   * A subscription whose source is an AsyncQueue of execution results
   * (`AsyncQueue.mapped`, as `subscribeSharingResults` returns it) has each
   * result without errors written by the glue as it comes (`directNext`),
   * without graphql-ws's `onNext`: set only where `onNext` hands such a
   * result back unchanged.
   */
  directResults?: boolean;
}

/** Each shared result's JSON, written once however many subscribers it goes to. */
const resultJson = new WeakMap<object, string>();

/**
 * What a subscription's queue offers each result to (`AsyncQueue.deliverDirectly`):
 * a result without errors is written at once as the `next` frame graphql-ws
 * would write (`{"id":…,"type":"next","payload":…}`, the same bytes), its
 * JSON made once per result and shared by every subscriber it goes to. A
 * result with errors, or a socket with SEND_HIGH_WATER_BYTES waiting, is
 * declined: graphql-ws takes it through `onNext` and its own send, which
 * waits for the write.
 */
export function directNext(id: string, sendNow: (data: string) => boolean): (result: unknown) => boolean {
  // Held for the subscription's life, so kept flat.
  const head = flatString(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
  return (result) => {
    if (typeof result !== 'object' || result === null || (result as { errors?: unknown }).errors !== undefined) return false;
    let json = resultJson.get(result);
    if (json === undefined) {
      json = JSON.stringify(result);
      resultJson.set(result, json);
    }
    return sendNow(`${head}${json}}`);
  };
}

/**
 * graphql-ws on a `ws` server: graphql-ws's own protocol machine (`makeServer`)
 * with the socket glue of graphql-ws/use/ws, changed in three ways that matter
 * with thousands of subscribers (docs/architecture.md, "Fan-out"):
 *
 * - A send below SEND_HIGH_WATER_BYTES queued returns nothing instead of a
 *   promise settled by the write's callback, so each event to each subscriber
 *   costs no promise, closure or write callback.
 * - A socket's frames of one turn of the event loop after its first leave
 *   together in one write (`TurnCoalescer`).
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
  const { keepAliveMs, onInternalError, onClientError = () => undefined, extraOf, directResults = false } = glue;
  const server = makeServer<P, E & SocketExtra>(directResults ? {
    ...options,
    // Once the subscription's source is known: an event log queue hands its results straight to the socket.
    onOperation: async (ctx, id, payload, args, result) => {
      const replaced = await options.onOperation?.(ctx, id, payload, args, result);
      const source = replaced ?? result;
      // Only a queue that hands out execution results (`mapped`, as server/shared-execution.ts makes them).
      if (source instanceof AsyncQueue && source.isMapped) source.deliverDirectly(directNext(id, ctx.extra.sendNow));
      return replaced;
    },
  } : options);
  // Picks graphql-transport-ws from the offered subprotocols, as useServer does.
  wss.options.handleProtocols = handleProtocols;
  // One timer for every socket's keep-alive, a 24th of the sockets pinged per tick: 10,000 pings in one
  // burst of writes would hold up every delivery for that long.
  const heartbeat = keepAliveMs > 0 && Number.isFinite(keepAliveMs) ? new SpreadInterval(keepAliveMs) : null;
  const coalescer = new TurnCoalescer();

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
    // ws keeps the TCP socket it writes to as `_socket` (it has no public accessor); without it, frames go as before.
    const raw = (socket as unknown as { _socket?: net.Socket })._socket;
    const seen = { turn: -1, corked: false };
    /** A frame written now, or false (nothing written) with SEND_HIGH_WATER_BYTES waiting. A closed socket takes it (and drops it). */
    const sendNow = (data: string): boolean => {
      if (socket.readyState !== socket.OPEN) return true;
      if (socket.bufferedAmount >= SEND_HIGH_WATER_BYTES) return false;
      coalescer.beforeSend(raw, seen);
      socket.send(data);
      return true;
    };
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) => {
          if (sendNow(data)) return undefined;
          coalescer.beforeSend(raw, seen);
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
      { ...extraOf(request), socket, sendNow },
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
