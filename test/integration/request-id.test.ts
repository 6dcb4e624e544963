import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger';
import { flushTraces } from '../../src/observability/tracing';
import { collect, gql, gqlData, signUp, waitFor, wsClient } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';

/*
 * Correlation: one request id from the HTTP request (X-Request-ID) through the
 * API's log line into the worker's log lines for the job it created, and one
 * OpenTelemetry trace from the mutation through the queue into the worker,
 * exported to a real OTLP/HTTP endpoint (a small collector in this test).
 */
type LogLine = Record<string, any>;
const lines: LogLine[] = [];
const exported: any[] = [];
let collector: http.Server;
let app: TestApp;
let user: { token: string; id: string; email: string };

const LONG_PROMPT = 'a lighthouse on a cliff at night, storm clouds, and the secret-codeword-xyzzy at the very end';
const CREATE = 'mutation CreateJob($input: GenerationInput!) { createGeneration(input: $input) { id } }';

beforeAll(async () => {
  collector = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.url === '/v1/traces') exported.push(JSON.parse(body));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  const destination = { write: (line: string) => void lines.push(JSON.parse(line)) };
  app = await startTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, LOG_LEVEL: 'info' }, { logger: createLogger({ level: 'info', destination }) });
  user = await signUp(app.url);
});
afterAll(async () => {
  await app?.close();
  collector?.close();
});

async function completed(id: string): Promise<void> {
  await waitFor(async () => (await gqlData<any>(app.url, 'query($id: ID!) { job(id: $id) { status } }', { id }, user.token)).job.status === 'COMPLETED', 30_000);
}

function spans(): any[] {
  return exported.flatMap((body) => body.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans)));
}

describe('request ids and traces', () => {
  it('X-Request-ID is returned and appears in the API log line and in the worker log lines of the job', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await gql<any>(app.url, CREATE, { input: { prompt: LONG_PROMPT, width: 64, height: 64, steps: 3 } }, user.token, {
      'x-request-id': 'req-from-client-42', traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
    });
    expect(res.headers.get('x-request-id')).toBe('req-from-client-42');
    const jobId = res.data.createGeneration.id;
    await completed(jobId);
    await waitFor(async () => lines.some((l) => l.msg === 'job completed' && l.jobId === jobId));

    const api = lines.find((l) => l.msg === 'graphql operation' && l.requestId === 'req-from-client-42');
    expect(api).toMatchObject({ operation: 'CreateJob', operationType: 'mutation', userId: user.id, outcome: 'ok' });
    expect(api!.durationMs).toBeGreaterThanOrEqual(0);
    const worker = lines.filter((l) => l.role === 'worker' && l.jobId === jobId);
    expect(worker.map((l) => l.msg)).toEqual(expect.arrayContaining(['job started', 'job completed']));
    for (const line of worker) expect(line.requestId).toBe('req-from-client-42');

    // Prompts are cut in logs; secrets never appear.
    const started = worker.find((l) => l.msg === 'job started')!;
    expect(started.prompt).toBe(`${LONG_PROMPT.slice(0, 24)}… (${LONG_PROMPT.length} chars)`);
    const all = JSON.stringify(lines);
    expect(all).not.toContain('secret-codeword-xyzzy');
    expect(all).not.toContain('correct horse battery');
    expect(all).not.toContain(user.token);

    // One trace: the client's trace id, the GraphQL SERVER span, the worker's CONSUMER span as its child.
    await waitFor(async () => {
      await flushTraces();
      return spans().some((s) => s.name === 'generation.job' && s.traceId === traceId);
    });
    const server = spans().find((s) => s.name === 'graphql mutation CreateJob' && s.traceId === traceId);
    const consumer = spans().find((s) => s.name === 'generation.job' && s.traceId === traceId);
    expect(server).toMatchObject({ kind: 2, parentSpanId: '00f067aa0ba902b7' });
    expect(consumer).toMatchObject({ kind: 5, parentSpanId: server.spanId });
    expect(consumer.attributes).toEqual(expect.arrayContaining([{ key: 'atelier.job.id', value: { stringValue: jobId } }]));
  });

  it('a request without X-Request-ID gets a generated one, returned and logged', async () => {
    const res = await gql<any>(app.url, 'query Me { me { id } }', {}, user.token);
    const id = res.headers.get('x-request-id')!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines.find((l) => l.requestId === id)).toMatchObject({ msg: 'graphql operation', operation: 'Me', userId: user.id, outcome: 'ok' });
  });

  it('an unsafe X-Request-ID is replaced; errors are logged with their code', async () => {
    const res = await gql<any>(app.url, 'mutation Broken { createGeneration(input: { prompt: "  " }) { id } }', {}, user.token, { 'x-request-id': 'bad id with spaces' });
    const id = res.headers.get('x-request-id')!;
    expect(id).not.toBe('bad id with spaces');
    expect(lines.find((l) => l.requestId === id)).toMatchObject({ operation: 'Broken', outcome: 'error', errorCodes: ['BAD_USER_INPUT'] });
  });

  it('each WebSocket operation has its own request id (client-chosen in extensions.requestId, else generated)', async () => {
    const { id: jobId } = (await gqlData<any>(app.url, CREATE, { input: { prompt: 'waves', width: 64, height: 64, steps: 2 } }, user.token)).createGeneration;
    const client = wsClient(app.url, user.token);
    const chosen = await new Promise<void>((resolve, reject) => {
      client.subscribe({ query: 'subscription Follow($id: ID!) { jobUpdated(jobId: $id) { type } }', variables: { id: jobId }, extensions: { requestId: 'ws-op-7' } }, {
        next: () => undefined, error: reject, complete: resolve,
      });
    });
    expect(chosen).toBeUndefined();
    const sub = collect(client, 'subscription { jobUpdated(jobId: "' + jobId + '") { type } }', {});
    await sub.done;
    await client.dispose();
    const started = lines.filter((l) => l.msg === 'graphql-ws operation started');
    expect(started.find((l) => l.requestId === 'ws-op-7')).toMatchObject({ operation: 'Follow', operationType: 'subscription', userId: user.id, transport: 'ws' });
    const generated = started.find((l) => l.operation === 'anonymous');
    expect(generated?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor(async () => lines.some((l) => l.msg === 'graphql-ws operation completed' && l.requestId === 'ws-op-7'));
  });
});
