import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { Redis } from 'ioredis';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Logger } from '../observability/logger';
import { WebSocketActivity } from '../observability/ws-activity';
import { requestIdOf } from '../server/graphql-http';
import type { Services } from '../services';
import type { Viewer } from '../services/auth';
import { originOf, type AppContext } from '../schema/context';
import { clientAddressOf } from '../server/client-address';
import { findAppError } from '../schema/errors';
import { createLoaders } from '../schema/loaders';
import { subscribeSharingResults } from './shared-execution';
import { queryLimitRules } from '../schema/query-limits';
import { specifiedRules, validate } from 'graphql';

/** Close codes clients can act on. 4401/4403 follow graphql-ws; 4429 means too many connections. */
export const CLOSE_TOKEN_EXPIRED = 4401;
export const CLOSE_TOO_MANY_CONNECTIONS = 4429;
export const CLOSE_GOING_AWAY = 1001;

interface ConnectionState extends Record<PropertyKey, unknown> {
  viewer: Viewer | null;
  origin: { clientIp?: string; userAgent?: string };
  connectionId: string;
  expiryTimer?: NodeJS.Timeout;
}

/**
 * Live connection count per user, shared by every replica: a sorted set of
 * connection ids scored by their last heartbeat, so a crashed replica's
 * connections stop counting after a minute.
 */
class ConnectionRegistry {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}
  private key(userId: string) {
    return `${this.prefix}:ws:conn:${userId}`;
  }
  async add(userId: string, connectionId: string, limit: number): Promise<boolean> {
    const key = this.key(userId);
    const now = Date.now();
    await this.redis.zremrangebyscore(key, '-inf', now - 60_000);
    if ((await this.redis.zcard(key)) >= limit) return false;
    await this.redis.zadd(key, now, connectionId);
    await this.redis.pexpire(key, 120_000);
    return true;
  }
  async touch(userId: string, connectionId: string): Promise<void> {
    await this.redis.zadd(this.key(userId), 'XX', Date.now(), connectionId);
  }
  async remove(userId: string, connectionId: string): Promise<void> {
    await this.redis.zrem(this.key(userId), connectionId);
  }
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
  /** ATELIER_TRUST_PROXY: proxies whose X-Forwarded-For is believed for the client address. */
  trustProxy?: number;
  keepAliveMs?: number;
}) {
  const { services, logger } = options;
  const wss = new WebSocketServer({ server: options.httpServer, path: '/graphql' });
  const registry = new ConnectionRegistry(options.redis, options.prefix);
  const open = new Set<import('ws').WebSocket>();
  const activity = new WebSocketActivity(logger);
  wss.on('connection', (socket) => {
    open.add(socket);
    activity.opened(socket);
    socket.on('close', () => {
      open.delete(socket);
      activity.closed(socket);
    });
  });

  const server = useServer<Record<string, unknown>, { state?: ConnectionState }>(
    {
      schema: options.schema,
      // Each event executes with fresh DataLoaders: the subscription's own would serve stale rows.
      subscribe: (args) => subscribeSharingResults(args, (context) => ({ ...(context as AppContext), loaders: createLoaders(services.db) })),
      validate: (schema, document) => validate(schema, document, [...specifiedRules, ...queryLimitRules()]),
      onConnect: async (ctx) => {
        const { request } = ctx.extra;
        const origin = { clientIp: clientAddressOf(request, options.trustProxy ?? 0), userAgent: request.headers['user-agent'] };
        const state: ConnectionState = { viewer: null, origin, connectionId: randomUUID() };
        Object.assign(ctx.extra, { state });
        const authorization = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        try {
          state.viewer = await services.auth.authenticate(typeof authorization === 'string' ? authorization : null, originOf(origin));
        } catch {
          return false; // graphql-ws closes with 4403 Forbidden
        }
        if (state.viewer) {
          const userId = state.viewer.user.id;
          if (!(await registry.add(userId, state.connectionId, options.maxConnectionsPerUser))) {
            ctx.extra.socket.close(CLOSE_TOO_MANY_CONNECTIONS, 'Too many open connections');
            return false;
          }
          const touch = setInterval(() => registry.touch(userId, state.connectionId).catch(() => undefined), 20_000);
          touch.unref();
          ctx.extra.socket.once('close', () => {
            clearInterval(touch);
            if (state.expiryTimer) clearTimeout(state.expiryTimer);
            registry.remove(userId, state.connectionId).catch(() => undefined);
          });
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
        return { requestId, viewer: state.viewer, services, loaders: createLoaders(services.db), transport: 'ws', ...state.origin };
      },
      onOperation: (ctx, id, _payload, args) => void activity.started(ctx.extra.socket, id, args),
      onComplete: (ctx, id) => void activity.completed(ctx.extra.socket, id),
      onError: (_ctx, _id, _payload, errors) => {
        for (const error of errors) {
          if (!findAppError(error) && !(error instanceof GraphQLError && error.extensions?.code)) logger.error({ err: error }, 'subscription error');
        }
      },
    },
    wss,
    options.keepAliveMs ?? 12_000,
  );

  return {
    wss,
    /** Live connections, operations and watched sessions, for the metrics. */
    activity,
    /** Closes every socket with 1001 so clients reconnect to another replica. */
    async close(): Promise<void> {
      for (const socket of open) socket.close(CLOSE_GOING_AWAY, 'Server shutting down');
      await server.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
