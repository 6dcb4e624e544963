import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { ErrorCode } from '../kernel/errors';
import { CliError } from './cli-error';
import { configPath, givenUrl, readConfig, serverUrl, type CliConfig } from './config-file';
import { answerOf, isQueryText, RETRY_DEFAULTS, retryPolicy } from '../../sdk/src/retries';
import { refusalOf, RESUME_DEFAULTS, resumeDelayMs, resumes } from '../../sdk/src/resume';

/** One server and the credential to send it. */
export interface Connection {
  url: string;
  /** A JWT or an API key; null for anonymous calls (the server then answers UNAUTHENTICATED where it must). */
  credential: string | null;
  /** The server a stored login is for when it is not `url` (so it was not sent), to say so on UNAUTHENTICATED. */
  storedFor?: string;
  /** No credential at all (no login stored, no ATELIER_API_KEY): UNAUTHENTICATED then says how to sign in. */
  signedOut?: boolean;
  /** Where `url` came from (`--url`, ATELIER_URL, the config file, the default), for a URL that is not Atelier's. */
  urlFrom?: string;
}

/**
 * The server and credential for a command. ATELIER_API_KEY wins (for scripts);
 * the stored credential is sent only to the server it was stored for, so
 * `--url` pointing elsewhere never leaks it. With ATELIER_API_KEY and a URL
 * given, the config file is not read (a damaged one does not matter then).
 */
export function connect(urlFlag: string | undefined, config?: CliConfig, env: NodeJS.ProcessEnv = process.env): Connection {
  const given = givenUrl(urlFlag, env);
  const givenFrom = urlFlag ? '--url' : 'ATELIER_URL';
  if (env.ATELIER_API_KEY && given && !config) return { url: given, credential: env.ATELIER_API_KEY, urlFrom: givenFrom };
  const stored = config ?? readConfig();
  const url = given ?? serverUrl(undefined, stored, env);
  const urlFrom = given ? givenFrom : stored.url ? `the URL stored by \`atelier login\` in ${configPath()}` : 'the default URL';
  const storedUrl = stored.credential ? serverUrl(undefined, stored, {}) : undefined;
  const credential = env.ATELIER_API_KEY || (storedUrl === url ? stored.credential!.value : null);
  const missing = credential ? {} : storedUrl && storedUrl !== url ? { storedFor: storedUrl } : { signedOut: true };
  return { url, credential, urlFrom, ...missing };
}

interface GraphQLBody<T> {
  data?: T | null;
  errors?: { message?: string; extensions?: Record<string, unknown> }[];
}

/**
 * POSTs one operation; throws CliError with the server's code on any error.
 * Made again as the SDK's policy says (sdk/src/retries.ts; sdk/README.md,
 * "Retries"): after a 429 or 503's Retry-After always, after no answer only
 * when `repeatable` (a query, unless the caller says otherwise). `signal`
 * stops it (a call aborted so rejects like one that got no answer).
 */
export async function request<T>(
  conn: Connection, query: string, variables: Record<string, unknown> = {}, repeatable = isQueryText(query), signal?: AbortSignal,
): Promise<T> {
  const body = JSON.stringify({ query, variables });
  try {
    // `signal` aborts the call in flight and any wait before another attempt (the caller says why it stopped).
    return await retryPolicy(RETRY_DEFAULTS, repeatable).execute((attempt) => post<T>(conn, body, attempt.signal), signal);
  } catch (error) {
    throw signInHint(conn, error);
  }
}

/**
 * UNAUTHENTICATED with no credential sent, said for a terminal: the stored
 * login is for another server (which, and how to sign in to this one), or
 * there is none (run `atelier login`, or set ATELIER_API_KEY).
 */
export function signInHint(conn: Connection, error: unknown): unknown {
  if (!(error instanceof CliError) || error.code !== ErrorCode.UNAUTHENTICATED || conn.credential) return error;
  const message = conn.storedFor ? `the stored login is for ${conn.storedFor}, not ${conn.url}: run \`atelier login --url ${conn.url}\``
    : conn.signedOut ? `not signed in to ${conn.url}: run \`atelier login\` (or set ATELIER_API_KEY)` : null;
  if (!message) return error;
  return new CliError(ErrorCode.UNAUTHENTICATED, message, error.field, {
    status: error.status ?? undefined, retryAfterSeconds: error.retryAfterSeconds ?? undefined,
  });
}

