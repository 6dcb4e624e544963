/**
 * The error model: every code a client can see, the domain error class, and
 * the one function that decides how an error is reported (HTTP status, whether
 * its message may be shown, refusal or unexpected). Apollo, graphql-ws, the
 * REST routes, the request log and the metrics all go through `describeError`
 * (docs/architecture.md, "Errors").
 */

/** Codes in `extensions.code` (GraphQL) and `code` (REST). Exposed as the GraphQL enum `ErrorCode`. */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  CONFLICT: 'CONFLICT',
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  RATE_LIMITED: 'RATE_LIMITED',
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /** The document could not be parsed (graphql-js / Apollo). */
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  /** The document does not match the schema (graphql-js / Apollo). */
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  /** The HTTP request itself is malformed (Apollo). */
  BAD_REQUEST: 'BAD_REQUEST',
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  PERSISTED_QUERY_NOT_SUPPORTED: 'PERSISTED_QUERY_NOT_SUPPORTED',
  OPERATION_RESOLUTION_FAILURE: 'OPERATION_RESOLUTION_FAILURE',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Why a job ended FAILED (`Job.error.code`). Exposed as the GraphQL enum `JobFailureCode`. */
export const JobFailureCode = {
  DEADLINE_EXCEEDED: 'DEADLINE_EXCEEDED',
  TIMEOUT: 'TIMEOUT',
  WORKER_ERROR: 'WORKER_ERROR',
  MODEL_INVALID: 'MODEL_INVALID',
  MODEL_LOAD_FAILED: 'MODEL_LOAD_FAILED',
  LORA_INVALID: 'LORA_INVALID',
  LORA_MISMATCH: 'LORA_MISMATCH',
  LORA_NOT_FOUND: 'LORA_NOT_FOUND',
  LORA_UNSUPPORTED: 'LORA_UNSUPPORTED',
  INVALID_PARAMETERS: 'INVALID_PARAMETERS',
  INFERENCE_FAILED: 'INFERENCE_FAILED',
  /** The job's queue entry was lost or spent while its row still waited (repaired by the reconciler). */
  STRANDED: 'STRANDED',
  /** The model's backend (ComfyUI, an OpenAI-Images server) refused the request as invalid; retrying cannot help. */
  BACKEND_REJECTED: 'BACKEND_REJECTED',
  /** Every endpoint of the model's backend stayed unreachable or failing through the retries, or until the deadline. */
  BACKEND_UNAVAILABLE: 'BACKEND_UNAVAILABLE',
} as const;
export type JobFailureCode = (typeof JobFailureCode)[keyof typeof JobFailureCode];

const FAILURE_CODES: ReadonlySet<string> = new Set(Object.values(JobFailureCode));

/** A stored failure code as the enum; codes from older releases read as WORKER_ERROR. */
export const asJobFailureCode = (value: string): JobFailureCode => (FAILURE_CODES.has(value) ? (value as JobFailureCode) : JobFailureCode.WORKER_ERROR);

/** A domain error: thrown by services, reported through `describeError`. */
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

export const badInput = (field: string, message: string): AppError => new AppError(ErrorCode.BAD_USER_INPUT, message, { field });

/** NOT_FOUND; `field` names the argument that held the id when the id was part of a larger request. */
export const notFound = (what: string, field?: string): AppError =>
  new AppError(ErrorCode.NOT_FOUND, `${what} not found`, field ? { field } : {});

/**
 * The answer of a lookup that reads null for a record the viewer cannot have (`job`, `batch`, `session`, `album`):
 * NOT_FOUND becomes null, whether the id names nothing or something hidden from the viewer; every other error, a
 * malformed id's BAD_USER_INPUT included, goes to the client (docs/errors.md, "Ids").
 */
export async function nullIfNotFound<T>(lookup: () => Promise<T>): Promise<T | null> {
  try {
    return await lookup();
  } catch (error) {
    if (findAppError(error)?.code === ErrorCode.NOT_FOUND) return null;
    throw error;
  }
}

/**
 * CONFLICT: the record's state does not allow this now (cancel a finished job, delete a running one);
 * `field` names the argument that named the record.
 */
export const stateConflict = (field: string, message: string): AppError => new AppError(ErrorCode.CONFLICT, message, { field });

export const forbidden = (message = 'You are not allowed to do this'): AppError => new AppError(ErrorCode.FORBIDDEN, message);

export const unauthenticated = (message = 'Sign in first: send Authorization: Bearer <token or API key>'): AppError =>
  new AppError(ErrorCode.UNAUTHENTICATED, message);

export function quotaExceeded(message: string, limit: number, retryAfterSeconds: number | null, field?: string): AppError {
  return new AppError(ErrorCode.QUOTA_EXCEEDED, message, { limit, retryAfterSeconds, ...(field ? { field } : {}) });
}

export function rateLimited(limit: number, retryAfterSeconds: number, what = 'requests'): AppError {
  return new AppError(ErrorCode.RATE_LIMITED, `Rate limit of ${limit} ${what} per minute reached; retry in ${retryAfterSeconds} s`, {
    limit,
    retryAfterSeconds,
  });
}

