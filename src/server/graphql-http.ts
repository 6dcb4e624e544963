import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { Logger } from '../observability/logger';
import type { AtelierMetrics } from '../observability/metrics';
import type { RecentErrors } from '../observability/recent-errors';
import { requestLoggingPlugin } from '../observability/request-logging';
import { traceGraphQLRequests } from '../observability/tracing';
import type { Services } from '../services';
import { rateSubjects } from '../services/jobs';
import type { AppContext } from '../schema/context';
import { findAppError, formatError, isServiceOutage, OUTAGE_RETRY_AFTER_SECONDS, serviceUnavailable, type AppError } from '../schema/errors';
import { createLoaders } from '../schema/loaders';
import { queryLimitRules } from '../schema/query-limits';
import { queryCostPlugin } from '../schema/query-cost';

/** Cost budget for callers who are not signed in (they can reach little anyway). */
const ANONYMOUS_QUERY_BUDGET = 1000;

const CONTEXT_STATUS: Partial<Record<AppError['code'], number>> = { UNAUTHENTICATED: 401, RATE_LIMITED: 429, SERVICE_UNAVAILABLE: 503 };

/** Turns a domain error thrown while building the context into an HTTP-aware GraphQL error. */
function contextError(error: unknown): unknown {
  const appError = findAppError(error) ?? (isServiceOutage(error) ? serviceUnavailable() : null);
  if (!appError) return error;
  const status = CONTEXT_STATUS[appError.code] ?? 400;
  // Apollo applies `http` only when `headers`, if present, is a Map.
  const http = status === 503 ? { status, headers: new Map([['retry-after', String(OUTAGE_RETRY_AFTER_SECONDS)]]) } : { status };
  return new GraphQLError(appError.message, {
    extensions: { ...appError.extensions, code: appError.code, http },
  });
}

/**
 * While PostgreSQL or Redis is unreachable, an operation that hit the outage
 * answers HTTP 503 with Retry-After (not 200 with INTERNAL), so clients and
 * load balancers back off and retry.
 */
const outageStatusPlugin: ApolloServerPlugin<AppContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response, errors }) {
        if (!errors?.some((e) => isServiceOutage(e))) return;
        response.http.status = 503;
        response.http.headers.set('retry-after', String(OUTAGE_RETRY_AFTER_SECONDS));
      },
    };
  },
};

export function requestIdOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && /^[A-Za-z0-9._:-]{1,128}$/.test(value) ? value : randomUUID();
}

/** Apollo Server on `/graphql`, with the one error mapping and the request context. */
export async function mountGraphQL(options: {
  app: express.Express;
  httpServer: http.Server;
  schema: GraphQLSchema;
  services: Services;
  logger: Logger;
  exposeErrorDetails: boolean;
  drainWebSockets: () => Promise<void>;
  metrics: AtelierMetrics;
  recentErrors?: RecentErrors;
}): Promise<ApolloServer<AppContext>> {
  const { services, logger } = options;
  const apollo = new ApolloServer<AppContext>({
    schema: options.schema,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // main.ts owns SIGTERM: Apollo's own handler would re-raise the signal and kill
    // the process before a worker in the same process had finished its job.
    stopOnTerminationSignals: false,
    validationRules: queryLimitRules(),
    formatError: (formatted, error) =>
      formatError(formatted, error, { exposeDetails: options.exposeErrorDetails, log: (err) => logger.error({ err }, 'unhandled error') }),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: options.httpServer }),
      { async serverWillStart() { return { drainServer: options.drainWebSockets }; } },
      requestLoggingPlugin({ logger, metrics: options.metrics, recentErrors: options.recentErrors }),
      queryCostPlugin(options.schema, ANONYMOUS_QUERY_BUDGET),
      outageStatusPlugin,
    ],
  });
  await apollo.start();
  options.app.use(
    '/graphql',
    express.json({ limit: '1mb' }),
    traceGraphQLRequests(),
    expressMiddleware(apollo, {
      context: async ({ req, res }): Promise<AppContext> => {
        const requestId = requestIdOf(req.headers['x-request-id']);
        res.setHeader('X-Request-ID', requestId);
        try {
          const viewer = await services.auth.authenticate(req.headers.authorization);
          if (viewer) {
            const policy = await services.quotas.policyFor(viewer.user.tier);
            await services.rateLimiter.hit('requests', rateSubjects(viewer), policy.requestsPerMinute);
          }
          return { requestId, viewer, services, loaders: createLoaders(services.db), transport: 'http', clientIp: req.ip };
        } catch (error) {
          throw contextError(error);
        }
      },
    }),
  );
  return apollo;
}
