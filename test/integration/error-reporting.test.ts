import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AppError, ErrorCode, describeError } from '../../src/kernel/errors';
import { createLogger } from '../../src/observability/logger';
import { startTestApp, type TestApp } from '../support/app';
import { gql, gqlData, signUp, waitFor, wsClient } from '../support/graphql';
import { parsePrometheusText, sample } from '../support/prometheus';

/*
 * One place decides how every error code is reported (kernel/errors.ts
 * describeError, counted and logged by observability/error-reporter.ts).
 * Each code is sent through GraphQL over HTTP, graphql-ws and a REST route;
 * the code the client sees, the code in the log line and the metric label
 * must be the same.
 */
type LogLine = Record<string, any>;
const lines: LogLine[] = [];
let app: TestApp;
let user: { token: string; id: string };
/** What the injected service failure throws next. */
let failure: unknown = null;

beforeAll(async () => {
  const destination = { write: (line: string) => void lines.push(JSON.parse(line)) };
  app = await startTestApp({ LOG_LEVEL: 'info' }, { logger: createLogger({ level: 'info', destination }) });
  user = await signUp(app.url, 'errors');
  // A GraphQL query (randomPrompts) and a REST route (POST /uploads) that fail with whatever the test chose.
  app.services.suggestions.randomPrompts = () => { throw failure; };
  app.services.uploads.receive = async () => { throw failure; };
});
afterAll(async () => app?.close());

async function errorsMetric(transport: string, code: string): Promise<number> {
  const families = parsePrometheusText(await (await fetch(`${app.url}/metrics`)).text());
  return sample(families, 'atelier_errors_total', { transport, code }) ?? 0;
}

function loggedCodes(transport: string, since: number): string[] {
  return lines.slice(since).filter((l) => l.transport === transport).flatMap((l) => l.errorCodes ?? (l.errorCode ? [l.errorCode] : []));
}

type Transport = 'http' | 'ws' | 'rest';

/** Sends one request through `transport`; returns the code the client saw (and the HTTP status where there is one). */
async function send(transport: Transport, query = '{ randomPrompts(count: 1) }'): Promise<{ code: string; status?: number; message: string }> {
  if (transport === 'http') {
    const res = await gql(app.url, query, {}, user.token);
    return { code: res.errors?.[0]?.extensions?.code, status: res.status, message: res.errors?.[0]?.message ?? '' };
  }
  if (transport === 'rest') {
    const res = await fetch(`${app.url}/uploads`, { method: 'POST', headers: { authorization: `Bearer ${user.token}` }, body: 'x' });
    const body = await res.json() as { code: string; error: string };
    return { code: body.code, status: res.status, message: body.error };
  }
  const client = wsClient(app.url, user.token);
  try {
    const result = await new Promise<any>((resolve) => {
      client.subscribe({ query }, { next: resolve, error: (errors) => resolve({ errors }), complete: () => undefined });
    });
    const first = Array.isArray(result.errors) ? result.errors[0] : result.errors;
    return { code: first?.extensions?.code, message: first?.message ?? '' };
  } finally {
    await client.dispose();
  }
}

const DOMAIN_CODES = [
  ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN, ErrorCode.NOT_FOUND, ErrorCode.BAD_USER_INPUT, ErrorCode.CONFLICT,
  ErrorCode.QUOTA_EXCEEDED, ErrorCode.RATE_LIMITED, ErrorCode.QUERY_TOO_COMPLEX, ErrorCode.PAYLOAD_TOO_LARGE, ErrorCode.SERVICE_UNAVAILABLE,
];

