import type http from 'node:http';
import { ApolloServer, HeaderMap, type BaseContext } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
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
import { clientAddressOf } from './client-address';
import { originOf, type AppContext, type Services } from '../resolvers/context';
import { createLoaders } from '../resolvers/loaders';
import { documentCheckPlugin } from '../schema/check-document';
import { DOCUMENT_RULES, PARSE_OPTIONS, withParseLimit } from '../schema/document-limits';

/** Largest request body (JSON) accepted on /graphql; graphql-ws messages share it (ws-server.ts). */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/** A request on `/graphql` once the body parser has run. */
type GraphQLRequest = http.IncomingMessage & { body?: unknown };
type Next = (error?: unknown) => void;
/** Connect-style middleware over plain node:http, as helmet, cors, compression and body-parser are. */
export type Middleware = (req: GraphQLRequest, res: http.ServerResponse, next: Next) => void;

/**
 * One of the connect-style packages typed for Express (compression, cors,
 * body-parser's `express.json`) as the plain middleware it is: they read and
 * write only what node:http's request and response have.
 */
export function plain(handler: express.RequestHandler): Middleware {
  return handler as unknown as Middleware;
}

/** A GraphQL-shaped error answer, as Apollo's own refusals are. */
function sendError(res: http.ServerResponse, status: number, message: string, extensions: Record<string, unknown>): void {
  const text = JSON.stringify({ errors: [{ message, extensions }] });
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

/**
 * What a middleware refused before Apollo ran. Malformed or oversized JSON
 * bodies get a GraphQL-shaped answer with a code (BAD_REQUEST,
 * PAYLOAD_TOO_LARGE), as do the body parser's other refusals (an unsupported
 * charset or encoding, an aborted upload: BAD_REQUEST with its status);
 * anything else is described and counted by the error reporter, as every
 * other error is.
 */
function refuse(reporter: ErrorReporter, error: unknown, res: http.ServerResponse): void {
  if (res.headersSent) return void res.destroy();
  const { type, status } = error as { type?: string; status?: number };
  const site = { transport: 'http', requestId: null, operation: 'unknown' } as const;
  const refusal = type === 'entity.too.large'
    ? new AppError(ErrorCode.PAYLOAD_TOO_LARGE, `Request body over ${MAX_REQUEST_BYTES} bytes`, { limit: MAX_REQUEST_BYTES })
    : type === 'entity.parse.failed' ? new AppError(ErrorCode.BAD_REQUEST, 'Request body is not valid JSON') : null;
  if (!refusal && type && status && status >= 400 && status < 500) {
    const described = reporter.report(new AppError(ErrorCode.BAD_REQUEST, (error as Error).message), site);
    return sendError(res, status, described.message, described.extensions);
  }
  // A body whose Content-Encoding does not decode: zlib's error, given a 400 by the body parser but no type.
  if (!refusal && !type && status === 400) {
    const described = reporter.report(new AppError(ErrorCode.BAD_REQUEST, 'Request body could not be decompressed as its Content-Encoding says'), site);
    return sendError(res, 400, described.message, described.extensions);
  }
  const described = reporter.report(refusal ?? error, site);
  sendError(res, described.httpStatus, described.message, described.extensions);
}

/** Runs `middleware` in order, then `last`; an error (thrown, passed to `next` or rejected) goes to `failed`. */
function chain(middleware: Middleware[], last: (req: GraphQLRequest, res: http.ServerResponse) => Promise<void>, failed: (error: unknown, res: http.ServerResponse) => void) {
  return (req: GraphQLRequest, res: http.ServerResponse): void => {
    let index = 0;
    const next: Next = (error) => {
      if (error) {
        // A failure while answering a failure must not escape into the server: that request's socket goes instead.
        try {
          return failed(error, res);
        } catch {
          return void res.destroy();
        }
      }
      const step = middleware[index++];
      try {
        if (step) step(req, res, next);
        else last(req, res).catch(next);
      } catch (thrown) {
        next(thrown);
      }
    };
    next();
  };
}

/**
 * Hands a request to Apollo Server and writes its answer, as Apollo's
 * integrations do (its HTTPGraphQLRequest in, HTTPGraphQLResponse out), on
 * plain node:http: no ETag on answers that are `no-store` and never
 * conditional.
 */
async function execute<C extends BaseContext>(apollo: ApolloServer<C>, req: GraphQLRequest, res: http.ServerResponse, context: () => Promise<C>): Promise<void> {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  const url = req.url ?? '';
  const query = url.indexOf('?');
  const answer = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: (req.method ?? 'GET').toUpperCase(), headers, search: query < 0 ? '' : url.slice(query), body: req.body },
    context,
  });
  for (const [key, value] of answer.headers) res.setHeader(key, value);
  res.statusCode = answer.status ?? 200;
  // The text is UTF-8: say so where Apollo does not (its landing page).
  const type = res.getHeader('content-type');
  if (typeof type === 'string' && !/;\s*charset=/i.test(type)) res.setHeader('content-type', `${type}; charset=utf-8`);
  if (answer.body.kind === 'complete') {
    res.setHeader('content-length', Buffer.byteLength(answer.body.string));
    return void res.end(answer.body.string);
  }
  for await (const chunk of answer.body.asyncIterator) {
    res.write(chunk);
    (res as { flush?: () => void }).flush?.(); // compression holds chunks back otherwise
  }
  res.end();
}

