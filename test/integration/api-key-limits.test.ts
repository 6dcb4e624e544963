import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ACTIVE_API_KEYS, MAX_LISTED_REVOKED_API_KEYS } from '../../src/services/auth';
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

  it(`apiKeys lists every active key and the ${MAX_LISTED_REVOKED_API_KEYS} revoked last, newest first, however many were revoked`, async () => {
    expect(MAX_LISTED_REVOKED_API_KEYS).toBe(50); // the figure docs/limits.md gives
    const user = await signUp(app.url, 'revoked-many');
    // 60 revoked keys made straight in the table (the API would take 120 calls), revoked one a minute apart, oldest first.
    await app.db.query(
      `INSERT INTO api_keys (id, user_id, name, prefix, secret_hash, created_at, revoked_at)
       SELECT gen_random_uuid(), $1, 'old ' || i, 'atl_old', 'hash-revoked-many-' || i, now() - interval '1 day' + i * interval '1 minute', now() - interval '2 hours' + i * interval '1 minute'
       FROM generate_series(1, 60) AS i`, [user.id]);
    const active = [];
    for (const n of ['first active', 'second active']) active.push((await gqlData<any>(app.url, CREATE_KEY, { n }, user.token)).createApiKey.apiKey.id);
    const listed = (await gqlData<any>(app.url, '{ apiKeys { id name revokedAt createdAt } }', {}, user.token)).apiKeys;
    expect(listed).toHaveLength(2 + 50);
    expect(listed.slice(0, 2).map((k: any) => k.id)).toEqual([...active].reverse());
    const revokedNames = listed.slice(2).map((k: any) => k.name);
    // The 50 revoked last are old 11 … old 60, newest first; old 1 … old 10 are no longer listed.
    expect(revokedNames).toEqual(Array.from({ length: 50 }, (_, i) => `old ${60 - i}`));
    expect(listed.slice(2).every((k: any) => k.revokedAt)).toBe(true);
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
