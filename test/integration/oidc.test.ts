import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { User } from '../../src/entities';
import { freePort } from '../../src/redis/local-server';
import { OidcSignIn, SignInRefused } from '../../src/services/oidc-sign-in';
import { startTestApp, type TestApp } from '../support/app';
import { gql, gqlData, signUp } from '../support/graphql';
import { providerIssuer, startTestProvider, TestBrowser, type TestProvider } from '../support/oidc';

// A real OpenID provider (oidc-provider) and a real Atelier API; the "browser" is scripted fetch with cookies.
let app: TestApp;
let provider: TestProvider;
let startUrl: string;

beforeAll(async () => {
  const issuer = await providerIssuer();
  app = await startTestApp({
    ATELIER_ROLE: 'api', ATELIER_OIDC_ISSUER: issuer, ATELIER_OIDC_CLIENT_ID: 'atelier-test',
    ATELIER_OIDC_CLIENT_SECRET: 'atelier-test-secret-0123456789', ATELIER_OIDC_NAME: 'Test ID',
  });
  // Atelier listens on a free port; the provider registers its callback once that is known.
  provider = await startTestProvider(issuer, `${app.url}/auth/oidc/callback`, {
    ada: { email: 'ada@sso.example.com', email_verified: true, name: 'Ada Lovelace' },
    mallory: { email: 'mallory@sso.example.com', email_verified: false, name: 'Mallory' },
  });
  startUrl = `${app.url}/auth/oidc/start`;
}, 60_000);
afterAll(async () => {
  await app?.close();
  await provider?.close();
});

const COMPLETE = 'mutation($code: String!) { completeSignIn(code: $code) { token user { id email displayName role tier } } }';

/** One whole sign-in in a fresh browser: provider pages, callback, landing, code redeemed. */
async function signInAs(login: string, next?: string) {
  const browser = new TestBrowser();
  const landing = await browser.land(await browser.signInAtProvider(next ? `${startUrl}?next=${encodeURIComponent(next)}` : startUrl, login));
  expect(landing.get('error')).toBeNull();
  const data = await gqlData<any>(app.url, COMPLETE, { code: landing.get('code') });
  return { ...data.completeSignIn, next: landing.get('next'), code: landing.get('code')! };
}

const accountsWith = (email: string) => app.db.getRepository(User).countBy({ email });

