import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { openRawSocket, subscribeFrame } from '../support/raw-socket';

/*
 * Every per-address limit counts an IPv6 client by its /64, an IPv4 one by its
 * address (docs/request-limits.md, "Client addresses"): a client that rotates
 * through the addresses of its /64 gets one allowance, not one per address;
 * one that rotates through the /64s of its /56 or /48 gets 4 or 16.
 * Behind one trusted proxy, X-Forwarded-For gives each request the address
 * the case needs, through the real HTTP and graphql-ws servers.
 */
const SIGNED_OUT = 40;
const AUTH_ATTEMPTS = 5;
const ANONYMOUS_SOCKETS = 3;
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({
    ATELIER_ROLE: 'api', ATELIER_TRUST_PROXY: '1', ATELIER_SIGNED_OUT_REQUESTS_PER_MINUTE: String(SIGNED_OUT),
    ATELIER_AUTH_ATTEMPTS_PER_MINUTE: String(AUTH_ATTEMPTS), ATELIER_MAX_ANONYMOUS_CONNECTIONS_PER_ADDRESS: String(ANONYMOUS_SOCKETS),
  });
});
afterAll(() => app?.close());

let networks = 0;
/** A fresh /64 (2001:db8:<n>:7::/64), and a function answering a new random address in it each call. */
function nextNetwork(): () => string {
  networks += 1;
  const group = () => randomInt(0x10000).toString(16);
  return () => `2001:db8:${networks.toString(16)}:7:${group()}:${group()}:${group()}:${group()}`;
}
/** An address of the /64 next to `address`'s (only the fourth group differs). */
const neighbourOf = (address: string): string => address.replace(/^(2001:db8:[0-9a-f]+):7:/, '$1:8:');

const from = (address: string) => ({ 'x-forwarded-for': address, 'user-agent': 'ipv6-test/1' });

async function ask(address: string, query: string, token: string | null = null, variables: Record<string, unknown> = {}) {
  const res = await gql(app.url, query, variables, token, from(address));
  return { status: res.status, code: String(res.errors?.[0]?.extensions?.code ?? 'OK') };
}

const LOGIN = 'mutation($e:String!){ login(email:$e, password:"not the password") { token } }';