describe('every error code is reported the same way on every transport', () => {
  for (const transport of ['http', 'ws', 'rest'] as const) {
    it(`${transport}: domain codes, an unexpected error, client code = log code = metric label`, async () => {
      const cases: { thrown: unknown; code: string }[] = [
        ...DOMAIN_CODES.map((code) => ({ thrown: new AppError(code, `refused with ${code}`, { retryAfterSeconds: 7 }), code })),
        { thrown: new Error('connection string postgres://secret@db leaked'), code: ErrorCode.INTERNAL },
        // A raw outage of a server Atelier depends on (a compose service's name while it is recreated).
        { thrown: Object.assign(new Error('getaddrinfo ENOTFOUND redis'), { code: 'ENOTFOUND' }), code: ErrorCode.SERVICE_UNAVAILABLE },
      ];
      let outages = 0;
      for (const { thrown, code } of cases) {
        failure = thrown;
        const before = await errorsMetric(transport, code);
        const since = lines.length;
        const seen = await send(transport);
        expect(seen.code, `${transport} ${code}`).toBe(code);
        if (seen.status !== undefined && transport === 'rest') expect(seen.status).toBe(describeError(thrown).httpStatus);
        if (code === ErrorCode.INTERNAL) expect(seen.message).not.toContain('secret');
        if (!(thrown instanceof AppError) && code === ErrorCode.SERVICE_UNAVAILABLE) {
          expect(seen.message).toBe('The service is briefly unavailable (a server it depends on cannot be reached); retry shortly');
        }
        const logged = lines.slice(since).filter((l) => l.transport === transport);
        if (code === ErrorCode.SERVICE_UNAVAILABLE) {
          // An outage is said at warn, at most once a minute per transport (docs/operations.md, "What an outage
          // logs"); over HTTP the operation's own line still carries the code every time.
          expect(logged.filter((l) => l.level >= 50)).toEqual([]);
          expect(logged.filter((l) => l.level === 40).map((l) => l.errorCode)).toEqual(outages === 0 ? [code] : []);
          expect([...new Set(loggedCodes(transport, since))]).toEqual(outages === 0 || transport === 'http' ? [code] : []);
          outages += 1;
        } else {
          expect([...new Set(loggedCodes(transport, since))]).toEqual([code]);
        }
        expect(await errorsMetric(transport, code)).toBe(before + 1);
      }
    });
  }

  it('GraphQL protocol errors and limits keep their code on HTTP and graphql-ws, in the log and the metric', async () => {
    const deep = `{ jobs { edges { node { ${'images { job { '.repeat(6)}id${' } }'.repeat(6)} } } } }`;
    const cases = [
      { query: '{ me { id ', code: ErrorCode.GRAPHQL_PARSE_FAILED },
      { query: '{ noSuchField }', code: ErrorCode.GRAPHQL_VALIDATION_FAILED },
      { query: deep, code: ErrorCode.QUERY_TOO_COMPLEX },
    ];
    for (const transport of ['http', 'ws'] as const) {
      for (const { query, code } of cases) {
        const before = await errorsMetric(transport, code);
        const since = lines.length;
        const seen = await send(transport, query);
        expect(seen.code, `${transport} ${code}`).toBe(code);
        expect([...new Set(loggedCodes(transport, since))]).toEqual([code]);
        expect(await errorsMetric(transport, code)).toBe(before + 1);
      }
    }
  });

  it('graphql-ws: a client that hung up mid-subscription (write EPIPE) is logged as such, not as an unexpected error', async () => {
    const { createGeneration: job } = await gqlData<any>(app.url,
      'mutation { createGeneration(input: { prompt: "a lighthouse", width: 64, height: 64, steps: 2 }) { id } }', {}, user.token);
    const client = wsClient(app.url, user.token, { retryAttempts: 0 });
    // The kernel's answer to a write after the client's process was killed: the socket
    // goes away and the write fails with EPIPE (reported to a send's callback when it has one).
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (this: WebSocket & { _isServer?: boolean }, data: any, ...rest: any[]) {
      // Only the server's first `next` fails (connection_ack and the client's own messages go through).
      if (!this._isServer || !String(data).includes('"next"')) return (send as any).call(this, data, ...rest);
      WebSocket.prototype.send = send;
      this.terminate();
      const callback = rest.find((arg) => typeof arg === 'function');
      callback?.(Object.assign(new Error('write EPIPE'), { code: 'EPIPE', errno: -32, syscall: 'write' }));
    } as typeof send;
    const unavailable = await errorsMetric('ws', ErrorCode.SERVICE_UNAVAILABLE);
    const since = lines.length;
    try {
      client.subscribe({ query: 'subscription($id: ID!) { jobUpdated(jobId: $id) { type } }', variables: { id: job.id } },
        { next: () => undefined, error: () => undefined, complete: () => undefined });
      await waitFor(async () => lines.slice(since).some((l) => l.msg === 'client hung up' || l.level >= 50), 10_000);
    } finally {
      WebSocket.prototype.send = send;
      await client.dispose();
    }
    expect(lines.slice(since).filter((l) => l.level >= 50).map((l) => `${l.errorCode}: ${l.err?.message}`)).toEqual([]);
    expect(lines.slice(since).filter((l) => l.msg === 'client hung up')).toHaveLength(1);
    expect(await errorsMetric('ws', ErrorCode.SERVICE_UNAVAILABLE)).toBe(unavailable);
  });

  it('HTTP statuses and Retry-After come from the same description', async () => {
    failure = new AppError(ErrorCode.SERVICE_UNAVAILABLE, 'database unreachable', { retryAfterSeconds: 9 });
    const rest = await fetch(`${app.url}/uploads`, { method: 'POST', headers: { authorization: `Bearer ${user.token}` }, body: 'x' });
    expect(rest.status).toBe(503);
    expect(rest.headers.get('retry-after')).toBe('9');
    const anonymous = await gql(app.url, '{ me { id } }', {}, 'not-a-token');
    expect(anonymous.status).toBe(401);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe(ErrorCode.UNAUTHENTICATED);
  });
});

describe('describeError', () => {
  it('gives every code a status and a kind, and never shows an unexpected error', () => {
    for (const code of Object.values(ErrorCode)) {
      const described = describeError(new AppError(code, 'm'));
      expect(described.code).toBe(code);
      expect(described.httpStatus).toBeGreaterThanOrEqual(400);
    }
    const hidden = describeError(new TypeError('secret detail'));
    expect(hidden).toMatchObject({ code: 'INTERNAL', httpStatus: 500, exposeMessage: false, kind: 'unexpected', message: 'Internal server error' });
    expect(describeError({ extensions: { code: 'GRAPHQL_VALIDATION_FAILED', queryLimit: 'depth' }, message: 'too deep' }).code).toBe('QUERY_TOO_COMPLEX');
  });
});
