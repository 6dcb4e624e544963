import type http from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import type { GraphQLSchema } from 'graphql';
import { AppError, ErrorCode } from '../kernel/errors';
import { formatGraphQLError, toGraphQLError } from '../kernel/graphql-errors';
import { newId } from '../kernel/ids';
import type { ErrorReporter } from '../observability/error-reporter';
import type { Logger } from '../observability/logger';
import type { AtelierMetrics } from '../observability/metrics';
import { compressResponses, noStorePlugin, persistedQueries, refusalStatusPlugin } from './http-responses';
import { requestLoggingPlugin } from './request-logging';
import { traceGraphQLRequests } from '../observability/tracing';
import { originOf, type AppContext, type Services } from '../resolvers/context';
import { createLoaders } from '../resolvers/loaders';
import { documentCheckPlugin } from '../schema/check-document';
import { DOCUMENT_RULES, PARSE_OPTIONS, withParseLimit } from '../schema/document-limits';

/** Largest request body (JSON) accepted on /graphql; graphql-ws messages share it (ws-server.ts). */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/**
 * Malformed or oversized JSON bodies get a GraphQL-shaped answer with a code
 * (BAD_REQUEST, PAYLOAD_TOO_LARGE) instead of Express's HTML page, described
 * and counted like every other error.
 */
function bodyErrors(reporter: ErrorReporter): express.ErrorRequestHandler {
  return (error: { type?: string }, _req, res, next) => {
    if (error.type !== 'entity.parse.failed' && error.type !== 'entity.too.large') return next(error);
    const refusal = error.type === 'entity.too.large'
      ? new AppError(ErrorCode.PAYLOAD_TOO_LARGE, `Request body over ${MAX_REQUEST_BYTES} bytes`, { limit: MAX_REQUEST_BYTES })
      : new AppError(ErrorCode.BAD_REQUEST, 'Request body is not valid JSON');
    const described = reporter.report(refusal, { transport: 'http', requestId: null, operation: 'unknown' });
    res.status(described.httpStatus).json({ errors: [{ message: described.message, extensions: described.extensions }] });
  };
}

export function requestIdOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && /^[A-Za-z0-9._:-]{1,128}$/.test(value) ? value : newId();
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
    // GET for queries and CSRF prevention are Apollo's defaults; README, "HTTP details".
    csrfPrevention: true,
    persistedQueries: persistedQueries(),
    // main.ts owns SIGTERM: Apollo's own handler would re-raise the signal and kill
    // the process before a worker in the same process had finished its job.
    stopOnTerminationSignals: false,
    // Document limits (docs/request-limits.md): parse and validation are bounded by the document's size.
    parseOptions: PARSE_OPTIONS,
    validationRules: [...DOCUMENT_RULES],
    // Counting and logging happen in the request-logging plugin (ErrorReporter); this only shapes what the client sees.
    formatError: (formatted, error) => withParseLimit(formatGraphQLError(formatted, error, { exposeDetails: options.exposeErrorDetails, log: () => undefined })),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: options.httpServer }),
      { async serverWillStart() { return { drainServer: options.drainWebSockets }; } },
      requestLoggingPlugin({ logger, metrics: options.metrics, errors: options.errors }),
      documentCheckPlugin(options.schema),
      refusalStatusPlugin,
      ApolloServerPluginCacheControlDisabled(),
      noStorePlugin,
    ],
  });
  await apollo.start();
  options.app.use(
    '/graphql',
    compressResponses(),
    express.json({ limit: MAX_REQUEST_BYTES }),
    bodyErrors(options.errors),
    traceGraphQLRequests(),
    expressMiddleware(apollo, {
      context: async ({ req, res }): Promise<AppContext> => {
        const requestId = requestIdOf(req.headers['x-request-id']);
        res.setHeader('X-Request-ID', requestId);
        const origin = { clientIp: req.ip, userAgent: req.get('user-agent') };
        try {
          const viewer = await services.gate.admit(req.headers.authorization, originOf(origin));
          return { requestId, viewer, services, loaders: createLoaders(services.db), transport: 'http', ...origin };
        } catch (error) {
          throw toGraphQLError(error);
        }
      },
    }),
  );
  return apollo;
}