describe('per-address limits over IPv6', () => {
  it('signed-out requests: every address of one /64 shares one window; the next /64 has its own; IPv4 is unchanged', async () => {
    const inNetwork = nextNetwork();
    const addresses = Array.from({ length: SIGNED_OUT }, inNetwork);
    expect(new Set(addresses).size).toBe(SIGNED_OUT);
    const served = [];
    for (const address of addresses) served.push((await ask(address, '{ __typename }')).code);
    expect(served).toEqual(Array(SIGNED_OUT).fill('OK'));
    // A new address of the same /64, written in another form, is past the window.
    const another = inNetwork().toUpperCase();
    expect(await ask(another, '{ __typename }')).toEqual({ status: 429, code: 'RATE_LIMITED' });
    expect(await ask(neighbourOf(another.toLowerCase()), '{ __typename }')).toEqual({ status: 200, code: 'OK' });

    // IPv4: one address per window; its IPv4-mapped IPv6 form is the same client, the next address is not.
    for (let i = 0; i < SIGNED_OUT; i += 1) expect((await ask('::ffff:198.51.100.9', '{ __typename }')).code).toBe('OK');
    expect((await ask('198.51.100.9', '{ __typename }')).code).toBe('RATE_LIMITED');
    expect((await ask('198.51.100.10', '{ __typename }')).code).toBe('OK');
  }, 60_000);

  it('sign-in attempts: counted per /64, not per address', async () => {
    const inNetwork = nextNetwork();
    const codes = [];
    for (let i = 0; i <= AUTH_ATTEMPTS; i += 1) codes.push((await ask(inNetwork(), LOGIN, null, { e: `nobody-${networks}-${i}@example.com` })).code);
    expect(codes).toEqual([...Array(AUTH_ATTEMPTS).fill('UNAUTHENTICATED'), 'RATE_LIMITED']);
    // Sign-ups have their own allowance per address, counted the same way (a short password is refused after the count).
    const signUps = [];
    for (let i = 0; i <= AUTH_ATTEMPTS; i += 1) signUps.push((await ask(inNetwork(), `mutation { register(email:"rotating-${i}@example.com", password:"short") { token } }`)).code);
    expect(signUps).toEqual([...Array(AUTH_ATTEMPTS).fill('BAD_USER_INPUT'), 'RATE_LIMITED']);
    expect((await ask(neighbourOf(inNetwork()), LOGIN, null, { e: 'nobody@example.com' })).code).toBe('UNAUTHENTICATED');
  });

  it('signed-out graphql-ws connections: capped per /64', async () => {
    const inNetwork = nextNetwork();
    const open = [];
    for (let i = 0; i < ANONYMOUS_SOCKETS; i += 1) open.push(await openRawSocket(app.url, null, from(inNetwork())));
    try {
      expect(open.map((s) => s.greeting.type)).toEqual(Array(ANONYMOUS_SOCKETS).fill('connection_ack'));
      const refused = await openRawSocket(app.url, null, from(inNetwork()));
      expect(refused.greeting).toEqual({ type: 'closed', code: 4429 });
      const neighbour = await openRawSocket(app.url, null, from(neighbourOf(inNetwork())));
      open.push(neighbour);
      expect(neighbour.greeting.type).toBe('connection_ack');
    } finally {
      for (const socket of open) socket.close();
    }
  });

  it('a holder of a /56 or a /48 rotating through its /64s gets 4 and 16 allowances, not one per /64', async () => {
    networks += 1;
    const n = networks.toString(16);
    let used = 0;
    /** An address in a /64 not used before, in the `slash56`-th /56 of this case's /48. */
    const fresh = (slash56: number) => `2001:db8:${n}:${((slash56 << 8) | (used++ % 256)).toString(16)}::${randomInt(1, 0xffff).toString(16)}`;
    const refusal = async (address: string, query: string) => {
      const res = await gql(app.url, query, {}, null, from(address));
      return { status: res.status, code: res.errors?.[0]?.extensions?.code, limit: res.errors?.[0]?.extensions?.limit, message: res.errors?.[0]?.message };
    };

    // Signed-out requests: 4 × 40 from the /64s of one /56.
    for (let i = 0; i < 4 * SIGNED_OUT; i += 1) expect((await ask(fresh(0), '{ __typename }')).code).toBe('OK');
    expect(await refusal(fresh(0), '{ __typename }')).toMatchObject({
      status: 429, code: 'RATE_LIMITED', limit: 4 * SIGNED_OUT, message: expect.stringContaining(`signed-out requests from 2001:db8:${n}::/56 per minute`),
    });
    // The other /56s of the /48 have room until the /48 has had 16 × 40 (none of them past its own 4 × 40).
    used = 0;
    for (let i = 4 * SIGNED_OUT; i < 16 * SIGNED_OUT; i += 1) expect((await ask(fresh(1 + (i % 5)), '{ __typename }')).code).toBe('OK');
    expect(await refusal(fresh(7), '{ __typename }')).toMatchObject({
      status: 429, code: 'RATE_LIMITED', limit: 16 * SIGNED_OUT, message: expect.stringContaining(`from 2001:db8:${n}::/48 per minute`),
    });
    // The same window on /uploads and on a signed-out graphql-ws operation.
    const upload = await fetch(`${app.url}/uploads`, { method: 'POST', headers: from(fresh(8)), body: 'x' });
    expect([upload.status, ((await upload.json()) as { code: string }).code]).toEqual([429, 'RATE_LIMITED']);
    const socket = await openRawSocket(app.url, null, from(fresh(9)));
    try {
      expect(socket.greeting.type).toBe('connection_ack');
      expect(await socket.exchange(subscribeFrame('{ __typename }'))).toMatchObject({
        type: 'error', payload: [{ extensions: { code: 'RATE_LIMITED', limit: 16 * SIGNED_OUT } }],
      });
    } finally {
      socket.close();
    }
    // The next /48 is another holder.
    expect((await ask(`2001:db8:${(networks + 0x100).toString(16)}:1::1`, '{ __typename }')).code).toBe('OK');

    // Sign-in attempts (signed-out requests too: from another /48): 4 × 5 from one /56.
    const signInsFrom = (networks + 0x200).toString(16);
    const signIns = [];
    for (let i = 0; i <= 4 * AUTH_ATTEMPTS; i += 1) {
      signIns.push((await ask(`2001:db8:${signInsFrom}:${i.toString(16)}::1`, LOGIN, null, { e: `slash56-${n}-${i}@example.com` })).code);
    }
    expect(signIns).toEqual([...Array(4 * AUTH_ATTEMPTS).fill('UNAUTHENTICATED'), 'RATE_LIMITED']);

    // Signed-out graphql-ws connections: 4 × 3 from one /56 (of another /48), on this replica.
    const socketsFrom = (networks + 0x300).toString(16);
    const open = [];
    try {
      for (let i = 0; i < 4 * ANONYMOUS_SOCKETS; i += 1) open.push(await openRawSocket(app.url, null, from(`2001:db8:${socketsFrom}:${i.toString(16)}::1`)));
      expect(open.map((s) => s.greeting.type)).toEqual(Array(4 * ANONYMOUS_SOCKETS).fill('connection_ack'));
      expect((await openRawSocket(app.url, null, from(`2001:db8:${socketsFrom}:ff::1`))).greeting).toEqual({ type: 'closed', code: 4429 });
      const nextSlash56 = await openRawSocket(app.url, null, from(`2001:db8:${socketsFrom}:100::1`));
      open.push(nextSlash56);
      expect(nextSlash56.greeting.type).toBe('connection_ack');
    } finally {
      for (const socket of open) socket.close();
    }
  }, 120_000);

  it('refused credentials from many addresses of one /64 are one audit row with a count, naming the first address', async () => {
    const inNetwork = nextNetwork();
    const addresses = Array.from({ length: 20 }, inNetwork);
    for (const [i, address] of addresses.entries()) expect((await ask(address, '{ me { id } }', `garbage.token.${i}`)).code).toBe('UNAUTHENTICATED');
    await app.services.audit.flush();
    const rows: { address: string; details: { count: number } }[] = await app.db.query(
      `SELECT address, details FROM audit_events WHERE kind = 'AUTH_FAILED' AND address = ANY($1) ORDER BY id`, [addresses],
    );
    // Two rows when the flood crossed a minute.
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows.length).toBeLessThanOrEqual(2);
    expect(rows[0].address).toBe(addresses[0]);
    expect(rows.reduce((sum, r) => sum + r.details.count, 0)).toBe(addresses.length);
  });

  it('an API key is new to a /64 once, and the audit row keeps the full address', async () => {
    const home = '198.51.100.50';
    const register = await gql<any>(app.url, 'mutation { register(email:"ipv6-key@example.com", password:"correct horse battery") { token user { id } } }', {}, null, from(home));
    const { token, user } = register.data.register;
    const key = (await gql<any>(app.url, 'mutation { createApiKey(name:"laptop") { secret } }', {}, token, from(home))).data.createApiKey.secret as string;
    const inNetwork = nextNetwork();
    const roaming = [inNetwork(), inNetwork(), inNetwork()];
    const elsewhere = neighbourOf(inNetwork());
    for (const address of [...roaming, elsewhere, roaming[1]]) expect((await ask(address, '{ me { id } }', key)).code).toBe('OK');
    const rows: { address: string }[] = await app.db.query(
      `SELECT address FROM audit_events WHERE kind = 'API_KEY_NEW_ADDRESS' AND actor_id = $1 ORDER BY id`, [user.id],
    );
    expect(rows.map((r) => r.address)).toEqual([roaming[0], elsewhere]);
  });
});
