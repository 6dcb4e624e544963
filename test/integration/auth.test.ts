import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import jwt from 'jsonwebtoken';
import { gql, gqlData, signUp } from '../support/graphql';
import { TEST_JWT_SECRET, startTestApp, type TestApp } from '../support/app';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
});
afterAll(() => app?.close());

describe('auth', () => {
  it('registers with a normalised email, refuses duplicates, logs in', async () => {
    const res = await gqlData<any>(app.url, 'mutation { register(email:"  Mixed.Case@Example.COM ", password:"long enough pw", displayName:"Ada") { token user { email role tier displayName } } }');
    expect(res.register.user).toEqual({ email: 'mixed.case@example.com', role: 'EDITOR', tier: 'FREE', displayName: 'Ada' });
    const dup = await gql(app.url, 'mutation { register(email:"mixed.case@example.com", password:"another pw 123") { token } }');
    expect(dup.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'email' });
    const login = await gqlData<any>(app.url, 'mutation { login(email:"MIXED.case@example.com", password:"long enough pw") { token user { email } } }');
    expect(login.login.user.email).toBe('mixed.case@example.com');
    const bad = await gql(app.url, 'mutation { login(email:"mixed.case@example.com", password:"wrong password") { token } }');
    expect(bad.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('validates email and password with the field', async () => {
    const weak = await gql(app.url, 'mutation { register(email:"a@b.io", password:"short") { token } }');
    expect(weak.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'password' });
    const email = await gql(app.url, 'mutation { register(email:"not-an-email", password:"long enough pw") { token } }');
    expect(email.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
  });

  it('me is null for anonymous callers and a bad token is UNAUTHENTICATED (401)', async () => {
    expect((await gqlData<any>(app.url, '{ me { id } }')).me).toBeNull();
    const res = await gql(app.url, '{ me { id } }', {}, 'not.a.jwt');
    expect(res.status).toBe(401);
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('a validly signed token whose sub is not a UUID, or that has no exp, is UNAUTHENTICATED (401)', async () => {
    const user = await signUp(app.url);
    const tokens = {
      notUuid: jwt.sign({ sub: 'not-a-uuid' }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 600 }),
      numericSub: jwt.sign({ sub: 42 } as object, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 600 }),
      noExpiry: jwt.sign({ sub: user.id }, TEST_JWT_SECRET, { algorithm: 'HS256' }),
    };
    for (const [name, token] of Object.entries(tokens)) {
      const res = await gql(app.url, '{ me { id } }', {}, token);
      expect(res.status, name).toBe(401);
      expect(res.errors?.[0].extensions?.code, name).toBe('UNAUTHENTICATED');
    }
    const valid = jwt.sign({ sub: user.id }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 600 });
    expect((await gqlData<any>(app.url, '{ me { id } }', {}, valid)).me.id).toBe(user.id);
  });

  it('API keys: created once with a secret, usable, listed without secret, refused after revoke', async () => {
    const user = await signUp(app.url);
    const created = await gqlData<any>(app.url, 'mutation { createApiKey(name:"ci script") { secret apiKey { id name prefix revokedAt } } }', {}, user.token);
    const { secret, apiKey } = created.createApiKey;
    expect(secret).toMatch(/^atl_[A-Za-z0-9_-]{40,}$/);
    expect(secret.startsWith(apiKey.prefix)).toBe(true);
    const me = await gqlData<any>(app.url, '{ me { id } apiKeys { id name lastUsedAt } }', {}, secret);
    expect(me.me.id).toBe(user.id);
    expect(me.apiKeys[0].lastUsedAt).not.toBeNull();
    const stored = await app.db.query('SELECT secret_hash FROM api_keys WHERE id = $1', [apiKey.id]);
    expect(stored[0].secret_hash).not.toContain(secret.slice(4));
    await gqlData(app.url, 'mutation($id:ID!) { revokeApiKey(id:$id) { revokedAt } }', { id: apiKey.id }, user.token);
    const refused = await gql(app.url, '{ me { id } }', {}, secret);
    expect(refused.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('another user cannot revoke my key', async () => {
    const a = await signUp(app.url);
    const b = await signUp(app.url);
    const key = await gqlData<any>(app.url, 'mutation { createApiKey(name:"k") { apiKey { id } } }', {}, a.token);
    const res = await gql(app.url, 'mutation($id:ID!) { revokeApiKey(id:$id) { id } }', { id: key.createApiKey.apiKey.id }, b.token);
    expect(res.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('revoking a key by an id that is not a UUID is bad input on `id`, not an internal error', async () => {
    const user = await signUp(app.url);
    const res = await gql(app.url, 'mutation($id:ID!) { revokeApiKey(id:$id) { id } }', { id: 'notauuid' }, user.token);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  });

  it('signed-in fields refuse anonymous callers with UNAUTHENTICATED', async () => {
    const res = await gql(app.url, 'mutation { createSession(name:"x") { id } }');
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('health and readiness', async () => {
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${app.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { database: 'ok', redis: 'ok' } });
  });
});

describe('the configured admin', () => {
  it('is created as ADMIN on ENTERPRISE, and a restart with a new password resets it, revoking its tokens', async () => {
    await app.services.auth.ensureAdmin(' Boss@Example.com ', 'first admin pw');
    const first = await gqlData<any>(app.url, 'mutation { login(email:"boss@example.com", password:"first admin pw") { token user { role tier } } }');
    expect(first.login.user).toEqual({ role: 'ADMIN', tier: 'ENTERPRISE' });
    // The same password again (a plain restart) keeps its tokens.
    await app.services.auth.ensureAdmin('boss@example.com', 'first admin pw');
    expect((await gqlData<any>(app.url, '{ me { role } }', {}, first.login.token)).me.role).toBe('ADMIN');
    await app.services.auth.ensureAdmin('boss@example.com', 'second admin pw');
    expect((await gql(app.url, '{ me { role } }', {}, first.login.token)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const old = await gql(app.url, 'mutation { login(email:"boss@example.com", password:"first admin pw") { token } }');
    expect(old.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect((await gqlData<any>(app.url, 'mutation { login(email:"boss@example.com", password:"second admin pw") { user { role } } }')).login.user.role).toBe('ADMIN');
  });
});
