import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { describeError, ErrorCode } from './errors';

/**
 * What a GraphQL client sees for `error`, on HTTP (Apollo's formatError) and
 * on graphql-ws alike: the code and message from `describeError`, never a
 * stack trace. Unexpected errors are handed to `log`; in development their
 * text rides along as `extensions.detail`.
 */
export function formatGraphQLError(
  formatted: GraphQLFormattedError,
  error: unknown,
  options: { exposeDetails: boolean; log: (err: unknown) => void },
): GraphQLFormattedError {
  const described = describeError(error);
  const base = { locations: formatted.locations, path: formatted.path };
  if (described.code !== ErrorCode.INTERNAL) return { ...base, message: described.message, extensions: described.extensions };
  options.log(error);
  if (options.exposeDetails) return { ...base, message: formatted.message, extensions: { code: ErrorCode.INTERNAL, detail: formatted.message } };
  return { ...base, message: described.message, extensions: described.extensions };
}

/**
 * A GraphQLError carrying the described code, HTTP status and Retry-After,
 * for errors that leave before execution (context creation, subscribe).
 */
export function toGraphQLError(error: unknown): GraphQLError {
  const described = describeError(error);
  const retryAfter = described.extensions.retryAfterSeconds;
  const headers = typeof retryAfter === 'number' ? new Map([['retry-after', String(retryAfter)]]) : undefined;
  return new GraphQLError(described.message, {
    originalError: error instanceof Error ? error : undefined,
    extensions: { ...described.extensions, http: { status: described.httpStatus, ...(headers ? { headers } : {}) } },
  });
}
