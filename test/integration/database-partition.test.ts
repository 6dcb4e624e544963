import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isServiceOutage } from '../../src/kernel/errors';
import { createScratchDatabase, startTestApp, type TestApp } from '../support/app';
import { gql, signUp } from '../support/graphql';
import { startLatencyProxy, type TcpProxy } from '../support/latency-proxy';

/*
 * The service reaches PostgreSQL through a TCP proxy that can partition:
 * every connection open then stops forwarding for good and stays open, as a
 * network partition, a proxy or a failover that keeps sockets open does
 * (test/support/latency-proxy.ts). With the answer bound at 2 s
 * (ATELIER_DATABASE_TIMEOUT_SECONDS; docs/operations.md, "A PostgreSQL that
 * stops answering"), requests that need the database are answered
 * SERVICE_UNAVAILABLE within a few seconds, more of them at once than the
 * pool has connections, and once the partition heals the service answers
 * again at once. Before, they hung until TCP gave up (about 15 minutes), and a
 * pool whose connections all hung stalled every later request too.
 */
const BOUND_S = 2;
let proxy: TcpProxy;
let app: TestApp;
let token: string;
let drop: () => Promise<void>;

beforeAll(async () => {
  const serverUrl = inject('databaseUrl');
  if (!serverUrl) throw new Error('No PostgreSQL server: set DATABASE_URL or install PostgreSQL (apt-get install postgresql)');
  const scratch = await createScratchDatabase(serverUrl);
  drop = scratch.drop;
  proxy = await startLatencyProxy(scratch.url, 0);
  app = await startTestApp({ DATABASE_URL: proxy.url, ATELIER_DATABASE_TIMEOUT_SECONDS: String(BOUND_S) });
  ({ token } = await signUp(app.url));
}, 60_000);

afterAll(async () => {
  proxy?.heal();
  await app?.close();
  await proxy?.close();
  await drop?.();
});

const JOBS = '{ jobs(first: 5) { edges { node { id } } } }';

describe('a PostgreSQL that stops answering', () => {
  it('requests get SERVICE_UNAVAILABLE within the bound, more of them than the pool holds, and the service answers again once the partition heals', async () => {
    expect((await gql(app.url, JOBS, {}, token)).status).toBe(200);
    proxy.partition();
    const started = Date.now();
    // 12 at once: two more than the pool's 10 connections, so two wait for a connection that never frees.
    const answers = await Promise.all(Array.from({ length: 12 }, async () => {
      const answer = await gql(app.url, JOBS, {}, token);
      return { status: answer.status, code: answer.errors?.[0]?.extensions?.code, took: Date.now() - started };
    }));
    for (const answer of answers) {
      expect(answer).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
      // The bound, plus the time to open connections (made within the same bound).
      expect(answer.took).toBeLessThan(3 * BOUND_S * 1000);
    }
    console.log(`answered 503 after ${Math.min(...answers.map((a) => a.took))}-${Math.max(...answers.map((a) => a.took))} ms`);

    proxy.heal();
    const healed = Date.now();
    const again = await gql(app.url, JOBS, {}, token);
    expect(again.status).toBe(200);
    expect(again.errors).toBeUndefined();
    expect(Date.now() - healed).toBeLessThan(1000);
  }, 60_000);

  it('a statement that runs past the bound fails as an outage and its connection is replaced', async () => {
    const slow = app.db.query(`SELECT pg_sleep(${BOUND_S + 1})`);
    const error = await slow.then(() => null, (e: unknown) => e);
    expect(error).not.toBeNull();
    expect(isServiceOutage(error)).toBe(true);
    expect(String((error as Error).message)).toMatch(/PostgreSQL did not answer within 2 s|Connection terminated/);
    // Every connection of the pool still works.
    const ones = await Promise.all(Array.from({ length: 10 }, () => app.db.query('SELECT 1 AS one')));
    expect(ones.map((rows) => rows[0].one)).toEqual(Array(10).fill(1));
  }, 30_000);
});
