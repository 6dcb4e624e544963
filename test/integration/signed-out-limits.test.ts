import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';

/*
 * Requests without a valid credential (signed out, or a refused token or
 * key) are counted per client address, as the signed-in ones are per user
 * (docs/request-limits.md, "Signed-out requests"), and a flood of refused
 * credentials or of failed sign-ins costs the audit log one row a minute,
 * with a count (docs/security.md, "Audit log"). Behind one trusted proxy,
 * X-Forwarded-For gives each case an address of its own.
 */
const LIMIT = 300;
let app: TestApp;
let addressCounter = 0;
const nextAddress = () => `203.0.113.${(addressCounter += 1)}`;
const from = (address: string) => ({ 'x-forwarded-for': address, 'user-agent': 'signed-out-test/1' });

beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api', ATELIER_TRUST_PROXY: '1', ATELIER_SIGNED_OUT_REQUESTS_PER_MINUTE: String(LIMIT) });
});
afterAll(() => app?.close());

/** Sends `total` requests, `parallel` at a time; answers each one's status, error code (OK when none) and Retry-After. */
async function flood(total: number, parallel: number, send: (i: number) => Promise<{ status: number; code: string; retryAfter: string | null; extensions?: Record<string, any> }>) {
  const answers: Awaited<ReturnType<typeof send>>[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < total) answers.push(await send((next += 1)));
  }));
  return answers;
}

async function ask(address: string, query: string, token: string | null = null, variables: Record<string, unknown> = {}) {
  const res = await gql(app.url, query, variables, token, from(address));
  return { status: res.status, code: String(res.errors?.[0]?.extensions?.code ?? 'OK'), retryAfter: res.headers.get('retry-after'), extensions: res.errors?.[0]?.extensions };
}

const tally = (codes: string[]) => codes.reduce<Record<string, number>>((counts, code) => ({ ...counts, [code]: (counts[code] ?? 0) + 1 }), {});

async function auditRows(address: string): Promise<{ reason: string; details: { count?: number } }[]> {
  await app.services.audit.flush();
  return app.db.query(`SELECT reason, details FROM audit_events WHERE kind = 'AUTH_FAILED' AND address = $1 ORDER BY id`, [address]);
}

/** Waits, when needed, for a clock minute with `ms` left in it: events coalesced per minute then fall in one. */
async function minuteWithRoomFor(ms: number): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < ms) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

const LOGIN = 'mutation($e:String!, $p:String!){ login(email:$e, password:$p) { token } }';

