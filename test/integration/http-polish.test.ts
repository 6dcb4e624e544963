import { createHash } from 'node:crypto';
import http from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordStepCost } from '../../src/services/queue-positions';
import { gql, signUp } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';

let app: TestApp;
beforeAll(async () => {
  // API only: admitted jobs stay open, so the third one meets the FREE tier's concurrency quota.
  app = await startTestApp({ ATELIER_ROLE: 'api' });
});
afterAll(() => app?.close());

/** A GET on /graphql with `params` in the query string. */
async function get(params: Record<string, unknown>, headers: Record<string, string> = {}) {
  const search = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  const res = await fetch(`${app.url}/graphql?${search}`, { headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as { data?: any; errors?: { extensions?: Record<string, any> }[] } };
}

/** The raw bytes of a POST on /graphql, undecoded, with their headers. */
function rawPost(query: string, acceptEncoding: string): Promise<{ headers: http.IncomingHttpHeaders; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${app.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'accept-encoding': acceptEncoding },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ headers: res.headers, bytes: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ query }));
  });
}

const PREFLIGHT = { 'apollo-require-preflight': 'true' };

describe('HTTP details of /graphql', () => {
  it('automatic persisted queries: unknown hash, then hash with query registers it, then the hash alone works (GET too)', async () => {
    const query = '{ __typename }';
    const persistedQuery = { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') };
    const unknown = await fetch(`${app.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ extensions: { persistedQuery } }),
    });
    expect(((await unknown.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const register = await fetch(`${app.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, extensions: { persistedQuery } }),
    });
    expect(await register.json()).toEqual({ data: { __typename: 'Query' } });
    const byHash = await get({ extensions: { persistedQuery } }, PREFLIGHT);
    expect(byHash.status).toBe(200);
    expect(byHash.body).toEqual({ data: { __typename: 'Query' } });
    // A hash that is not the query's: the request's fault, BAD_REQUEST (400), not INTERNAL.
    const mismatch = await fetch(`${app.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ me { id } }', extensions: { persistedQuery: { version: 1, sha256Hash: 'abc' } } }),
    });
    expect(mismatch.status).toBe(400);
    const { errors } = (await mismatch.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] };
    expect(errors).toEqual([{ message: 'provided sha does not match query', extensions: { code: 'BAD_REQUEST' } }]);
  });

  it('GET runs queries, refuses mutations, and keeps CSRF prevention; nothing is cached by default', async () => {
    const user = await signUp(app.url, 'getter');
    const me = await get({ query: '{ me { id } }' }, { ...PREFLIGHT, authorization: `Bearer ${user.token}` });
    expect(me.status).toBe(200);
    expect(me.body.data).toEqual({ me: { id: user.id } });
    expect(me.headers.get('cache-control')).toBe('no-store');
    const mutation = await get({ query: 'mutation { register(email:"get@example.com", password:"long enough pw") { token } }' }, PREFLIGHT);
    expect(mutation.status).toBe(405);
    const login = await gql(app.url, 'mutation { login(email:"get@example.com", password:"long enough pw") { token } }');
    expect(login.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED'); // the GET registered no one
    const simple = await get({ query: '{ __typename }' });
    expect(simple.status).toBe(400);
    expect(JSON.stringify(simple.body)).toContain('apollo-require-preflight');
  });

  it('a request refused as a whole by a rate limit or a quota answers 429 with Retry-After', async () => {
    const limited = await signUp(app.url, 'limited');
    let refused: Awaited<ReturnType<typeof gql>> | undefined;
    // The FREE tier allows 300 requests a minute (src/database/reference-data.ts); the gate refuses the next.
    for (let batch = 0; batch < 8 && !refused; batch += 1) {
      const answers = await Promise.all(Array.from({ length: 50 }, () => gql(app.url, '{ me { id } }', {}, limited.token)));
      refused = answers.find((res) => res.errors?.[0]?.extensions?.code === 'RATE_LIMITED');
    }
    expect(refused?.status).toBe(429);
    expect(Number(refused?.headers.get('retry-after'))).toBe(refused?.errors?.[0]?.extensions?.retryAfterSeconds);

    const busy = await signUp(app.url, 'busy');
    const create = 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id } }';
    for (const prompt of ['one', 'two']) expect((await gql(app.url, create, { input: { prompt } }, busy.token)).status).toBe(200);
    // A free slot's wait is when the user's running job is expected to end (docs/limits.md, "Refusals"):
    // one is marked running, with its model's step time known.
    const [{ id, model_id: modelId }] = await app.db.query('SELECT id, model_id FROM jobs WHERE owner_id = $1 LIMIT 1', [busy.id]);
    await recordStepCost(app.redis, app.config.redisPrefix, { modelId, kind: 'IMAGE', width: 512, height: 512, steps: 20, count: 1, videoFrames: null } as any, 2000);
    await app.db.query(`UPDATE jobs SET status = 'PROCESSING', started_at = now() WHERE id = $1`, [id]);
    const quota = await gql(app.url, create, { input: { prompt: 'three' } }, busy.token);
    expect(quota.errors?.[0]?.extensions?.code).toBe('QUOTA_EXCEEDED');
    expect(quota.status).toBe(429);
    expect(Number(quota.headers.get('retry-after'))).toBe(quota.errors?.[0]?.extensions?.retryAfterSeconds);
  });

  it('compresses large answers with gzip or brotli as asked, and leaves small ones alone', async () => {
    const introspection = '{ __schema { types { name description fields { name description } } } }';
    const gzipped = await rawPost(introspection, 'gzip');
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    const plain = gunzipSync(gzipped.bytes);
    expect(plain.length).toBeGreaterThan(gzipped.bytes.length * 3);
    expect(JSON.parse(plain.toString()).data.__schema.types.length).toBeGreaterThan(20);
    const brotli = await rawPost(introspection, 'br, gzip');
    expect(brotli.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(brotli.bytes).equals(plain)).toBe(true);
    const uncompressed = await rawPost(introspection, 'identity');
    expect(uncompressed.headers['content-encoding']).toBeUndefined();
    const small = await rawPost('{ __typename }', 'gzip, br');
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(small.bytes.toString())).toEqual({ data: { __typename: 'Query' } });
  });

  it('answers /graphql past Express with the headers and refusals every other path gives', async () => {
    const post = (path: string, body: string, headers: Record<string, string> = {}) => fetch(`${app.url}${path}`, {
      method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://elsewhere.example.com', ...headers }, body,
    });
    const volatile = new Set(['date', 'x-request-id', 'content-security-policy', 'etag']);
    const headersOf = (res: Response) => Object.fromEntries([...res.headers].filter(([k]) => !volatile.has(k)));
    // `/graphql/` is still answered through Express's app (with its CSP); the rest must be the same.
    const direct = await post('/graphql', JSON.stringify({ query: '{ __typename }' }));
    const viaExpress = await post('/graphql/', JSON.stringify({ query: '{ __typename }' }));
    expect(await direct.json()).toEqual({ data: { __typename: 'Query' } });
    expect(await viaExpress.json()).toEqual({ data: { __typename: 'Query' } });
    expect(headersOf(direct)).toEqual(headersOf(viaExpress));
    expect(direct.headers.get('x-content-type-options')).toBe('nosniff');
    expect(direct.headers.get('x-frame-options')).toBe('DENY');
    expect(direct.headers.get('content-security-policy')).toBeNull();
    expect(direct.headers.get('x-request-id')).toBeTruthy();
    expect(direct.headers.get('etag')).toBeNull();

    // CORS preflight and the landing page, as Express answered them.
    const preflight = await fetch(`${app.url}/graphql`, { method: 'OPTIONS', headers: { origin: 'http://localhost:4000', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toBe('GET,POST,DELETE,OPTIONS');
    const landing = await fetch(`${app.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(landing.status).toBe(200);
    expect(landing.headers.get('content-type')).toBe('text/html; charset=utf-8');

    // Bodies the parser refuses: a GraphQL-shaped error with a code, never an HTML page.
    const refusals = [
      [await post('/graphql', '{"query": '), 400, 'BAD_REQUEST', 'Request body is not valid JSON'],
      [await post('/graphql', JSON.stringify({ query: 'a'.repeat(1100 * 1024) })), 413, 'PAYLOAD_TOO_LARGE', 'Request body over 1048576 bytes'],
      [await post('/graphql', '{}', { 'content-type': 'application/json; charset=koi8-r' }), 415, 'BAD_REQUEST', 'unsupported charset "KOI8-R"'],
      [await post('/graphql', '{}', { 'content-encoding': 'compress' }), 415, 'BAD_REQUEST', 'unsupported content encoding "compress"'],
      ...await Promise.all(['gzip', 'deflate', 'br'].map(async (encoding) => [
        await post('/graphql', 'not compressed at all', { 'content-encoding': encoding }), 400, 'BAD_REQUEST',
        'Request body could not be decompressed as its Content-Encoding says',
      ] as const)),
    ] as const;
    for (const [res, status, code, message] of refusals) {
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await res.json()).toEqual({ errors: [{ message, extensions: expect.objectContaining({ code }) }] });
    }
  });
});
