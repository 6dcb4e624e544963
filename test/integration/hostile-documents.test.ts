import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gqlData, signUp, wsClient, type GraphQLResponse } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { bodyOf, hostileOperations } from '../support/hostile-documents';
import { DOCUMENT_LIMITS, type DocumentLimit } from '../../src/schema/document-limits';
import { openRawSocket, subscribeFrame } from '../support/raw-socket';

let app: TestApp;
let user: { token: string; id: string };
const table: { document: string; transport: string; ms: number; answer: string }[] = [];

beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
  user = await signUp(app.url, 'hostile');
});
afterAll(async () => {
  // The lead quotes this table in the note.
  console.log(`\n${['document', 'transport', 'ms', 'answer'].join(' | ')}\n${table.map((r) => [r.document, r.transport, r.ms, r.answer].join(' | ')).join('\n')}`);
  await app?.close();
});

/** POSTs a raw body; the answer is the first error's code, or the HTTP status when the transport refused it. */
async function post(body: string, headers: Record<string, string> = {}): Promise<{ status: number; code: string | null; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${app.url}/graphql`, {
    method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}`, ...headers },
  });
  const text = await res.text();
  const ms = Math.round(performance.now() - started);
  let code: string | null = null;
  try {
    code = JSON.parse(text).errors?.[0]?.extensions?.code ?? null;
  } catch {
    // Not JSON: Express refused the body before GraphQL saw it.
  }
  return { status: res.status, code, ms };
}

async function servesNormalQuery(): Promise<void> {
  const data = await gqlData<{ me: { id: string } }>(app.url, '{ me { id } }', {}, user.token);
  expect(data.me.id).toBe(user.id);
}

describe('the hostile corpus', () => {
  it('over HTTP: each document is refused with a code in under a second, and a normal query is served after it', async () => {
    for (const operation of hostileOperations()) {
      const answer = await post(bodyOf(operation));
      table.push({ document: operation.name, transport: 'http', ms: answer.ms, answer: `${answer.status} ${answer.code}` });
      expect(answer.code, operation.name).toMatch(/^[A-Z_]+$/);
      expect(answer.status, operation.name).toBeGreaterThanOrEqual(400);
      expect(answer.ms, operation.name).toBeLessThan(1000);
      await servesNormalQuery();
    }
  });

  it('names the limit each document passed: queryLimit and limit, as docs/request-limits.md has them', async () => {
    const many = (n: number, each: (i: number) => string, sep = ' ') => Array.from({ length: n }, (_, i) => each(i)).join(sep);
    const nested = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
    const generate = 'mutation G($input: GenerationInput!) { createGeneration(input: $input) { id } }';
    const cases: [DocumentLimit, string][] = [
      ['tokens', JSON.stringify({ query: `{ me { ${'id '.repeat(5001)} } }` })],
      ['comments', JSON.stringify({ query: `{ me { id } }\n${'#c\n'.repeat(501)}` })],
      ['length', JSON.stringify({ query: `{ me { id } }${' '.repeat(100_001)}` })],
      ['operations', JSON.stringify({ query: many(11, (i) => `query Q${i} { me { id } }`), operationName: 'Q0' })],
      ['variables', JSON.stringify({ query: `query V(${many(51, (i) => `$v${i}: Int`)}) { me { id } }` })],
      ['depth', JSON.stringify({ query: `{ jobs { edges { node { ${'images { job { '.repeat(5)}id${' } }'.repeat(5)} } } } }` })],
      ['fields', JSON.stringify({ query: `{ me { ${'id '.repeat(401)} } }` })],
      ['aliases', JSON.stringify({ query: `{ ${many(51, (i) => `a${i}: me { id }`)} }` })],
      ['directives', JSON.stringify({ query: `{ me ${'@include(if: true) '.repeat(51)} { id } }` })],
      ['variableDepth', `{"query":${JSON.stringify(generate)},"variables":{"input":${nested(9)}}}`],
      ['variableValues', `{"query":${JSON.stringify(generate)},"variables":{"input":{"prompt":"x","loras":[${Array(10_001).fill('1').join(',')}]}}}`],
    ];
    for (const [name, body] of cases) {
      const res = await fetch(`${app.url}/graphql`, {
        method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
      });
      const extensions = ((await res.json()) as GraphQLResponse).errors?.[0]?.extensions;
      expect({ status: res.status, ...extensions }, name).toMatchObject({ status: 400, code: 'QUERY_TOO_COMPLEX', queryLimit: name, limit: DOCUMENT_LIMITS[name] });
    }
  });

  it('over HTTP: transport abuse is answered 4xx with BAD_REQUEST or PAYLOAD_TOO_LARGE in under a second', async () => {
    const cases: [string, string, string][] = [
      ['10 MB variables', `{"query":"{ me { id } }","variables":{"x":"${'a'.repeat(10 * 1024 * 1024)}"}}`, 'PAYLOAD_TOO_LARGE'],
      ['batched array of 1,000 operations', JSON.stringify(Array.from({ length: 1000 }, () => ({ query: '{ me { id } }' }))), 'BAD_REQUEST'],
      ['malformed JSON', '{"query": "{ me { id } }", "variables": {', 'BAD_REQUEST'],
    ];
    for (const [name, body, code] of cases) {
      const answer = await post(body);
      table.push({ document: name, transport: 'http', ms: answer.ms, answer: `${answer.status} ${answer.code}` });
      expect(answer.code, name).toBe(code);
      expect(answer.status, name).toBeGreaterThanOrEqual(400);
      expect(answer.status, name).toBeLessThan(500);
      expect(answer.ms, name).toBeLessThan(1000);
      await servesNormalQuery();
    }
  });

  it('over graphql-ws: each document is refused with a code in under a second, and the socket still serves', async () => {
    const socket = await openRawSocket(app.url, user.token);
    expect(socket.greeting.type).toBe('connection_ack');
    try {
      for (const operation of hostileOperations()) {
        const started = performance.now();
        const reply = await socket.exchange(subscribeFrame(operation.query, operation.variablesJson));
        const ms = Math.round(performance.now() - started);
        const code = reply.type === 'error' ? reply.payload?.[0]?.extensions?.code : undefined;
        table.push({ document: operation.name, transport: 'graphql-ws', ms, answer: `${reply.type} ${code ?? reply.code ?? ''}`.trim() });
        expect(reply.type, operation.name).toBe('error');
        expect(code, operation.name).toMatch(/^[A-Z_]+$/);
        expect(ms, operation.name).toBeLessThan(1000);
      }
      const me = await socket.exchange(subscribeFrame('{ me { id } }'));
      expect(me).toMatchObject({ type: 'next', payload: { data: { me: { id: user.id } } } });
    } finally {
      socket.close();
    }
    const oversized = await openRawSocket(app.url, user.token);
    const started = performance.now();
    const closed = await oversized.exchange(subscribeFrame('query Big($x: String) { me { id } }', `{"x":"${'a'.repeat(10 * 1024 * 1024)}"}`));
    table.push({ document: '10 MB variables', transport: 'graphql-ws', ms: Math.round(performance.now() - started), answer: `close ${closed.code}` });
    expect(closed).toEqual({ type: 'closed', code: 1009 });
    const client = wsClient(app.url, user.token);
    const result = await new Promise<any>((resolve, reject) => {
      client.subscribe({ query: '{ me { id } }' }, { next: resolve, error: reject, complete: () => undefined });
    });
    expect(result.data.me.id).toBe(user.id);
    await client.dispose();
  });
});
