import type http from 'node:http';
import type { Redis } from 'ioredis';
import { GraphQLError, type ExecutionArgs, type ExecutionResult, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import { formatGraphQLError, toGraphQLError } from '../kernel/graphql-errors';
import { newId } from '../kernel/ids';
import type { ErrorReporter } from '../observability/error-reporter';
import { WebSocketServer } from 'ws';
import type { Logger } from '../observability/logger';
import { WebSocketActivity } from '../observability/ws-activity';
import { clientNetworksOf } from '../kernel/client-network';
import { clientAddressOf } from './client-address';
import { MAX_REQUEST_BYTES, requestIdOf } from './graphql-http';
import type { Viewer } from '../services/auth';
import { originOf, type AppContext, type Services } from '../resolvers/context';
import { createLoaders, EventContext, type Loaders } from '../resolvers/loaders';
import { ConnectionRegistry } from '../subscriptions/connection-registry';
import { subscribeSharingResults } from './shared-execution';
import { viewerKey } from './viewer-dependence';
import { CLOSE_UNAUTHORIZED, PrincipalCheck } from './principal-check';
import { AnonymousConnections, SocketOperations } from './socket-limits';
import { AppError, ErrorCode, findAppError } from '../kernel/errors';
import { ValidDocuments, queryBudget } from '../schema/check-document';
import { serveGraphqlWs } from './graphql-ws-socket';
import { SpreadInterval } from '../subscriptions/spread-interval';
import { pingSubscriber } from '../redis/connection';
import { logRedisErrors } from '../redis/error-log';

/** The operation's name for log lines (never a metric label). */
const nameOf = (name: string | null | undefined): string => (name ?? 'anonymous').slice(0, 64);

/** Close codes clients can act on. 4401/4403 follow graphql-ws; 4429 means too many connections. */
export const CLOSE_TOKEN_EXPIRED = CLOSE_UNAUTHORIZED;
export const CLOSE_TOO_MANY_CONNECTIONS = 4429;
export const CLOSE_GOING_AWAY = 1001;

interface ConnectionState extends Record<PropertyKey, unknown> {
  viewer: Viewer | null;
  origin: { clientIp?: string; userAgent?: string };
  connectionId: string;
  expiryTimer?: NodeJS.Timeout;
}

/** What a write to a socket reports when its client is gone (killed, network dropped). */
const HANG_UP_CODES = new Set(['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

/**
 * True when graphql-ws could not send to a client that hung up: the socket is
 * no longer open and every error is a failed write. A client hanging up is
 * not a server fault (nothing can reach it anyway), so it is not reported as
 * SERVICE_UNAVAILABLE, which the same codes mean when Redis or PostgreSQL drops.
 */
function clientHungUp(socket: import('ws').WebSocket, errors: readonly unknown[]): boolean {
  if (socket.readyState === socket.OPEN || errors.length === 0) return false;
  return errors.every((error) => {
    const cause = (error as { originalError?: unknown; cause?: unknown }).originalError ?? (error as { cause?: unknown }).cause ?? error;
    return HANG_UP_CODES.has(String((cause as { code?: unknown } | null)?.code));
  });
}

/** graphql-ws on the same HTTP server and path as Apollo (`/graphql`). */
export function attachWebSocketServer(options: {
  httpServer: http.Server;
  schema: GraphQLSchema;
  services: Services;
  redis: Redis;
  prefix: string;
  logger: Logger;
  maxConnectionsPerUser: number;
  /** This replica's id: its connections stop counting when its heartbeat stops. */
  replicaId: string;
  /** ATELIER_TRUST_PROXY: proxies whose X-Forwarded-For is believed for the client address. */
  trustProxy?: number;
  /** Signed-out connections per client address on this replica (ATELIER_MAX_ANONYMOUS_CONNECTIONS_PER_ADDRESS). */
  maxAnonymousConnectionsPerAddress?: number;
  keepAliveMs?: number;
  /** How often the principal-stamp subscriber is pinged (REDIS_SUBSCRIBER_PING_MS by default). */
  subscriberPingMs?: number;
  /** Operations one socket may have open at once (docs/request-limits.md). */
  maxOperationsPerSocket?: number;
  errors: ErrorReporter;
  exposeErrorDetails: boolean;
}) {
  const { services, logger } = options;
  /** Every error a socket sends goes through the one description and report (as on HTTP). */
  const format = (errors: readonly unknown[], state: ConnectionState | undefined, operation: string): GraphQLFormattedError[] => errors.map((error) => {
    options.errors.report(error, { transport: 'ws', requestId: null, operation, userId: state?.viewer?.user.id ?? null });
    const formatted = (error as { toJSON?: () => GraphQLFormattedError }).toJSON?.() ?? { message: String((error as Error)?.message ?? error) };
    return formatGraphQLError(formatted, error, { exposeDetails: options.exposeErrorDetails, log: () => undefined });
  });
  // Messages over the HTTP body limit are refused by ws before they are buffered (close 1009).
  const wss = new WebSocketServer({ server: options.httpServer, path: '/graphql', maxPayload: MAX_REQUEST_BYTES });
  const anonymous = new AnonymousConnections(options.maxAnonymousConnectionsPerAddress ?? 20);
  const registry = new ConnectionRegistry(options.redis, options.prefix, options.replicaId);
  // Every connection's registry entry is refreshed every 20 s, by one timer for them all.
  const touches = new SpreadInterval(20_000);
  const open = new Set<import('ws').WebSocket>();
  const documents = new ValidDocuments(options.schema);
  const activity = new WebSocketActivity(logger);
  const operations = new SocketOperations(options.maxOperationsPerSocket ?? 200, 8);
  // Revocation reaches open sockets: see principal-check.ts.
  const principals = new PrincipalCheck(services.auth, services.principalStamps, logger);
  const stampSubscriber = options.redis.duplicate({ enableAutoPipelining: false });
  logRedisErrors(stampSubscriber, logger, 'principal stamp subscriber error');
  pingSubscriber(stampSubscriber, options.subscriberPingMs);
  principals.listen(stampSubscriber).catch((err) => logger.warn({ err }, 'cannot listen for principal changes'));
  wss.on('connection', (socket) => {
    open.add(socket);
    activity.opened(socket);
    socket.on('close', () => {
      open.delete(socket);
      activity.closed(socket);
    });
  });

  /**
   * Every operation on a socket counts against the caller's per-minute limit, as each HTTP request does, and
   * is parsed and validated here (not inside graphql-ws) so refusals carry their code like on HTTP. The
   * GraphQLErrors returned reach the client through onError, which formats and reports them.
   */
  const admitOperation = async (ctx: { extra: unknown }, payload: SubscribePayload): Promise<GraphQLError[] | ExecutionArgs> => {
    const state = (ctx.extra as { state: ConnectionState }).state;
    const refuse = (errors: readonly GraphQLError[]) => [...errors];
    // The principal is re-checked first: a revoked key or a changed role applies to this operation (principal-check.ts).
    const denied = await principals.admit(state);
    if (denied) return refuse(denied);
    try {
      // Each operation counts as an HTTP request does: the viewer's, or the address's when signed out.
      await services.gate.count(state.viewer, originOf(state.origin));
    } catch (error) {
      return refuse([toGraphQLError(error)]);
    }
    // The same document limits and tier cost budget as HTTP (schema/check-document.ts).
    const document = documents.check(payload.query, payload, await queryBudget(services.quotas, state.viewer));
    if (Array.isArray(document)) return refuse(document);
    return { schema: options.schema, document, operationName: payload.operationName, variableValues: payload.variables };
  };

  const server = serveGraphqlWs<Record<string, unknown>, { origin: ConnectionState['origin']; state?: ConnectionState }>(
    {
      schema: options.schema,
      // Each event executes with fresh DataLoaders (the subscription's own would serve stale rows), built only
      // when the event's selection follows a relation.
      subscribe: (args) => subscribeSharingResults(args, {
        contextForEvent: (context) => new EventContext(context as AppContext),
        viewerKeyOf: (context) => viewerKey((context as AppContext).viewer),
      }),
      onConnect: async (ctx) => {
        const { origin } = ctx.extra;
        const state: ConnectionState = { viewer: null, origin, connectionId: newId() };
        Object.assign(ctx.extra, { state });
        // 1006: the connection ended without a closing handshake (the client's process or network died, or it
        // stopped answering pings). Not a server fault; most sends do not wait for their write (graphql-ws-socket.ts),
        // so this is where a hang-up shows, once per connection.
        ctx.extra.socket.once('close', (code) => {
          if (code === 1006) logger.info({ transport: 'ws', userId: state.viewer?.user.id ?? null }, 'client hung up');
        });
        const authorization = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        const { socket } = ctx.extra;
        try {
          // A refused credential counts against its address, as on HTTP (RequestGate.authenticate).
          state.viewer = await services.gate.authenticate(typeof authorization === 'string' ? authorization : null, originOf(origin));
        } catch (error) {
          if (findAppError(error)?.code === ErrorCode.RATE_LIMITED) {
            socket.close(CLOSE_TOO_MANY_CONNECTIONS, 'Too many requests without a valid credential from this address');
          }
          return false; // otherwise graphql-ws closes with 4403 Forbidden
        }
        // A socket that closed while its credential was read has fired its 'close' already: a slot taken for it
        // now (below) would never be given back, and 20 such hang-ups would lock the user out (4429).
        if (socket.readyState !== socket.OPEN) return false;
        // Counted by the client's networks, as the HTTP limits are (an IPv6 client by its /64, /56 and /48).
        if (!state.viewer && !anonymous.admit(clientNetworksOf(origin.clientIp), ctx.extra.socket)) {
          ctx.extra.socket.close(CLOSE_TOO_MANY_CONNECTIONS, 'Too many signed-out connections from this address');
          return false;
        }
        if (state.viewer) {
          const userId = state.viewer.user.id;
          const added = registry.add(userId, state.connectionId, options.maxConnectionsPerUser);
          let stopTouching = (): void => undefined;
          // Listened for before the slot is taken, and the slot is given back once its add has settled: a socket
          // that closes while the add is out still frees what the add stored.
          socket.once('close', () => {
            stopTouching();
            if (state.expiryTimer) clearTimeout(state.expiryTimer);
            void added.catch(() => false).then(() => registry.remove(userId, state.connectionId)).catch(() => undefined);
          });
          if (!(await added)) {
            socket.close(CLOSE_TOO_MANY_CONNECTIONS, 'Too many open connections');
            return false;
          }
          if (socket.readyState !== socket.OPEN) return false;
          stopTouching = touches.add(() => void registry.touch(userId, state.connectionId).catch(() => undefined));
          await principals.track(state, String(authorization), socket);
          if (socket.readyState !== socket.OPEN) return false;
          if (state.viewer.expiresAt) {
            const ms = state.viewer.expiresAt * 1000 - Date.now();
            state.expiryTimer = setTimeout(() => ctx.extra.socket.close(CLOSE_TOKEN_EXPIRED, 'Token expired'), Math.max(0, ms));
            state.expiryTimer.unref();
          }
        }
        return true;
      },
      context: (ctx, _id, payload): AppContext => {
        const state = (ctx.extra as unknown as { state: ConnectionState }).state;
        // Each operation has its own request id; a client may send one in extensions.requestId.
        const requestId = requestIdOf(typeof payload.extensions?.requestId === 'string' ? payload.extensions.requestId : undefined);
        // Loaders are built on first use: a subscription's events each get their own (contextForEvent above),
        // so loaders built here would sit unused for the life of every idle subscription (~6 KB each).
        let loaders: Loaders | undefined;
        // A getter: each event of a subscription executes as the viewer is now (principal-check.ts refreshes it).
        return {
          requestId, get viewer() { return state.viewer; }, services, get loaders() { return (loaders ??= createLoaders(services.db)); },
          transport: 'ws', ...state.origin,
        };
      },
      // A socket has at most `maxOperationsPerSocket` open, and sets up a few at a time (SocketOperations): its
      // place is taken here and given back when the operation ends or is refused.
      onSubscribe: async (ctx, id, payload) => {
        const { socket } = ctx.extra;
        if (!operations.open(socket, id)) {
          return [toGraphQLError(new AppError(ErrorCode.QUOTA_EXCEEDED,
            `This connection has ${operations.maxOpen} operations open, the most one may have: complete some first`,
            { limit: operations.maxOpen, retryAfterSeconds: null, scope: 'SOCKET' }))];
        }
        await operations.turn(socket, id);
        try {
          const admitted = await admitOperation(ctx, payload);
          if (Array.isArray(admitted)) operations.ended(socket, id);
          return admitted;
        } catch (error) {
          operations.ended(socket, id);
          throw error;
        }
      },
      onOperation: (ctx, id, _payload, args) => {
        operations.started(ctx.extra.socket, id);
        activity.started(ctx.extra.socket, id, args);
      },
      onComplete: (ctx, id) => {
        operations.ended(ctx.extra.socket, id);
        activity.completed(ctx.extra.socket, id);
      },
      onNext: (ctx, _id, payload, _args, result) => {
        // Handing back the (shared) result itself spares graphql-ws a copy of it per subscriber per event.
        if (!result.errors?.length) return result;
        const state = (ctx.extra as unknown as { state?: ConnectionState }).state;
        return { ...result, errors: format(result.errors, state, nameOf(payload.operationName)) } as unknown as ExecutionResult;
      },
      onError: (ctx, _id, payload, errors) => {
        const state = (ctx.extra as unknown as { state?: ConnectionState }).state;
        // A write that failed because the client hung up (a send that waited for its write): the socket's close logs it.
        if (clientHungUp(ctx.extra.socket, errors)) return undefined as never; // the socket is closed, so nothing is sent
        return format(errors, state, nameOf(payload.operationName)) as never;
      },
    },
    wss,
    {
      keepAliveMs: options.keepAliveMs ?? 12_000,
      onInternalError: (err) => logger.error({ err }, 'internal error on a graphql-ws socket'),
      onClientError: (err) => logger.info({ transport: 'ws', code: (err as { code?: unknown }).code }, 'client broke the WebSocket protocol; closed'),
      extraOf: (request) => ({ origin: { clientIp: clientAddressOf(request, options.trustProxy ?? 0), userAgent: request.headers['user-agent'] } }),
      // onNext above hands a result without errors back unchanged: such results are written by the glue.
      directResults: true,
    },
  );

  return {
    wss,
    /** Live connections, operations and watched sessions, for the metrics. */
    activity,
    /** Closes every socket with 1001 so clients reconnect to another replica. */
    async close(): Promise<void> {
      for (const socket of open) socket.close(CLOSE_GOING_AWAY, 'Server shutting down');
      await server.dispose();
      stampSubscriber.disconnect();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
