import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { gql, gqlData, signUp, waitFor } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { countStatements } from '../support/library';

let app: TestApp;
let root: string;

beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api', ATELIER_ADMIN_EMAIL: 'root@example.com', ATELIER_ADMIN_PASSWORD: 'admin password 1' });
  root = (await gqlData<any>(app.url, 'mutation { login(email:"root@example.com", password:"admin password 1"){ token } }')).login.token;
});
afterAll(() => app?.close());

/**
 * One graphql-transport-ws connection, spoken by hand so that nothing
 * reconnects behind the test's back: what happens to *this* socket is what is
 * checked.
 */
async function openSocket(token: string) {
  const ws = new WebSocket(`${app.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  const messages: any[] = [];
  let closedWith: { code: number; reason: string } | null = null;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => {
    closedWith = { code, reason: reason.toString() };
    resolve(closedWith);
  }));
  ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
  await new Promise((resolve) => ws.once('open', resolve));
  ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  await waitFor(async () => messages.some((m) => m.type === 'connection_ack') || closedWith);
  let ids = 0;
  return {
    closed,
    messages,
    isClosed: () => closedWith !== null,
    /** Sends an operation; resolves with its first `next` or `error` message, or null when the socket closes first. */
    async send(query: string, variables: Record<string, unknown> = {}): Promise<any> {
      const id = String((ids += 1));
      ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
      for (let waited = 0; waited < 5000; waited += 20) {
        const answer = messages.find((m) => m.id === id && (m.type === 'next' || m.type === 'error'));
        if (answer) return answer;
        if (closedWith) return null;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no answer to ${query}`);
    },
    close: () => ws.close(),
  };
}

const createKey = async (token: string) => (await gqlData<any>(app.url, 'mutation { createApiKey(name:"ci") { secret apiKey { id } } }', {}, token)).createApiKey;

