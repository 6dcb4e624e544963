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
  if (formatted.extensions?.queryLimit) {
    const { stacktrace: _drop, ...extensions } = formatted.extensions;
    return { ...base, extensions: { ...extensions, code: 'QUERY_TOO_COMPLEX' } };
  }
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && PASS_THROUGH.has(code)) {
    const { stacktrace: _drop, ...extensions } = formatted.extensions ?? {};
    return { ...base, extensions: { ...extensions, code } };
  }
  if (typeof code === 'string' && ['UNAUTHENTICATED', 'FORBIDDEN', 'QUERY_TOO_COMPLEX', 'RATE_LIMITED'].includes(code)) {
    const { stacktrace: _drop, ...extensions } = formatted.extensions ?? {};
    return { ...base, extensions: { ...extensions, code } };
  }
  options.log(error);
  if (options.exposeDetails) {
    return { ...base, extensions: { code: 'INTERNAL', detail: formatted.message } };
  }
  return { ...base, message: 'Internal server error', extensions: { code: 'INTERNAL' } };
}
