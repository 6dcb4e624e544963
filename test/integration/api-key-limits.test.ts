import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ACTIVE_API_KEYS } from '../../src/services/auth';
import { gql, gqlData, signUp } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
});
afterAll(() => app?.close());

const CREATE_KEY = 'mutation($n: String!) { createApiKey(name: $n) { apiKey { id } } }';

describe('API key limits', () => {
  it(`an account holds at most ${MAX_ACTIVE_API_KEYS} active keys, exactly under concurrency; revoking one makes room`, async () => {
    expect(MAX_ACTIVE_API_KEYS).toBe(50); // the figure docs/limits.md and the README give
    const user = await signUp(app.url, 'many-keys');
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => gql<any>(app.url, CREATE_KEY, { n: `key ${i}` }, user.token)));
    const created = answers.filter((a) => a.data?.createApiKey);
    const refused = answers.filter((a) => a.errors);
    expect(created).toHaveLength(50);
    expect(refused).toHaveLength(10);
    for (const answer of refused) {
      expect(answer.errors?.[0].extensions).toEqual({ code: 'QUOTA_EXCEEDED', field: 'name', limit: 50, retryAfterSeconds: null });
      // Waiting does not lift it (revoking does): no 429, so clients do not retry.
      expect(answer.status).toBe(200);
    }
    expect(refused[0].errors?.[0].message).toMatch(/50 API keys.*revoke one/);
    const [{ count }] = await app.db.query('SELECT count(*)::int AS count FROM api_keys WHERE user_id = $1', [user.id]);
    expect(count).toBe(50);

    await gqlData(app.url, 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: created[0].data.createApiKey.apiKey.id }, user.token);
    expect((await gql(app.url, CREATE_KEY, { n: 'after a revoke' }, user.token)).errors).toBeUndefined();
    expect((await gql(app.url, CREATE_KEY, { n: 'one too many' }, user.token)).errors?.[0].extensions?.code).toBe('QUOTA_EXCEEDED');
    // The revoked key stays listed beside the 50 active ones; it does not count.
    expect((await gqlData<any>(app.url, '{ apiKeys { id } }', {}, user.token)).apiKeys).toHaveLength(51);
  });

  it('setApiKeyWebhook on a revoked key says it is revoked before looking at the URL', async () => {
    const user = await signUp(app.url, 'revoked-hook');
    const id = (await gqlData<any>(app.url, CREATE_KEY, { n: 'hook' }, user.token)).createApiKey.apiKey.id;
    await gqlData(app.url, 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id }, user.token);
    // .invalid never resolves (RFC 6761): checking the URL first would answer with that.
    const res = await gql(app.url, 'mutation($id: ID!, $url: String!) { setApiKeyWebhook(apiKeyId: $id, url: $url) { secret } }',
      { id, url: 'https://no-such-host.invalid/hook' }, user.token);
    expect(res.errors?.[0]).toMatchObject({ message: 'This API key is revoked', extensions: { code: 'BAD_USER_INPUT', field: 'apiKeyId' } });
  });
});
