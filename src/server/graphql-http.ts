import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import type { GraphQLSchema } from 'graphql';
import { formatGraphQLError, toGraphQLError } from '../kernel/graphql-errors';
import type { ErrorReporter } from '../observability/error-reporter';
import type { Logger } from '../observability/logger';
import type { AtelierMetrics } from '../observability/metrics';
import { requestLoggingPlugin } from '../observability/request-logging';
import { traceGraphQLRequests } from '../observability/tracing';
import type { Services } from '../services';
import type { AppContext } from '../schema/context';
import { createLoaders } from '../schema/loaders';
import { queryLimitRules } from '../schema/query-limits';
import { queryCostPlugin } from '../schema/query-cost';

/** Cost budget for callers who are not signed in (they can reach little anyway). */
const ANONYMOUS_QUERY_BUDGET = 1000;

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
  errors: ErrorReporter;
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
    // Counting and logging happen in the request-logging plugin (ErrorReporter); this only shapes what the client sees.
    formatError: (formatted, error) => formatGraphQLError(formatted, error, { exposeDetails: options.exposeErrorDetails, log: () => undefined }),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: options.httpServer }),
      { async serverWillStart() { return { drainServer: options.drainWebSockets }; } },
      requestLoggingPlugin({ logger, metrics: options.metrics, errors: options.errors }),
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
        try {
          const viewer = await services.gate.admit(req.headers.authorization);
          return { requestId, viewer, services, loaders: createLoaders(services.db), transport: 'http', clientIp: req.ip };
        } catch (error) {
          throw toGraphQLError(error);
        }
      },
    }),
  );
  return apollo;
}