/** Retry-After of an outage answer: long enough for a restart, short enough to notice recovery. */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;

export function serviceUnavailable(
  message = 'The service is briefly unavailable (a server it depends on cannot be reached); retry shortly',
  retryAfterSeconds = OUTAGE_RETRY_AFTER_SECONDS,
): AppError {
  return new AppError(ErrorCode.SERVICE_UNAVAILABLE, message, { retryAfterSeconds });
}

/** PostgreSQL SQLSTATEs of a server that is gone, restarting or full (class 08 is connection exceptions). */
const PG_OUTAGE_STATES = /^(08|57P0[123]$|53300$)/;
/**
 * A host name that does not resolve (`ENOTFOUND`) counts too: in a compose or Kubernetes deployment the
 * name of a PostgreSQL or Redis being recreated is briefly unknown (docs/operations.md).
 */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);
/**
 * Messages of pg, the pg pool and ioredis when their server is unreachable (they carry no code);
 * ioredis's `Command timed out` is a Redis that is reachable but does not answer, and its `Socket timeout`
 * a connection it gave up on for that (docs/operations.md).
 */
const OUTAGE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|not queryable|Connection is closed|max retries per request|Stream isn't writeable|connection timeout|^Command timed out$|^Socket timeout\. Expecting data/i;

/**
 * True when `error` says PostgreSQL or Redis is unreachable (a transient
 * outage, worth retrying) rather than that a request was wrong.
 */
export function isServiceOutage(error: unknown): boolean {
  return outageBehind(error) !== null;
}

/**
 * The error, `error` itself or one it wraps, that says PostgreSQL or Redis is
 * unreachable (its message is the reason an outage is logged with), or null.
 * Looks through TypeORM's `driverError`, `cause`, GraphQL's `originalError`
 * and the AggregateError Node gives for a refused dual-stack connect.
 */
export function outageBehind(error: unknown): { message?: unknown } | null {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length && seen.size < 20) {
    const current = pending.pop() as { code?: unknown; message?: unknown; name?: unknown; [key: string]: unknown } | null;
    if (!current || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    if (current instanceof AppError) return current.code === ErrorCode.SERVICE_UNAVAILABLE ? current : null;
    if ((current.extensions as { code?: unknown } | undefined)?.code === ErrorCode.SERVICE_UNAVAILABLE) return current;
    const code = typeof current.code === 'string' ? current.code : '';
    if (NETWORK_CODES.has(code) || PG_OUTAGE_STATES.test(code) || current.name === 'MaxRetriesPerRequestError') return current;
    if (typeof current.message === 'string' && OUTAGE_MESSAGES.test(current.message)) return current;
    pending.push(current.driverError, current.cause, current.originalError, ...(Array.isArray(current.errors) ? current.errors : []));
  }
  return null;
}

/** Finds the AppError behind wrappers (GraphQLError.originalError chains, shield, middleware). */
export function findAppError(error: unknown): AppError | null {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth += 1) {
    if (current instanceof AppError) return current;
    current = (current as { originalError?: unknown }).originalError;
  }
  return null;
}

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

export const isErrorCode = (value: unknown): value is ErrorCode => typeof value === 'string' && KNOWN_CODES.has(value);

/** How one error is reported, everywhere. */
export interface ErrorDescription {
  code: ErrorCode;
  /** HTTP status for transports that have one. */
  httpStatus: number;
  /** Whether the message may be shown to the client (otherwise a generic one is). */
  exposeMessage: boolean;
  /**
   * `refusal`: a limit said no (counted in atelier_refusals_total); `client`: the caller's mistake; `outage`: a
   * server Atelier depends on is unreachable (logged at warn, at most once a minute); `unexpected`: our fault
   * (logged at error level).
   */
  kind: 'refusal' | 'client' | 'outage' | 'unexpected';
  /** The message to show. */
  message: string;
  /** Extensions to send with the code (never stack traces). */
  extensions: Record<string, unknown>;
}

/** graphql-js's wording of its parse limits (parser.js, lexer.js): a document too big, not a syntax error. */
const PARSE_LIMIT = /(Document contains more th(?:an|at) \d+ (tokens|comments)|Source contains more than \d+ UTF-16 code units)\. Parsing aborted\.$/;

/** graphql-js's wording when a variable does not coerce: `Variable "$input" got invalid value "X" at "input.backend"; …`. */
const BAD_VARIABLE = /^Variable "\$(\w+)" got invalid value .*?(?: at "([^"]+)")?; /s;

/**
 * The input field a variable coercion error is about (an unknown enum value,
 * a string where a number belongs), named like the services name fields:
 * `input.endpoints[0]` → `endpoints`; a whole variable by its name.
 */
export function fieldOfBadVariable(message: string): string | undefined {
  const match = BAD_VARIABLE.exec(message);
  if (!match) return undefined;
  const segments = (match[2] ?? match[1]).replace(/\[\d+\]/g, '').split('.');
  return (segments.length > 1 ? segments.slice(1) : segments).join('.');
}