describe('signed-out requests and refused credentials, per address', () => {
  it('3,000 garbage tokens from one address: RATE_LIMITED past the window, and a row or two in the audit log', async () => {
    const address = nextAddress();
    const answers = await flood(3000, 50, (i) => ask(address, '{ me { id } }', `garbage.token.${i}`));
    expect(tally(answers.map((a) => a.code))).toEqual({ UNAUTHENTICATED: LIMIT, RATE_LIMITED: 3000 - LIMIT });
    const limited = answers.find((a) => a.code === 'RATE_LIMITED')!;
    expect(limited.status).toBe(429);
    expect(limited.extensions).toMatchObject({ limit: LIMIT });
    expect(limited.extensions?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(Number(limited.retryAfter)).toBe(limited.extensions?.retryAfterSeconds);

    // Every refusal is counted, each minute's first is a row of its own (two when the flood crossed a minute).
    const rows = await auditRows(address);
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows.length).toBeLessThanOrEqual(2);
    expect(rows.every((r) => r.reason === 'INVALID_TOKEN')).toBe(true);
    expect(rows.reduce((sum, r) => sum + Number(r.details.count), 0)).toBe(3000);
    // The stream likewise: the first refusal at once, the count when the minute ends.
    const lines = readFileSync(path.join(app.env.ATELIER_DATA_DIR, 'audit.log'), 'utf8').trim().split('\n')
      .map((l) => JSON.parse(l)).filter((l) => l.audit?.address === address);
    expect(lines.length).toBeLessThanOrEqual(2 * rows.length);
    expect(lines.map((l) => l.audit.details.count).reduce((a, b) => Math.max(a, b), 0)).toBeGreaterThan(1);
  }, 60_000);

  it('garbage API keys and signed-out requests share the address\'s window; another address has its own', async () => {
    const address = nextAddress();
    const keys = await flood(LIMIT, 20, (i) => ask(address, '{ me { id } }', `atl_garbage${i}`));
    expect(tally(keys.map((a) => a.code))).toEqual({ UNAUTHENTICATED: LIMIT });
    // The window is full: a signed-out request (the anonymous `{ __typename }` of the audit) is refused too.
    const anonymous = await ask(address, '{ __typename }');
    expect(anonymous).toMatchObject({ status: 429, code: 'RATE_LIMITED', extensions: { limit: LIMIT } });
    expect((await ask(nextAddress(), '{ __typename }')).code).toBe('OK');
    const rows = await auditRows(address);
    expect(rows.length).toBeLessThanOrEqual(2);
    expect(rows.reduce((sum, r) => sum + Number(r.details.count), 0)).toBe(LIMIT);
  }, 60_000);

  it('50 failed sign-ins from one address in a minute are one audit row with the count; another address or account has its own', async () => {
    const [address, elsewhere] = [nextAddress(), nextAddress()];
    const accounts = [];
    for (const name of ['guessed', 'also-guessed']) {
      const email = `${name}-${process.pid}@example.com`;
      const res = await gql<any>(app.url, 'mutation($e:String!){ register(email:$e, password:"correct horse battery") { user { id } } }', { e: email }, null, from(nextAddress()));
      accounts.push({ email, id: res.data.register.user.id as string });
    }
    const [guessed, alsoGuessed] = accounts;
    const login = (at: string, e: string) => ask(at, LOGIN, null, { e, p: 'not the password' });
    await minuteWithRoomFor(20_000);
    const answers = await flood(50, 10, () => login(address, guessed.email));
    expect(tally(answers.map((a) => a.code))).toEqual({ UNAUTHENTICATED: 50 });
    for (let i = 0; i < 3; i += 1) expect((await login(elsewhere, guessed.email)).code).toBe('UNAUTHENTICATED');
    for (let i = 0; i < 2; i += 1) expect((await login(address, alsoGuessed.email)).code).toBe('UNAUTHENTICATED');
    // Emails no account has: one row however many are tried, naming the first.
    for (let i = 0; i < 4; i += 1) expect((await login(address, `nobody-${i}@example.com`)).code).toBe('UNAUTHENTICATED');

    await app.services.audit.flush();
    const rows = await app.db.query(
      `SELECT address, reason, actor_id AS "actorId", details FROM audit_events WHERE kind = 'SIGN_IN_FAILED' AND address = ANY($1) ORDER BY id`, [[address, elsewhere]]);
    expect(rows).toEqual([
      { address, reason: 'WRONG_PASSWORD', actorId: guessed.id, details: { email: guessed.email, count: 50 } },
      { address: elsewhere, reason: 'WRONG_PASSWORD', actorId: guessed.id, details: { email: guessed.email, count: 3 } },
      { address, reason: 'WRONG_PASSWORD', actorId: alsoGuessed.id, details: { email: alsoGuessed.email, count: 2 } },
      { address, reason: 'UNKNOWN_EMAIL', actorId: null, details: { email: 'nobody-0@example.com', count: 4 } },
    ]);
  }, 60_000);

  it('a sign-in that succeeds ends the failed ones of its account and address first: their counts come before it, later failures count apart', async () => {
    const address = nextAddress();
    const email = `comes-in-${process.pid}@example.com`;
    await gql(app.url, 'mutation($e:String!){ register(email:$e, password:"correct horse battery") { token } }', { e: email }, null, from(nextAddress()));
    const login = (e: string, p = 'not the password') => ask(address, LOGIN, null, { e, p });
    await minuteWithRoomFor(20_000);
    for (let i = 0; i < 3; i += 1) expect((await login(email)).code).toBe('UNAUTHENTICATED');
    for (let i = 0; i < 2; i += 1) expect((await login(`nobody-else-${i}@example.com`)).code).toBe('UNAUTHENTICATED');
    expect((await login(email, 'correct horse battery')).code).toBe('OK');
    for (let i = 0; i < 2; i += 1) expect((await login(email)).code).toBe('UNAUTHENTICATED');

    await app.services.audit.flush();
    const rows = await app.db.query(`SELECT kind, reason, details FROM audit_events WHERE kind IN ('SIGN_IN_FAILED', 'SIGN_IN_SUCCEEDED') AND address = $1 ORDER BY id`, [address]);
    expect(rows).toEqual([
      { kind: 'SIGN_IN_FAILED', reason: 'WRONG_PASSWORD', details: { email, count: 3 } },
      { kind: 'SIGN_IN_FAILED', reason: 'UNKNOWN_EMAIL', details: { email: 'nobody-else-0@example.com', count: 2 } },
      { kind: 'SIGN_IN_SUCCEEDED', reason: null, details: {} },
      { kind: 'SIGN_IN_FAILED', reason: 'WRONG_PASSWORD', details: { email, count: 2 } },
    ]);
    // The stream in the same order: the totals before the success, as a reader following it sees them.
    const lines = readFileSync(path.join(app.env.ATELIER_DATA_DIR, 'audit.log'), 'utf8').trim().split('\n')
      .map((l) => JSON.parse(l)).filter((l) => l.audit?.address === address);
    expect(lines.map((l) => [l.audit.kind, l.audit.reason, l.audit.details.count ?? null])).toEqual([
      ['SIGN_IN_FAILED', 'WRONG_PASSWORD', 1], ['SIGN_IN_FAILED', 'UNKNOWN_EMAIL', 1],
      ['SIGN_IN_FAILED', 'WRONG_PASSWORD', 3], ['SIGN_IN_FAILED', 'UNKNOWN_EMAIL', 2],
      ['SIGN_IN_SUCCEEDED', null, null],
      ['SIGN_IN_FAILED', 'WRONG_PASSWORD', 1], ['SIGN_IN_FAILED', 'WRONG_PASSWORD', 2],
    ]);
  }, 60_000);

  it('anonymous requests alone are limited per address, on /uploads too', async () => {
    const address = nextAddress();
    const answers = await flood(LIMIT + 50, 20, () => ask(address, '{ __typename }'));
    expect(tally(answers.map((a) => a.code))).toEqual({ OK: LIMIT, RATE_LIMITED: 50 });
    const upload = await fetch(`${app.url}/uploads`, { method: 'POST', headers: from(address), body: 'x' });
    expect(upload.status).toBe(429);
    expect(((await upload.json()) as { code: string }).code).toBe('RATE_LIMITED');
    expect(Number(upload.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('a signed-out page load of the web client is served, and is counted against its address', async () => {
    const address = nextAddress();
    // What the client sends before sign-in: the providers, a failed and a good sign-in, a sign-up, and a reload.
    const page = [
      '{ authProviders { id name startUrl } }',
      'mutation { login(email:"page-load@example.com", password:"not yet registered") { token } }',
      'mutation { register(email:"page-load@example.com", password:"correct horse battery") { token } }',
      '{ authProviders { id name startUrl } }',
      '{ __typename }',
    ];
    const codes = [];
    for (let load = 0; load < 4; load += 1) for (const query of page) codes.push((await ask(address, query)).code);
    expect(codes.filter((c) => c === 'RATE_LIMITED')).toEqual([]);
    // The rest of the window, and then the address is refused.
    const rest = await flood(LIMIT - codes.length, 20, () => ask(address, '{ __typename }'));
    expect(rest.every((a) => a.code === 'OK')).toBe(true);
    expect((await ask(address, '{ __typename }')).code).toBe('RATE_LIMITED');
  }, 60_000);

  it('signed-in users are unaffected: a valid token or key from a limited address is served', async () => {
    const address = nextAddress();
    const register = await gql<any>(app.url, 'mutation { register(email:"neighbour@example.com", password:"correct horse battery") { token } }', {}, null, from(nextAddress()));
    const token: string = register.data.register.token;
    const key = (await gql<any>(app.url, 'mutation { createApiKey(name:"script") { secret } }', {}, token, from(nextAddress()))).data.createApiKey.secret as string;
    await flood(LIMIT + 10, 20, (i) => ask(address, '{ me { id } }', `garbage.token.${i}`));
    expect((await ask(address, '{ __typename }')).code).toBe('RATE_LIMITED');
    for (let i = 0; i < 20; i += 1) {
      expect((await ask(address, '{ me { email } }', token)).code).toBe('OK');
      expect((await ask(address, '{ me { email } }', key)).code).toBe('OK');
    }
  }, 60_000);
});