/**
 * A node:http handler for GraphQL over HTTP: `middleware` in order, then
 * Apollo with the request's `context`; what fails on the way goes to `failed`.
 */
export function answerGraphQL<C extends BaseContext>(
  apollo: ApolloServer<C>, middleware: Middleware[], context: (req: GraphQLRequest, res: http.ServerResponse) => () => Promise<C>,
  failed: (error: unknown, res: http.ServerResponse) => void,
): (req: GraphQLRequest, res: http.ServerResponse) => void {
  return chain(middleware, (req, res) => execute(apollo, req, res, context(req, res)), failed);
}

export function requestIdOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && /^[A-Za-z0-9._:-]{1,128}$/.test(value) ? value : newId();
}

/**
 * Apollo Server on `/graphql`, with the one error mapping and the request
 * context. Requests to exactly `/graphql` are answered by `handle` straight
 * from node:http, past Express's app and router, which cost more CPU than
 * Apollo itself (docs/performance.md, "`/graphql` past Express, and tokens
 * verified once"): `headers` (the security headers and CORS the app sends
 * everywhere else) run first, then the same chain Express mounts for
 * anything under `/graphql/`. `handle` returns false for any other path.
 */
export async function mountGraphQL(options: {
  app: express.Express;
  headers: Middleware[];
  trustProxy: number;
  httpServer: http.Server;
  schema: GraphQLSchema;
  services: Services;
  logger: Logger;
  exposeErrorDetails: boolean;
  drainWebSockets: () => Promise<void>;
  metrics: AtelierMetrics;
  errors: ErrorReporter;
}): Promise<{ apollo: ApolloServer<AppContext>; handle: (req: http.IncomingMessage, res: http.ServerResponse) => boolean }> {
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
  const context = (req: GraphQLRequest, res: http.ServerResponse) => async (): Promise<AppContext> => {
    const requestId = requestIdOf(req.headers['x-request-id']);
    res.setHeader('X-Request-ID', requestId);
    const origin = { clientIp: clientAddressOf(req, options.trustProxy), userAgent: req.headers['user-agent'] };
    try {
      const viewer = await services.gate.admit(req.headers.authorization, originOf(origin));
      return { requestId, viewer, services, loaders: createLoaders(services.db), transport: 'http', ...origin };
    } catch (error) {
      throw toGraphQLError(error);
    }
  };
  const graphql: Middleware[] = [plain(compressResponses()), plain(express.json({ limit: MAX_REQUEST_BYTES })), traceGraphQLRequests()];
  const failed = (error: unknown, res: http.ServerResponse) => refuse(options.errors, error, res);
  const mounted = answerGraphQL(apollo, graphql, context, failed);
  options.app.use('/graphql', (req, res) => mounted(req, res));
  const direct = answerGraphQL(apollo, [...options.headers, ...graphql], context, failed);
  return {
    apollo,
    handle: (req, res) => {
      const url = req.url ?? '';
      const end = url.indexOf('?');
      if ((end < 0 ? url : url.slice(0, end)) !== '/graphql') return false;
      direct(req, res);
      return true;
    },
  };
}
