import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { ApolloServer } from '@apollo/server';
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
import { originOf, type AppContext } from '../schema/context';
import { findAppError, formatError } from '../schema/errors';
import { createLoaders } from '../schema/loaders';
import { queryLimitRules } from '../schema/query-limits';
import { queryCostPlugin } from '../schema/query-cost';

/** Cost budget for callers who are not signed in (they can reach little anyway). */
const ANONYMOUS_QUERY_BUDGET = 1000;

/** Turns a domain error thrown while building the context into an HTTP-aware GraphQL error. */
function contextError(error: unknown): unknown {
  const appError = findAppError(error);
  if (!appError) return error;
  const status = appError.code === 'UNAUTHENTICATED' ? 401 : appError.code === 'RATE_LIMITED' ? 429 : 400;
  return new GraphQLError(appError.message, {
    extensions: { ...appError.extensions, code: appError.code, http: { status } },
  });
}

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
        const origin = { clientIp: req.ip, userAgent: req.get('user-agent') };
        try {
          const viewer = await services.auth.authenticate(req.headers.authorization, originOf(origin));
          if (viewer) {
            const limits = services.quotas.rateLimitsOf(viewer.user, await services.quotas.policyFor(viewer.user.tier));
            await services.rateLimiter.hit('requests', rateSubjects(viewer), limits.requestsPerMinute);
          }
          return { requestId, viewer, services, loaders: createLoaders(services.db), transport: 'http', ...origin };
        } catch (error) {
          throw contextError(error);
        }
      },
    }),
  );
  return apollo;
}