describe('revocation reaches open WebSockets', () => {
  it('revoking an API key closes its open sockets with 4401 at once: no more `me`, no new subscription, no live one', async () => {
    const user = await signUp(app.url);
    const key = await createKey(user.token);
    const { createGeneration: job } = await gqlData<any>(app.url, 'mutation { createGeneration(input:{ prompt:"kept", width:64, height:64, steps:1 }) { id } }', {}, user.token);
    const querying = await openSocket(key.secret);
    const subscribing = await openSocket(key.secret);
    const watching = await openSocket(key.secret);
    expect((await querying.send('{ me { id } }')).payload.data.me.id).toBe(user.id);
    expect((await watching.send('subscription($id:ID!){ jobUpdated(jobId:$id) { type } }', { id: job.id })).payload.data.jobUpdated.type).toBe('QUEUED');

    await gqlData(app.url, 'mutation($id:ID!){ revokeApiKey(id:$id) { revokedAt } }', { id: key.apiKey.id }, user.token);
    expect(await querying.send('{ me { id } }')).toBeNull();
    expect(await subscribing.send('subscription($id:ID!){ jobUpdated(jobId:$id) { type } }', { id: job.id })).toBeNull();
    for (const socket of [querying, subscribing, watching]) {
      expect(await socket.closed).toEqual({ code: 4401, reason: 'Credentials revoked' });
    }
    // And a new connection with the key is refused (graphql-ws: 4403 Forbidden).
    const again = await openSocket(key.secret);
    expect((await again.closed).code).toBe(4403);
  });

  it('a password change revokes every sign-in token issued before: its open sockets close with 4401, API keys and new sign-ins work', async () => {
    const user = await signUp(app.url);
    const key = await createKey(user.token);
    const LOGIN = 'mutation($e:String!, $p:String!){ login(email:$e, password:$p){ token } }';
    const other = (await gqlData<any>(app.url, LOGIN, { e: user.email, p: 'correct horse battery' })).login.token;
    const socket = await openSocket(other);
    expect((await socket.send('{ me { id } }')).payload.data.me.id).toBe(user.id);

    const change = 'mutation($c:String!, $n:String!){ changePassword(currentPassword:$c, newPassword:$n) }';
    // An API key changes no credentials: neither the password nor another key (a leaked key cannot take the account over).
    const keySocket = await openSocket(key.secret);
    for (const [query, variables] of [[change, { c: 'correct horse battery', n: 'a brand new password' }], ['mutation { createApiKey(name:"more") { secret } }', {}]] as const) {
      const refused = await gql(app.url, query, variables, key.secret);
      expect(refused.errors?.[0]).toMatchObject({ message: 'Sign in with your password or single sign-on to do this; API keys cannot', extensions: { code: 'FORBIDDEN' } });
      // The same over graphql-ws.
      const overWs = await keySocket.send(query, variables);
      expect(overWs.payload.errors[0]).toMatchObject({ message: 'Sign in with your password or single sign-on to do this; API keys cannot', extensions: { code: 'FORBIDDEN' } });
    }
    keySocket.close();
    expect((await gqlData<any>(app.url, '{ apiKeys { id } }', {}, user.token)).apiKeys).toHaveLength(1);
    expect((await gqlData<any>(app.url, change, { c: 'correct horse battery', n: 'a brand new password' }, user.token)).changePassword).toBe(true);
    expect(await socket.closed).toEqual({ code: 4401, reason: 'Credentials revoked' });
    for (const token of [user.token, other]) {
      const refused = await gql(app.url, '{ me { id } }', {}, token);
      expect(refused.status).toBe(401);
      expect(refused.errors?.[0]).toMatchObject({ message: 'Token revoked (the password changed): sign in again', extensions: { code: 'UNAUTHENTICATED' } });
    }
    // The REST routes and a new socket refuse it too.
    const upload = await fetch(`${app.url}/uploads`, { method: 'POST', headers: { authorization: `Bearer ${user.token}` }, body: 'x' });
    expect(upload.status).toBe(401);
    expect(await upload.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((await (await openSocket(user.token)).closed).code).toBe(4403);
    const [audited] = await app.db.query(`SELECT reason FROM audit_events WHERE kind = 'AUTH_FAILED' AND actor_id = $1 ORDER BY id DESC LIMIT 1`, [user.id]);
    expect(audited.reason).toBe('TOKEN_REVOKED');
    // The old password signs in no more; the new one does, and its token works. The API key is untouched.
    expect((await gql(app.url, LOGIN, { e: user.email, p: 'correct horse battery' })).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const fresh = (await gqlData<any>(app.url, LOGIN, { e: user.email, p: 'a brand new password' })).login.token;
    for (let i = 0; i < 3; i += 1) expect((await gqlData<any>(app.url, '{ me { id } }', {}, fresh)).me.id).toBe(user.id);
    expect((await gqlData<any>(app.url, '{ me { id } }', {}, key.secret)).me.id).toBe(user.id);
  });

  it('the next operation checks the stamp: a key revoked without an announcement is refused all the same', async () => {
    const user = await signUp(app.url);
    const key = await createKey(user.token);
    const socket = await openSocket(key.secret);
    expect((await socket.send('{ me { id } }')).payload.data.me.id).toBe(user.id);
    // As a script or another tool would: the row changes and the stamp moves, nothing is published.
    await app.db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [key.apiKey.id]);
    await app.redis.incr(`${app.config.redisPrefix}:principal:${user.id}`);
    expect(await socket.send('{ me { id } }')).toBeNull();
    expect((await socket.closed).code).toBe(4401);
  });

  it('an admin demoted to EDITOR on an open socket can no longer list users; a tier change applies at once', async () => {
    const other = await signUp(app.url);
    await gqlData(app.url, 'mutation($u:ID!){ setUserRole(userId:$u, role: ADMIN) { role } }', { u: other.id }, root);
    const socket = await openSocket(other.token);
    expect((await socket.send('{ users(first: 5) { id } }')).payload.data.users.length).toBeGreaterThan(0);

    await gqlData(app.url, 'mutation($u:ID!){ setUserRole(userId:$u, role: EDITOR) { role } }', { u: other.id }, root);
    const refused = await socket.send('{ users(first: 5) { id } }');
    expect(refused.payload.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(refused.payload.data).toBeNull();
    expect((await socket.send('{ me { role tier } }')).payload.data.me).toEqual({ role: 'EDITOR', tier: 'FREE' });

    await gqlData(app.url, 'mutation($u:ID!){ setUserTier(userId:$u, tier: PRO) { tier } }', { u: other.id }, root);
    expect((await socket.send('{ usage { tier } }')).payload.data.usage.tier).toBe('PRO');
    expect(socket.isClosed()).toBe(false);
    socket.close();
  });

  it('a deleted user\'s socket is closed with 4401', async () => {
    const gone = await signUp(app.url);
    const socket = await openSocket(gone.token);
    expect((await socket.send('{ me { id } }')).payload.data.me.id).toBe(gone.id);
    await app.db.query('DELETE FROM users WHERE id = $1', [gone.id]);
    await app.services.principalStamps.bump(gone.id);
    expect((await socket.closed).code).toBe(4401);
    expect((await gql(app.url, '{ me { id } }', {}, gone.token)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('the signed-in user is kept in memory between requests', () => {
  it('is read once for many requests and again at once after a change, and a deleted account is refused at once', async () => {
    const user = await signUp(app.url);
    const reads: string[] = [];
    const query = app.db.query.bind(app.db);
    const spy = vi.spyOn(app.db, 'query').mockImplementation((sql: string, ...rest: any[]) => {
      if (/FROM "users" WHERE "id" = \$1/.test(sql) && rest[0]?.[0] === user.id) reads.push(sql);
      return query(sql, ...rest);
    });
    try {
      for (let i = 0; i < 5; i += 1) expect((await gqlData<any>(app.url, '{ me { tier } }', {}, user.token)).me.tier).toBe('FREE');
      expect(reads).toHaveLength(1);

      await gqlData(app.url, 'mutation($u:ID!){ setUserTier(userId:$u, tier: PRO) { tier } }', { u: user.id }, root);
      expect((await gqlData<any>(app.url, '{ me { tier } }', {}, user.token)).me.tier).toBe('PRO');
      expect(reads).toHaveLength(2);

      await gqlData(app.url, 'mutation($e:String!){ deleteAccount(confirmEmail:$e) }', { e: (await gqlData<any>(app.url, '{ me { email } }', {}, user.token)).me.email }, user.token);
      expect((await gql(app.url, '{ me { id } }', {}, user.token)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    } finally {
      spy.mockRestore();
    }
  });

  it('an API key is read once for many requests, refused at once when revoked, and its last use written once a minute', async () => {
    const user = await signUp(app.url);
    const key = await createKey(user.token);
    const addresses: string[] = [];
    const sadd = app.redis.sadd.bind(app.redis);
    const redisSpy = vi.spyOn(app.redis, 'sadd').mockImplementation(((key: string, ...members: string[]) => {
      if (key.includes(':apikey:addresses:')) addresses.push(key);
      return sadd(key, ...members);
    }) as any);
    try {
      const { statements } = await countStatements(app.db, async () => {
        for (let i = 0; i < 5; i += 1) expect((await gqlData<any>(app.url, '{ me { id } }', {}, key.secret)).me.id).toBe(user.id);
      });
      // One read of the key, one write of its last use, one look at the address: not one of each per request.
      expect(statements.filter((sql) => /^SELECT .* FROM "api_keys"/s.test(sql))).toHaveLength(1);
      expect(statements.filter((sql) => /^UPDATE "api_keys" SET "last_used_at"/.test(sql))).toHaveLength(1);
      expect(addresses).toHaveLength(1);
      const [{ last_used_at: lastUsed }] = await app.db.query('SELECT last_used_at FROM api_keys WHERE id = $1', [key.apiKey.id]);
      expect(lastUsed).not.toBeNull();

      // The owner's tier changes: the key's requests see it at once (the user behind a key is the cached user).
      await gqlData(app.url, 'mutation($u:ID!){ setUserTier(userId:$u, tier: PRO) { tier } }', { u: user.id }, root);
      expect((await gqlData<any>(app.url, '{ me { tier } }', {}, key.secret)).me.tier).toBe('PRO');

      await gqlData(app.url, 'mutation($id:ID!){ revokeApiKey(id:$id) { revokedAt } }', { id: key.apiKey.id }, user.token);
      const refused = await gql(app.url, '{ me { id } }', {}, key.secret);
      expect(refused.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      expect(refused.data?.me ?? null).toBeNull();
      // A secret that never was a key is refused too, and not kept: each try reads again.
      const unknown = await countStatements(app.db, async () => {
        for (let i = 0; i < 2; i += 1) expect((await gql(app.url, '{ me { id } }', {}, `${key.secret.slice(0, -4)}zzzz`)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      });
      expect(unknown.statements.filter((sql) => /^SELECT .* FROM "api_keys"/s.test(sql))).toHaveLength(2);
    } finally {
      redisSpy.mockRestore();
    }
  });
});
