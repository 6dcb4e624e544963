import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, gqlData, signUp, wsClient } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';

let app: TestApp;
let user: { token: string; id: string; email: string };
beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
  user = await signUp(app.url, 'control');
});
afterAll(() => app?.close());

const NUL = 'before\u0000after';

/** Rows a refused call must not have written. */
async function rowCounts(): Promise<number[]> {
  const tables = ['albums', 'sessions', 'api_keys', 'jobs', 'users'];
  return Promise.all(tables.map(async (t) => Number((await app.db.query(`SELECT count(*) AS n FROM ${t}`))[0].n)));
}

const CASES: { name: string; query: string; variables: Record<string, unknown>; field: string; signedIn: boolean }[] = [
  { name: 'createAlbum.name', query: 'mutation($n: String!) { createAlbum(name: $n) { id } }', variables: { n: NUL }, field: 'name', signedIn: true },
  {
    name: 'createAlbum.description', query: 'mutation($d: String) { createAlbum(name: "ok", description: $d) { id } }',
    variables: { d: NUL }, field: 'description', signedIn: true,
  },
  {
    name: 'createGeneration.input.prompt', query: 'mutation($i: GenerationInput!) { createGeneration(input: $i) { id } }',
    variables: { i: { prompt: NUL } }, field: 'prompt', signedIn: true,
  },
  {
    name: 'createGeneration.input.negativePrompt', query: 'mutation($i: GenerationInput!) { createGeneration(input: $i) { id } }',
    variables: { i: { prompt: 'fine', negativePrompt: 'x\u0001' } }, field: 'negativePrompt', signedIn: true,
  },
  {
    name: 'createGeneration.idempotencyKey', query: 'mutation($k: String) { createGeneration(input: { prompt: "fine" }, idempotencyKey: $k) { id } }',
    variables: { k: NUL }, field: 'idempotencyKey', signedIn: true,
  },
  { name: 'createSession.name', query: 'mutation($n: String!) { createSession(name: $n) { id } }', variables: { n: NUL }, field: 'name', signedIn: true },
  { name: 'createApiKey.name', query: 'mutation($n: String!) { createApiKey(name: $n) { secret } }', variables: { n: 'key\u001b[31m' }, field: 'name', signedIn: true },
  {
    name: 'register.displayName', query: 'mutation($d: String) { register(email: "nul-display@example.com", password: "long enough pw", displayName: $d) { token } }',
    variables: { d: NUL }, field: 'displayName', signedIn: false,
  },
  { name: 'login.email', query: 'mutation($e: String!) { login(email: $e, password: "whatever pw") { token } }', variables: { e: `a${NUL}@b.io` }, field: 'email', signedIn: false },
  { name: 'a literal in the document', query: 'mutation { createAlbum(name: "x\\u0000y") { id } }', variables: {}, field: 'name', signedIn: true },
];

describe('control characters in string arguments', () => {
  it('are refused with BAD_USER_INPUT and the field over HTTP, before anything is written', async () => {
    const before = await rowCounts();
    for (const c of CASES) {
      const res = await gql(app.url, c.query, c.variables, c.signedIn ? user.token : null);
      expect(res.errors?.[0].extensions, c.name).toMatchObject({ code: 'BAD_USER_INPUT', field: c.field });
      expect(res.status, c.name).toBe(400);
    }
    expect(await rowCounts()).toEqual(before);
  });

  it('are refused over graphql-ws the same way', async () => {
    const client = wsClient(app.url, user.token);
    try {
      for (const c of CASES.filter((x) => x.signedIn)) {
        const errors = await new Promise<any[]>((resolve) => {
          client.subscribe({ query: c.query, variables: c.variables }, {
            next: (value) => resolve((value.errors as any[]) ?? []),
            error: (error) => resolve(error as any[]),
            complete: () => undefined,
          });
        });
        expect(errors[0]?.extensions, c.name).toMatchObject({ code: 'BAD_USER_INPUT', field: c.field });
        expect(errors[0]?.message, c.name).not.toMatch(/byte sequence|UTF8/);
      }
    } finally {
      await client.dispose();
    }
  });

  it('tabs, line feeds and carriage returns are kept', async () => {
    const album = await gqlData<any>(app.url, 'mutation($d: String) { createAlbum(name: "multi-line", description: $d) { description } }', {
      d: 'first line\r\nsecond\tcolumn',
    }, user.token);
    expect(album.createAlbum.description).toBe('first line\r\nsecond\tcolumn');
  });
});