/** graphql-js errors and others that carry a code in `extensions` (validation rules, Apollo, shield's fallback). */
function extensionCode(error: unknown): { code: unknown; extensions: Record<string, unknown> } {
  let extensions = (error as { extensions?: Record<string, unknown> } | null)?.extensions ?? {};
  if (extensions.code === ErrorCode.BAD_USER_INPUT && extensions.field === undefined) {
    const field = fieldOfBadVariable(String((error as Error | null)?.message ?? ''));
    if (field) extensions = { ...extensions, field };
  }
  // A limit rule marks its errors: Apollo re-codes validation errors as GRAPHQL_VALIDATION_FAILED.
  if (extensions.queryLimit) return { code: ErrorCode.QUERY_TOO_COMPLEX, extensions };
  if (PARSE_LIMIT.test(String((error as Error | null)?.message ?? ''))) return { code: ErrorCode.QUERY_TOO_COMPLEX, extensions };
  // Apollo's own refusals of a request (a persisted query's hash that does not match its query) carry
  // an HTTP 4xx and no code: the request's fault, not ours.
  const status = (extensions.http as { status?: number } | undefined)?.status;
  if (extensions.code === undefined && status !== undefined && status >= 400 && status < 500) return { code: ErrorCode.BAD_REQUEST, extensions };
  return { code: extensions.code, extensions };
}

function statusOf(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.UNAUTHENTICATED: return 401;
    case ErrorCode.FORBIDDEN: return 403;
    case ErrorCode.NOT_FOUND: return 404;
    case ErrorCode.CONFLICT: return 409;
    case ErrorCode.PAYLOAD_TOO_LARGE: return 413;
    case ErrorCode.QUOTA_EXCEEDED:
    case ErrorCode.RATE_LIMITED: return 429;
    case ErrorCode.SERVICE_UNAVAILABLE: return 503;
    case ErrorCode.INTERNAL: return 500;
    case ErrorCode.BAD_USER_INPUT:
    case ErrorCode.QUERY_TOO_COMPLEX:
    case ErrorCode.GRAPHQL_PARSE_FAILED:
    case ErrorCode.GRAPHQL_VALIDATION_FAILED:
    case ErrorCode.BAD_REQUEST:
    case ErrorCode.PERSISTED_QUERY_NOT_FOUND:
    case ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED:
    case ErrorCode.OPERATION_RESOLUTION_FAILURE: return 400;
    default: return assertNever(code);
  }
}

function kindOf(code: ErrorCode): ErrorDescription['kind'] {
  switch (code) {
    case ErrorCode.QUOTA_EXCEEDED:
    case ErrorCode.RATE_LIMITED:
    case ErrorCode.QUERY_TOO_COMPLEX:
    case ErrorCode.PAYLOAD_TOO_LARGE: return 'refusal';
    case ErrorCode.SERVICE_UNAVAILABLE: return 'outage';
    case ErrorCode.INTERNAL: return 'unexpected';
    case ErrorCode.UNAUTHENTICATED:
    case ErrorCode.FORBIDDEN:
    case ErrorCode.NOT_FOUND:
    case ErrorCode.BAD_USER_INPUT:
    case ErrorCode.CONFLICT:
    case ErrorCode.GRAPHQL_PARSE_FAILED:
    case ErrorCode.GRAPHQL_VALIDATION_FAILED:
    case ErrorCode.BAD_REQUEST:
    case ErrorCode.PERSISTED_QUERY_NOT_FOUND:
    case ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED:
    case ErrorCode.OPERATION_RESOLUTION_FAILURE: return 'client';
    default: return assertNever(code);
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled error code ${String(value)}`);
}

const NOT_SHOWN = new Set(['stacktrace', 'http', 'exception']);

/**
 * The one decision of how an error is reported. Domain errors keep their code
 * and message; errors carrying a known code in `extensions` (graphql-js
 * validation, Apollo, the limit rules) keep it; anything else is INTERNAL
 * with a generic message, except an unreachable database or Redis, which is
 * SERVICE_UNAVAILABLE (retry shortly).
 */
export function describeError(error: unknown): ErrorDescription {
  const appError = findAppError(error) ?? (isServiceOutage(error) ? serviceUnavailable() : null);
  let code: ErrorCode = ErrorCode.INTERNAL;
  let extensions: Record<string, unknown> = {};
  if (appError) {
    code = appError.code;
    extensions = appError.extensions;
  } else {
    const found = extensionCode(error);
    if (isErrorCode(found.code)) code = found.code;
    else if (found.code === 'INTERNAL_SERVER_ERROR' || found.code === undefined) code = ErrorCode.INTERNAL;
    extensions = found.extensions;
  }
  const kind = kindOf(code);
  const exposeMessage = code !== ErrorCode.INTERNAL;
  const message = exposeMessage ? String((appError ?? (error as Error | null))?.message ?? code) : 'Internal server error';
  const shown = Object.fromEntries(Object.entries(exposeMessage ? extensions : {}).filter(([key]) => !NOT_SHOWN.has(key)));
  return { code, httpStatus: statusOf(code), exposeMessage, kind, message, extensions: { ...shown, code } };
}