describe('single sign-on with OpenID Connect', () => {
  it('lists the provider to anonymous callers', async () => {
    const data = await gqlData<any>(app.url, '{ authProviders { id name startUrl } }');
    expect(data.authProviders).toEqual([{ id: 'oidc', name: 'Test ID', startUrl }]);
  });

  it('the start sends the browser to the provider with state, nonce and a PKCE challenge, bound to a cookie', async () => {
    const res = await new TestBrowser().get(startUrl);
    expect(res.status).toBe(303);
    const target = new URL(res.headers.get('location')!);
    expect(target.origin).toBe(provider.issuer);
    for (const param of ['state', 'nonce', 'code_challenge']) expect(target.searchParams.get(param)).toMatch(/^[\w-]{30,}$/);
    expect(target.searchParams.get('code_challenge_method')).toBe('S256');
    expect(target.searchParams.get('redirect_uri')).toBe(`${app.url}/auth/oidc/callback`);
    const cookie = res.headers.getSetCookie().join('\n');
    expect(cookie).toContain(`atelier_oidc_state=${target.searchParams.get('state')}`);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
  });

  it('a first sign-in creates the account (EDITOR, FREE, no password); the next one opens the same account', async () => {
    const first = await signInAs('ada', '/join/abc');
    expect(first.user).toMatchObject({ email: 'ada@sso.example.com', displayName: 'Ada Lovelace', role: 'EDITOR', tier: 'FREE' });
    expect(first.next).toBe('/join/abc');
    const me = await gqlData<any>(app.url, '{ me { id } }', {}, first.token);
    expect(me.me.id).toBe(first.user.id);

    const second = await signInAs('ada');
    expect(second.user.id).toBe(first.user.id);
    expect(second.next).toBe('/');
    expect(await accountsWith('ada@sso.example.com')).toBe(1);
    // No password was ever set, so none signs in.
    const login = await gql(app.url, 'mutation { login(email:"ada@sso.example.com", password:"any password") { token } }');
    expect(login.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('a one-time code works once', async () => {
    const { code } = await signInAs('ada');
    const again = await gql(app.url, COMPLETE, { code });
    expect(again.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(again.errors?.[0].message).toMatch(/invalid, expired or already used/);
    const made = await gql(app.url, COMPLETE, { code: 'made-up' });
    expect(made.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('an existing password account with the same verified email is linked, and keeps its password', async () => {
    const existing = await signUp(app.url, 'linked');
    provider.identities.set('grace', { email: existing.email.toUpperCase(), email_verified: true, name: 'Grace' });
    const signedIn = await signInAs('grace');
    expect(signedIn.user.id).toBe(existing.id);
    expect(await accountsWith(existing.email)).toBe(1);
    const login = await gqlData<any>(app.url, 'mutation($e:String!) { login(email:$e, password:"correct horse battery") { user { id } } }', { e: existing.email });
    expect(login.login.user.id).toBe(existing.id);
  });

  it('single sign-ons are in the audit log: the account created, each success, and each refusal with its reason', async () => {
    provider.identities.set('audrey', { email: 'audrey@sso.example.com', email_verified: true, name: 'Audrey' });
    const { user } = await signInAs('audrey');
    await signInAs('audrey');
    const rows = await app.db.query(
      `SELECT kind, reason, address, user_agent AS "userAgent", details FROM audit_events WHERE actor_id = $1 ORDER BY id`, [user.id]);
    expect(rows.map((r: any) => [r.kind, r.reason])).toEqual([['ACCOUNT_CREATED', null], ['SIGN_IN_SUCCEEDED', null], ['SIGN_IN_SUCCEEDED', null]]);
    expect(rows[0].details).toEqual({ email: 'audrey@sso.example.com', source: 'oidc' });
    expect(rows[1].details).toEqual({ method: 'oidc', email: 'audrey@sso.example.com' });
    expect(rows[1].address).toMatch(/127\.0\.0\.1/);
    expect(rows[1].userAgent).toBeTruthy();

    provider.identities.set('unverified-audrey', { email: 'audrey-unverified@sso.example.com', email_verified: false, name: 'Audrey' });
    const browser = new TestBrowser();
    expect((await browser.land(await browser.signInAtProvider(startUrl, 'unverified-audrey'))).get('error')).toBe('email_unverified');
    const [refused] = await app.db.query(
      `SELECT kind, reason, actor_id AS "actorId", details FROM audit_events WHERE kind = 'SIGN_IN_FAILED' AND details->>'method' = 'oidc' AND details->>'detail' LIKE '%audrey-unverified%'`);
    expect(refused).toMatchObject({ kind: 'SIGN_IN_FAILED', reason: 'EMAIL_UNVERIFIED', actorId: null });
  });

  it('a wrong state, or a callback this browser did not start, is refused', async () => {
    const attacker = new TestBrowser();
    const callback = new URL(await attacker.signInAtProvider(startUrl, 'ada'));
    const forged = new URL(callback);
    forged.searchParams.set('state', 'not-the-state-we-issued');
    expect((await attacker.land(forged.href)).get('error')).toBe('invalid_state');
    // Planted in a victim's browser (login CSRF), which has a sign-in of its own under way…
    const victim = new TestBrowser();
    await victim.get(startUrl);
    expect((await victim.land(callback.href)).get('error')).toBe('invalid_state');
    // …or none at all.
    expect((await new TestBrowser().land(callback.href)).get('error')).toBe('invalid_state');
  });

  it('a replayed code is refused: the whole callback again, or the code under a fresh state', async () => {
    const user = new TestBrowser();
    const callback = new URL(await user.signInAtProvider(startUrl, 'ada'));
    // Someone who captured the callback request, cookie and all, replays it after the user.
    const eavesdropper = user.copy();
    expect((await user.land(callback.href)).get('code')).toBeTruthy();
    expect((await eavesdropper.land(callback.href)).get('error')).toBe('invalid_state');
    expect((await user.land(callback.href)).get('error')).toBe('invalid_state');

    // With only the code, they start their own sign-in and offer it under their new state.
    const attacker = new TestBrowser();
    const start = await attacker.get(startUrl);
    const replay = new URL(callback);
    replay.searchParams.set('state', new URL(start.headers.get('location')!).searchParams.get('state')!);
    expect((await attacker.land(replay.href)).get('error')).toBe('provider_refused');
  });

  it('an unverified email is refused and creates nothing', async () => {
    const browser = new TestBrowser();
    const landing = await browser.land(await browser.signInAtProvider(startUrl, 'mallory'));
    expect(landing.get('error')).toBe('email_unverified');
    expect(landing.get('code')).toBeNull();
    expect(await accountsWith('mallory@sso.example.com')).toBe(0);
  });

  it('cancelling at the provider lands with a reason, not an error page', async () => {
    const browser = new TestBrowser();
    const landing = await browser.land(await browser.signInAtProvider(startUrl, 'ada', { cancel: true }));
    expect(landing.get('error')).toBe('provider_refused');
  });

  it('only same-site paths are kept as the place to return to', async () => {
    for (const next of ['//evil.example.com/x', '/\\evil.example.com', 'https://evil.example.com']) {
      expect((await signInAs('ada', next)).next).toBe('/');
    }
  });

  it('starts count against the per-address sign-in limit shared with password sign-in', async () => {
    const oidc = new OidcSignIn({ issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret, name: 'Test ID' }, app.url, {
      redis: app.redis, prefix: app.env.ATELIER_REDIS_PREFIX, auth: app.services.auth, limiter: app.services.rateLimiter, attemptsPerMinute: 2, audit: app.services.audit,
    });
    const address = `198.51.100.${Math.floor(Math.random() * 250)}`;
    await oidc.begin({ ip: address }, undefined);
    await app.services.auth.login('nobody@example.com', 'wrong password', { ip: address }).catch(() => undefined);
    const error = await oidc.begin({ ip: address }, undefined).catch((e: unknown) => e);
    expect((error as SignInRefused).reason).toBe('rate_limited');
    const audited = await app.db.query(`SELECT kind, reason FROM audit_events WHERE address = $1 AND details->>'method' = 'oidc'`, [address]);
    expect(audited).toEqual([{ kind: 'SIGN_IN_FAILED', reason: 'RATE_LIMITED' }]);
  });

  it('a provider that cannot be reached is reported as unavailable, and tried again next time', async () => {
    const issuer = `http://127.0.0.1:${await freePort()}`;
    const oidc = new OidcSignIn({ issuer, clientId: 'x', clientSecret: 'y', name: 'Down' }, app.url, {
      redis: app.redis, prefix: app.env.ATELIER_REDIS_PREFIX, auth: app.services.auth, limiter: app.services.rateLimiter, attemptsPerMinute: 100, audit: app.services.audit,
    });
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const error = await oidc.begin({ ip: '127.0.0.1' }, undefined).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SignInRefused);
      expect((error as SignInRefused).reason).toBe('unavailable');
    }
  });
});
