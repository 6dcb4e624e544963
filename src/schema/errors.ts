import { GraphQLError, type GraphQLFormattedError } from 'graphql';

/** The codes clients can rely on in `extensions.code` (DESIGN.md section 3). */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'QUOTA_EXCEEDED'
  | 'RATE_LIMITED'
  | 'QUERY_TOO_COMPLEX'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL';

/** A domain error: thrown by services, mapped once to a GraphQL error by `formatError`. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badInput = (field: string, message: string): AppError =>
  new AppError('BAD_USER_INPUT', message, { field });

export const notFound = (what: string): AppError => new AppError('NOT_FOUND', `${what} not found`);

export const forbidden = (message = 'You are not allowed to do this'): AppError => new AppError('FORBIDDEN', message);

export const unauthenticated = (message = 'Sign in first: send Authorization: Bearer <token or API key>'): AppError =>
  new AppError('UNAUTHENTICATED', message);

export function quotaExceeded(message: string, limit: number, retryAfterSeconds: number | null, field?: string): AppError {
  return new AppError('QUOTA_EXCEEDED', message, { limit, retryAfterSeconds, ...(field ? { field } : {}) });
}

export function rateLimited(limit: number, retryAfterSeconds: number): AppError {
  return new AppError('RATE_LIMITED', `Rate limit of ${limit} requests per minute reached; retry in ${retryAfterSeconds} s`, {
    limit,
    retryAfterSeconds,
  });
}

/** What clients are told to wait before retrying while PostgreSQL or Redis is unreachable. */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;

export const serviceUnavailable = (): AppError =>
  new AppError('SERVICE_UNAVAILABLE', 'The service is briefly unavailable (its database or Redis cannot be reached); retry shortly', {
    retryAfterSeconds: OUTAGE_RETRY_AFTER_SECONDS,
  });

/** PostgreSQL SQLSTATEs of a server that is gone, restarting or full (class 08 is connection exceptions). */
const PG_OUTAGE_STATES = /^(08|57P0[123]$|53300$)/;
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** Messages of pg, the pg pool and ioredis when their server is unreachable (they carry no code). */
const OUTAGE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|not queryable|Connection is closed|max retries per request|Stream isn't writeable|connection timeout/i;

/**
 * True when `error` says PostgreSQL or Redis is unreachable (a transient
 * outage, worth retrying) rather than that a request was wrong. Looks through
 * TypeORM's `driverError`, `cause`, GraphQL's `originalError` and the
 * AggregateError Node gives for a refused dual-stack connect.
 */
export function isServiceOutage(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length && seen.size < 20) {
    const current = pending.pop() as { code?: unknown; message?: unknown; name?: unknown; [key: string]: unknown } | null;
    if (!current || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    if (current instanceof AppError) return current.code === 'SERVICE_UNAVAILABLE';
    if ((current.extensions as { code?: unknown } | undefined)?.code === 'SERVICE_UNAVAILABLE') return true;
    const code = typeof current.code === 'string' ? current.code : '';
    if (NETWORK_CODES.has(code) || PG_OUTAGE_STATES.test(code) || current.name === 'MaxRetriesPerRequestError') return true;
    if (typeof current.message === 'string' && OUTAGE_MESSAGES.test(current.message)) return true;
    pending.push(current.driverError, current.cause, current.originalError, ...(Array.isArray(current.errors) ? current.errors : []));
  }
  return false;
}

/** Codes that graphql-js and Apollo already assign and that are safe to pass through. */
const PASS_THROUGH = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
]);

/** Finds the AppError behind wrappers (GraphQLError.originalError chains, shield, middleware). */
export function findAppError(error: unknown): AppError | null {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth += 1) {
    if (current instanceof AppError) return current;
    current = (current as { originalError?: unknown }).originalError;
  }
  return null;
}

/** Turns a domain error into a GraphQLError (used where errors leave without formatError, e.g. graphql-ws). */
export function toGraphQLError(error: AppError): GraphQLError {
  return new GraphQLError(error.message, { extensions: { ...error.extensions, code: error.code } });
}

/**
 * The one mapping from thrown errors to what clients see. Unknown errors are
 * logged with the request id and shown as INTERNAL without details.
 */
export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
  options: { exposeDetails: boolean; log: (err: unknown) => void },
): GraphQLFormattedError {
  const appError = findAppError(error);
  const base = { message: formatted.message, locations: formatted.locations, path: formatted.path };
  if (appError) {
    return { ...base, message: appError.message, extensions: { ...appError.extensions, code: appError.code } };
  }
  if (isServiceOutage(error)) {
    const outage = serviceUnavailable();
    return { ...base, message: outage.message, extensions: { ...outage.extensions, code: outage.code } };
  }
  if (formatted.extensions?.queryLimit) {
    const { stacktrace: _drop, ...extensions } = formatted.extensions;
    return { ...base, extensions: { ...extensions, code: 'QUERY_TOO_COMPLEX' } };
  }
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && PASS_THROUGH.has(code)) {
    const { stacktrace: _drop, ...extensions } = formatted.extensions ?? {};
    return { ...base, extensions: { ...extensions, code } };
  }
  if (typeof code === 'string' && ['UNAUTHENTICATED', 'FORBIDDEN', 'QUERY_TOO_COMPLEX', 'RATE_LIMITED', 'SERVICE_UNAVAILABLE'].includes(code)) {
    const { stacktrace: _drop, ...extensions } = formatted.extensions ?? {};
    return { ...base, extensions: { ...extensions, code } };
  }
  options.log(error);
  if (options.exposeDetails) {
    return { ...base, extensions: { code: 'INTERNAL', detail: formatted.message } };
  }
  return { ...base, message: 'Internal server error', extensions: { code: 'INTERNAL' } };
}