async function post<T>(conn: Connection, payload: string, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${conn.url}/graphql`, {
      method: 'POST',
      signal,
      headers: { 'content-type': 'application/json', ...(conn.credential ? { authorization: `Bearer ${conn.credential}` } : {}) },
      body: payload,
    });
  } catch (error) {
    throw unreachable(conn.url, error);
  }
  const answer = answerOf(res);
  let body: GraphQLBody<T>;
  try {
    body = (await res.json()) as GraphQLBody<T>;
  } catch {
    // A path the server does not know (`--url http://host:4000/api`): the URL is wrong, not the server.
    if (res.status === 404 || res.status === 405) {
      throw new CliError(ErrorCode.BAD_USER_INPUT, `no Atelier GraphQL endpoint at ${conn.url}/graphql (HTTP ${res.status}): check ${conn.urlFrom ?? 'the URL'}, e.g. http://localhost:4000`, 'url', answer);
    }
    throw new CliError(res.status === 503 ? ErrorCode.SERVICE_UNAVAILABLE : ErrorCode.INTERNAL, `${conn.url}/graphql answered HTTP ${res.status} without a GraphQL body`, null, answer);
  }
  if (body.errors?.length) throw CliError.fromGraphQL(body.errors[0], answer);
  if (!body.data) throw new CliError(ErrorCode.INTERNAL, `${conn.url}/graphql answered HTTP ${res.status} without data`, null, answer);
  return body.data;
}

export function unreachable(url: string, error: unknown): CliError {
  // fetch says only "fetch failed"; the reason (ECONNREFUSED, a DNS failure) is in its cause.
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? (error as Error).message;
  return new CliError(ErrorCode.SERVICE_UNAVAILABLE, `cannot reach ${url} (${reason}): is the server running? (--url or ATELIER_URL)`);
}

/**
 * A graphql-ws client on the same server, authenticated in connectionParams.
 * It does not reconnect by itself: graphql-ws would subscribe again with the
 * variables it was first given, replaying a job from its start or leaving a
 * gap in a session's feed; `follow` resumes after the last event instead.
 */
export function socket(conn: Connection): Client {
  return createClient({
    url: `${conn.url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: conn.credential ? { authorization: `Bearer ${conn.credential}` } : {},
    retryAttempts: 0,
    lazy: true,
  });
}

/**
 * Runs a subscription, calling `onEvent` for each result, until it completes,
 * `onEvent` returns true, or `signal` aborts. Rejects with CliError on errors.
 */
export function subscribe<T>(
  client: Client, query: string, variables: Record<string, unknown>,
  onEvent: (data: T) => boolean | void, signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let dispose = (): void => undefined;
    const finish = (error?: unknown) => {
      dispose();
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    const onAbort = () => finish();
    signal?.addEventListener('abort', onAbort);
    dispose = client.subscribe<T>({ query, variables }, {
      next: (value) => {
        if (value.errors?.length) return finish(CliError.fromGraphQL(value.errors[0] as never));
        try {
          if (value.data && onEvent(value.data as T)) finish();
        } catch (error) {
          finish(error);
        }
      },
      error: (error) => finish(socketError(error)),
      complete: () => finish(),
    });
  });
}

/**
 * Runs a subscription that takes `after` and whose events carry an `eventId`
 * (`jobUpdated`, `sessionEvents`) as `subscribe` does; when the connection
 * drops or the server ends it with SERVICE_UNAVAILABLE (it could not give
 * every event it missed: docs/operations.md, "A subscription that cannot be
 * caught up"), it subscribes again after the last event handed to `onEvent`,
 * as the SDK does (sdk/src/resume.ts: its attempts and backoff), so nothing
 * is missed and nothing comes twice. A refusal ends it at once.
 */
export async function follow<T>(
  client: Client, query: string, variables: Record<string, unknown>, eventIdOf: (data: T) => string,
  onEvent: (data: T) => boolean | void, signal?: AbortSignal,
): Promise<void> {
  // Where it starts until an event arrives (`variables.after`, else the server's default).
  let after = (variables.after as string | null | undefined) ?? null;
  let failures = 0;
  for (;;) {
    try {
      return await subscribe<T>(client, query, { ...variables, after }, (data) => {
        failures = 0;
        after = eventIdOf(data);
        return onEvent(data);
      }, signal);
    } catch (error) {
      if (!resumes(error) || failures >= RESUME_DEFAULTS.reconnectAttempts) throw error;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, resumeDelayMs(failures, error));
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
      if (signal?.aborted) return;
      failures += 1;
    }
  }
}

/** graphql-ws hands over an array of GraphQL errors, a CloseEvent or an Error. */
function socketError(error: unknown): CliError {
  if (Array.isArray(error) && error.length) return CliError.fromGraphQL(error[0]);
  const close = error as { code?: number; reason?: string };
  if (typeof close?.code === 'number') {
    // 4401/4403: the credential was refused or expired; 4429: too many connections (src/server/graphql-ws.ts).
    const refusal = refusalOf(close.code);
    const code = refusal ? ErrorCode[refusal] : ErrorCode.SERVICE_UNAVAILABLE;
    return new CliError(code, `the live connection closed (${close.code}${close.reason ? `: ${close.reason}` : ''})`);
  }
  return new CliError(ErrorCode.SERVICE_UNAVAILABLE, `the live connection failed: ${(error as Error)?.message ?? String(error)}`);
}
