import { readFileSync } from 'node:fs';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { collect, gql, gqlData } from '../support/graphql';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../support/app';
import { AuditEventKind } from '../../src/entities';

// Behind one trusted proxy, X-Forwarded-For sets the client address, so each case can come from its own.
let app: TestApp;
let admin: string;
let addressCounter = 0;
const nextAddress = () => `198.51.100.${(addressCounter += 1)}`;
const from = (address: string, userAgent = 'audit-test/1') => ({ 'x-forwarded-for': address, 'user-agent': userAgent });

const EVENTS = `query($filter: AuditEventFilter, $first: Int, $after: String) {
  auditEvents(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id at kind actorId targetUserId address userAgent reason details actor { email } targetUser { email } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** Like gqlData, from a given address. */
async function call(query: string, variables: Record<string, unknown>, token: string, address: string): Promise<any> {
  const res = await gql<any>(app.url, query, variables, token, from(address));
  if (!res.data) throw new Error(JSON.stringify(res.errors));
  return res.data;
}

async function events(filter: Record<string, unknown>, first = 100): Promise<any[]> {
  const data = await gqlData<any>(app.url, EVENTS, { filter, first }, admin);
  return data.auditEvents.edges.map((e: any) => e.node);
}

let counter = 0;
async function register(address = nextAddress()): Promise<{ token: string; id: string; email: string }> {
  counter += 1;
  const email = `audit-${process.pid}-${counter}@example.com`;
  const res = await gql<any>(app.url, 'mutation($e:String!){ register(email:$e, password:"correct horse battery") { token user { id } } }', { e: email }, null, from(address));
  return { token: res.data.register.token, id: res.data.register.user.id, email };
}

beforeAll(async () => {
  app = await startTestApp({
    ATELIER_ROLE: 'api', ATELIER_TRUST_PROXY: '1', ATELIER_AUTH_ATTEMPTS_PER_MINUTE: '20',
    ATELIER_ADMIN_EMAIL: 'audit-admin@example.com', ATELIER_ADMIN_PASSWORD: 'an admin password',
  });
  const res = await gql<any>(app.url, 'mutation { login(email: "audit-admin@example.com", password: "an admin password") { token } }', {}, null, from('192.0.2.1'));
  admin = res.data.login.token;
});
afterAll(() => app?.close());

describe('security audit log', () => {
  it('records sign-in success and failure with address, user agent and reason, and writes them to the audit stream', async () => {
    const user = await register();
    const address = nextAddress();
    const wrong = await gql(app.url, 'mutation($e:String!){ login(email:$e, password:"not the password") { token } }', { e: user.email }, null, from(address, 'curl/8.1'));
    expect(wrong.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    await gql(app.url, 'mutation { login(email:"nobody-here@example.com", password:"whatever pw") { token } }', {}, null, from(address, 'curl/8.1'));
    await gqlData(app.url, 'mutation($e:String!){ login(email:$e, password:"correct horse battery") { token } }', { e: user.email });

    const mine = await events({ userId: user.id, kinds: ['SIGN_IN_FAILED', 'SIGN_IN_SUCCEEDED'] });
    expect(mine.map((e) => [e.kind, e.reason])).toEqual([['SIGN_IN_SUCCEEDED', null], ['SIGN_IN_FAILED', 'WRONG_PASSWORD']]);
    expect(mine[1]).toMatchObject({ actorId: user.id, address, userAgent: 'curl/8.1', details: { email: user.email } });
    const unknown = await events({ kinds: ['SIGN_IN_FAILED'], address });
    expect(unknown[0]).toMatchObject({ reason: 'UNKNOWN_EMAIL', actorId: null, details: { email: 'nobody-here@example.com' } });

    const lines = readFileSync(path.join(app.env.ATELIER_DATA_DIR, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const line = lines.find((l) => l.audit?.reason === 'WRONG_PASSWORD' && l.audit.actorId === user.id);
    expect(line).toMatchObject({ stream: 'audit', level: 40, audit: { kind: 'SIGN_IN_FAILED', address, userAgent: 'curl/8.1' } });
    expect(JSON.stringify(lines)).not.toContain('not the password');

    // Client-supplied text is cut and freed of control characters before it is stored.
    const odd = nextAddress();
    await gql(app.url, 'mutation($e:String!){ login(email:$e, password:"whatever pw") { token } }', { e: `${'a'.repeat(600)}@x.io` }, null, from(odd, `${'b'.repeat(300)}\t${'b'.repeat(300)}`));
    const [cut] = await events({ kinds: ['SIGN_IN_FAILED'], address: odd });
    expect(cut.userAgent).toBe('b'.repeat(512));
    expect(cut.details.email).toHaveLength(500);
  });

  it('records throttled sign-ins as failures (RATE_LIMITED)', async () => {
    const address = nextAddress();
    for (let i = 0; i < 21; i += 1) {
      await gql(app.url, 'mutation { login(email:"hammered@example.com", password:"guess guess") { token } }', {}, null, from(address));
    }
    // Failed sign-ins are coalesced per minute like refused credentials: a row per reason with its count
    // (two when the attempts crossed a minute), written when the minute ends (docs/security.md, "Audit log").
    await app.services.audit.flush();
    const rows = await events({ kinds: ['SIGN_IN_FAILED'], address });
    expect(rows.length).toBeLessThanOrEqual(4);
    expect(rows[0].reason).toBe('RATE_LIMITED');
    const counted = rows.reduce<Record<string, number>>((sum, e) => ({ ...sum, [e.reason]: (sum[e.reason] ?? 0) + e.details.count }), {});
    expect(counted).toEqual({ UNKNOWN_EMAIL: 20, RATE_LIMITED: 1 });
  });

  it('records refused credentials: bad and expired tokens, revoked API keys, over HTTP and WebSocket', async () => {
    const user = await register();
    const address = nextAddress();
    await gql(app.url, '{ me { id } }', {}, 'not.a.jwt', from(address));
    const expired = jwt.sign({ sub: user.id, exp: Math.floor(Date.now() / 1000) - 60 }, TEST_JWT_SECRET, { algorithm: 'HS256' });
    expect((await gql(app.url, '{ me { id } }', {}, expired, from(address))).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const key = (await gqlData<any>(app.url, 'mutation { createApiKey(name:"old") { secret apiKey { id } } }', {}, user.token)).createApiKey;
    await gqlData(app.url, 'mutation($id:ID!){ revokeApiKey(id:$id) { id } }', { id: key.apiKey.id }, user.token);
    await gql(app.url, '{ me { id } }', {}, key.secret, from(address));
    const refused = await events({ kinds: ['AUTH_FAILED'], address });
    expect(refused.map((e) => [e.reason, e.actorId])).toEqual([['REVOKED_API_KEY', user.id], ['TOKEN_EXPIRED', user.id], ['INVALID_TOKEN', null]]);
    // A refused credential's row counts its repeats within the minute (docs/security.md, "Audit log").
    expect(refused[0].details).toEqual({ apiKeyId: key.apiKey.id, count: 1 });

    // The WebSocket door: its upgrade request carries the address and user agent.
    const wsAddress = nextAddress();
    const client = createClient({
      url: `${app.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: class extends WebSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols, { headers: from(wsAddress, 'ws-test/1') });
        }
      },
      connectionParams: { authorization: 'Bearer not.a.jwt' },
      retryAttempts: 0,
      lazy: true,
    });
    await collect(client, '{ me { id } }', {}).done;
    await client.dispose();
    const ws = await events({ kinds: ['AUTH_FAILED'], address: wsAddress });
    expect(ws.map((e) => [e.reason, e.userAgent])).toEqual([['INVALID_TOKEN', 'ws-test/1']]);
  });

  it('refuses a token past its expiry on every door once it was accepted and kept (HTTP, WebSocket, /uploads)', async () => {
    const user = await register();
    const address = nextAddress();
    // Accepted first, so its verdict is kept (services/verified-tokens.ts); then it expires.
    const token = jwt.sign({ sub: user.id, exp: Math.floor(Date.now() / 1000) + 2 }, TEST_JWT_SECRET, { algorithm: 'HS256' });
    const me = () => gql<any>(app.url, '{ me { id } }', {}, token, from(address));
    const upload = () => fetch(`${app.url}/uploads`, { method: 'POST', headers: { authorization: `Bearer ${token}`, ...from(address) }, body: 'x' });
    const overSocket = async () => {
      const client = createClient({
        url: `${app.url.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: class extends WebSocket {
          constructor(url: string, protocols?: string | string[]) {
            super(url, protocols, { headers: from(address) });
          }
        },
        connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: true,
      });
      const query = collect(client, '{ me { id } }', {});
      await query.done;
      await client.dispose();
      return query;
    };
    expect((await me()).data.me.id).toBe(user.id);
    expect((await overSocket()).items).toEqual([{ me: { id: user.id } }]);
    expect((await upload()).status).toBe(201);

    await new Promise((resolve) => setTimeout(resolve, (Math.floor(Date.now() / 1000) + 3) * 1000 - Date.now()));
    expect((await me()).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect((await overSocket()).items).toEqual([]);
    const refusedUpload = await upload();
    expect(refusedUpload.status).toBe(401);
    expect(((await refusedUpload.json()) as { code: string }).code).toBe('UNAUTHENTICATED');
    // One address, one reason, one account: the three doors' refusals are one row with a count (two rows
    // when they straddled a minute), written when the minute ends.
    await app.services.audit.flush();
    const refused = await events({ kinds: ['AUTH_FAILED'], address });
    expect(refused.every((e) => e.reason === 'TOKEN_EXPIRED' && e.actorId === user.id)).toBe(true);
    expect(refused.length).toBeLessThanOrEqual(2);
    expect(refused.reduce((sum, e) => sum + e.details.count, 0)).toBe(3);
  });

  it('records API keys created, revoked and used from a new address', async () => {
    const home = nextAddress();
    const user = await register(home);
    const created = (await call('mutation { createApiKey(name:"render farm") { secret apiKey { id prefix } } }', {}, user.token, home)).createApiKey;
    const [a, b] = [nextAddress(), nextAddress()];
    for (const address of [a, a, b, a]) await gql(app.url, '{ me { id } }', {}, created.secret, from(address, 'farm/2'));
    const revoke = 'mutation($id:ID!){ revokeApiKey(id:$id) { id } }';
    await call(revoke, { id: created.apiKey.id }, user.token, home);
    await call(revoke, { id: created.apiKey.id }, user.token, home);
    const list = await events({ userId: user.id, kinds: ['API_KEY_CREATED', 'API_KEY_NEW_ADDRESS', 'API_KEY_REVOKED'] });
    expect(list.map((e) => [e.kind, e.address])).toEqual([
      ['API_KEY_REVOKED', home], ['API_KEY_NEW_ADDRESS', b], ['API_KEY_NEW_ADDRESS', a], ['API_KEY_CREATED', home],
    ]);
    expect(list[3].details).toEqual({ apiKeyId: created.apiKey.id, name: 'render farm', prefix: created.apiKey.prefix });
    expect(list[1]).toMatchObject({ userAgent: 'farm/2', details: { apiKeyId: created.apiKey.id } });
  });

  it('records role and tier changes (who, before, after) and every admin action, refused ones included', async () => {
    const user = await register();
    await gqlData(app.url, 'mutation($u:ID!){ setUserTier(userId:$u, tier: PRO) { id } }', { u: user.id }, admin);
    await gqlData(app.url, 'mutation($u:ID!){ setUserRole(userId:$u, role: VIEWER) { id } }', { u: user.id }, admin);
    const changes = await events({ userId: user.id, kinds: ['ROLE_CHANGED', 'TIER_CHANGED'] });
    expect(changes.map((e) => [e.kind, e.details, e.actor.email, e.targetUser.email])).toEqual([
      ['ROLE_CHANGED', { before: 'EDITOR', after: 'VIEWER' }, 'audit-admin@example.com', user.email],
      ['TIER_CHANGED', { before: 'FREE', after: 'PRO' }, 'audit-admin@example.com', user.email],
    ]);

    const bad = await gql(app.url, 'mutation { updateTierPolicy(tier: FREE, input: { maxSteps: 0 }) { tier } }', {}, admin);
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    await gqlData(app.url, 'mutation { updateTierPolicy(tier: FREE, input: { maxSteps: 40 }) { tier } }', {}, admin);
    const actions = await events({ kinds: ['ADMIN_ACTION'] }, 3);
    expect(actions.map((e) => [e.details.action, e.reason])).toEqual([['updateTierPolicy', null], ['updateTierPolicy', 'BAD_USER_INPUT'], ['setUserRole', null]]);
    expect(actions[0].details.arguments).toEqual({ tier: 'FREE', input: { maxSteps: 40 } });
    // A non-admin's attempt never reaches the mutation: the shield refuses it.
    expect((await gql(app.url, 'mutation { updateTierPolicy(tier: FREE, input: { maxSteps: 1 }) { tier } }', {}, user.token)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('records session membership changes: joined, removed by the owner, left', async () => {
    const [owner, b, c] = [await register(), await register(), await register()];
    const { createSession } = await gqlData<any>(app.url, 'mutation { createSession(name:"audit room") { id } }', {}, owner.token);
    const invite = async () => (await gqlData<any>(app.url, 'mutation($s:ID!){ createSessionInvite(sessionId:$s, role: COLLABORATOR) { token invite { id } } }', { s: createSession.id }, owner.token)).createSessionInvite;
    const first = await invite();
    await gqlData(app.url, 'mutation($t:String!){ joinSession(token:$t) { id } }', { t: first.token }, b.token);
    await gqlData(app.url, 'mutation($t:String!){ joinSession(token:$t) { id } }', { t: (await invite()).token }, c.token);
    await gqlData(app.url, 'mutation($s:ID!, $u:ID!){ removeSessionMember(sessionId:$s, userId:$u) { id } }', { s: createSession.id, u: b.id }, owner.token);
    await gqlData(app.url, 'mutation($s:ID!){ leaveSession(sessionId:$s) }', { s: createSession.id }, c.token);

    const kinds = ['SESSION_MEMBER_JOINED', 'SESSION_MEMBER_REMOVED', 'SESSION_MEMBER_LEFT'];
    const ofB = await events({ userId: b.id, kinds });
    expect(ofB.map((e) => [e.kind, e.actorId, e.targetUserId])).toEqual([['SESSION_MEMBER_REMOVED', owner.id, b.id], ['SESSION_MEMBER_JOINED', b.id, null]]);
    expect(ofB[1].details).toEqual({ sessionId: createSession.id, inviteId: first.invite.id, role: 'COLLABORATOR' });
    expect(ofB[0].details).toEqual({ sessionId: createSession.id, role: 'COLLABORATOR' });
    expect((await events({ userId: c.id, kinds })).map((e) => e.kind)).toEqual(['SESSION_MEMBER_LEFT', 'SESSION_MEMBER_JOINED']);
  });

  it('records password changes, failed attempts included, and the new password works', async () => {
    const user = await register();
    const change = 'mutation($c:String!, $n:String!){ changePassword(currentPassword:$c, newPassword:$n) }';
    const wrong = await gql(app.url, change, { c: 'not my password', n: 'a brand new password' }, user.token);
    expect(wrong.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'currentPassword' });
    const weak = await gql(app.url, change, { c: 'correct horse battery', n: 'short' }, user.token);
    expect(weak.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'newPassword' });
    expect((await gqlData<any>(app.url, change, { c: 'correct horse battery', n: 'a brand new password' }, user.token)).changePassword).toBe(true);
    const list = await events({ userId: user.id, kinds: ['PASSWORD_CHANGED', 'PASSWORD_CHANGE_FAILED'] });
    expect(list.map((e) => [e.kind, e.reason])).toEqual([['PASSWORD_CHANGED', null], ['PASSWORD_CHANGE_FAILED', 'WRONG_PASSWORD']]);
    await gqlData(app.url, 'mutation($e:String!){ login(email:$e, password:"a brand new password") { token } }', { e: user.email });
  });

  it('auditEvents is for admins: pages newest first, filters, and refuses bad cursors', async () => {
    const user = await register();
    expect((await gql(app.url, EVENTS, {}, user.token)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await gql(app.url, EVENTS, {})).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const first = await gqlData<any>(app.url, EVENTS, { first: 2 }, admin);
    expect(first.auditEvents.edges).toHaveLength(2);
    expect(first.auditEvents.pageInfo.hasNextPage).toBe(true);
    const next = await gqlData<any>(app.url, EVENTS, { first: 2, after: first.auditEvents.pageInfo.endCursor }, admin);
    const ids = [...first.auditEvents.edges, ...next.auditEvents.edges].map((e: any) => Number(e.node.id));
    expect(ids).toEqual([...ids].sort((x, y) => y - x));
    expect(new Set(ids).size).toBe(4);
    const bad = await gql(app.url, EVENTS, { after: 'bm9wZQ' }, admin);
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    const tooMany = await gql(app.url, EVENTS, { first: 101 }, admin);
    expect(tooMany.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    // An IPv4 client of a dual-stack listener is recorded IPv4-mapped: the address as typed finds it, and so does that form.
    await app.services.audit.record({ kind: AuditEventKind.SIGN_IN_FAILED, origin: { ip: '::ffff:203.0.113.77' }, reason: 'WRONG_PASSWORD' });
    for (const address of ['203.0.113.77', '::ffff:203.0.113.77']) {
      expect((await events({ address })).map((e) => e.address)).toEqual(['::ffff:203.0.113.77']);
    }
  });

  it('is append-only, and events past the retention period are deleted by housekeeping', async () => {
    await expect(app.db.query(`UPDATE audit_events SET reason = 'tampered'`)).rejects.toThrow(/append-only/);
    // The one change allowed: a coalesced event's count rises, and nothing else of its row changes with it.
    const [{ id }] = await app.db.query(`SELECT id FROM audit_events WHERE details ? 'count' ORDER BY id LIMIT 1`);
    const count = `jsonb_set(details, '{count}', to_jsonb((details->>'count')::int`;
    await app.db.query(`UPDATE audit_events SET details = ${count} + 1)) WHERE id = $1`, [id]);
    await expect(app.db.query(`UPDATE audit_events SET details = ${count} - 1)) WHERE id = $1`, [id])).rejects.toThrow(/append-only/);
    await expect(app.db.query(`UPDATE audit_events SET details = ${count} + 1)), reason = 'tampered' WHERE id = $1`, [id])).rejects.toThrow(/append-only/);
    await expect(app.db.query(`UPDATE audit_events SET details = ${count} + 1)) || '{"apiKeyId":"x"}' WHERE id = $1`, [id])).rejects.toThrow(/append-only/);
    await expect(app.db.query(`UPDATE audit_events SET details = details || '{"count":5}' WHERE NOT details ? 'count'`)).rejects.toThrow(/append-only/);
    await app.db.query(`INSERT INTO audit_events (at, kind, reason, details) VALUES (now() - interval '400 days', 'AUTH_FAILED', 'OLD_ONE', '{}')`);
    const before = Number((await app.db.query(`SELECT count(*) AS n FROM audit_events`))[0].n);
    expect(await app.services.audit.deleteExpired()).toBe(1);
    expect(Number((await app.db.query(`SELECT count(*) AS n FROM audit_events`))[0].n)).toBe(before - 1);
  });
});
