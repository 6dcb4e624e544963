import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, REDIS_COMMAND_TIMEOUT_MS, REDIS_SOCKET_TIMEOUT_MS, REDIS_WORKER_SOCKET_TIMEOUT_MS } from '../../src/redis/connection';
import { LOCAL_REDIS_PID_FILE, startLocalRedis, type LocalRedis } from '../../src/redis/local-server';
import { gql, gqlData, signUp, waitFor } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { startLatencyProxy, type TcpProxy } from '../support/latency-proxy';

/*
 * A redis-server of this file's own, frozen with SIGSTOP: reachable (the
 * kernel still accepts and acknowledges) but answering nothing, as in a
 * partition or a stalled failover (docs/operations.md, "Outages of
 * PostgreSQL or Redis"). Requests must get the outage answer within seconds
 * (the command timeout, twice at most), not wait for the whole freeze; after
 * SIGCONT everything works again, and a job that was rendering through the
 * freeze completes. The app reaches it through a TCP proxy, which the second
 * test partitions: the connections open then never answer again and never
 * close, and Atelier's must be replaced by new ones (the socket timeout). The
 * third kills a Redis of its own with a command waiting and starts it again.
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'atelier-redis-hang-'));
let redis: LocalRedis;
let proxy: TcpProxy;
let pid: number;
let frozen = false;
let app: TestApp;

const freeze = () => {
  process.kill(pid, 'SIGSTOP');
  frozen = true;
};
const thaw = () => {
  if (frozen) process.kill(pid, 'SIGCONT');
  frozen = false;
};

beforeAll(async () => {
  redis = await startLocalRedis(dir, { persist: false });
  pid = Number(readFileSync(path.join(dir, LOCAL_REDIS_PID_FILE), 'utf8'));
  proxy = await startLatencyProxy(redis.url, 0);
  app = await startTestApp({ REDIS_URL: proxy.url });
});
afterAll(async () => {
  thaw();
  await app?.close();
  await proxy?.close();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const CREATE = 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id } }';
const JOB = { prompt: 'through a frozen redis', width: 512, height: 512, steps: 40 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a Redis that stops answering (SIGSTOP)', () => {
  it('answers 503 SERVICE_UNAVAILABLE within seconds, not after the freeze, and everything works again once it answers', async () => {
    const user = await signUp(app.url);
    await app.db.query(`UPDATE users SET tier = 'ENTERPRISE' WHERE id = $1`, [user.id]);
    const running = (await gqlData<any>(app.url, CREATE, { input: { ...JOB, seed: 1 } }, user.token)).createGeneration.id;
    await waitFor(async () => (await app.db.query(`SELECT 1 FROM jobs WHERE id = $1 AND status = 'PROCESSING'`, [running])).length > 0, 30_000, 20);

    freeze();
    const sent = Date.now();
    const answers = Promise.all([
      gql<any>(app.url, '{ me { id } }', {}, user.token),
      gql<any>(app.url, CREATE, { input: { ...JOB, seed: 2 } }, user.token),
    ]).then((all) => ({ all, ms: Date.now() - sent }));
    // The queue's own connection (what createGeneration's add and a cancel use) gives up too.
    const queueAnswer = app.queue.getJobCounts('waiting').then(() => 'answered', (error: Error) => error.message)
      .then((outcome) => ({ outcome, ms: Date.now() - sent }));
    // Without a command timeout both wait for the thaw. With one, a command queued behind an auto-pipeline
    // that waits goes out after it (connection.ts): give them twice the timeout and a margin, frozen.
    await Promise.race([answers, sleep(2 * REDIS_COMMAND_TIMEOUT_MS + 5000)]);
    thaw();
    const { all: [me, create], ms } = await answers;
    expect([me.status, create.status]).toEqual([503, 503]);
    expect(ms).toBeLessThan(2 * REDIS_COMMAND_TIMEOUT_MS + 2000);
    const queued = await queueAnswer;
    expect(queued.outcome).toMatch(/timed out/i);
    expect(queued.ms).toBeLessThan(2 * REDIS_COMMAND_TIMEOUT_MS + 2000);
    for (const answer of [me, create]) {
      expect(answer.headers.get('retry-after')).toBe('5');
      expect(answer.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
    }

    expect((await gqlData<any>(app.url, '{ me { id } }', {}, user.token)).me.id).toBe(user.id);
    const after = (await gqlData<any>(app.url, CREATE, { input: { ...JOB, steps: 4, seed: 3 } }, user.token)).createGeneration.id;
    await waitFor(async () => {
      const rows: { status: string }[] = await app.db.query('SELECT status FROM jobs WHERE id = ANY($1)', [[running, after]]);
      return rows.length === 2 && rows.every((r) => r.status === 'COMPLETED');
    }, 90_000, 200);
    expect(await app.queue.getFailedCount()).toBe(0);
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
  }, 150_000);
});

describe('a partition that never closes the connections (a proxy that stops forwarding)', () => {
  it('replaces each dead connection once a command waits on it, so everything works again, where before every command timed out on it', async () => {
    const user = await signUp(app.url);
    await app.db.query(`UPDATE users SET tier = 'ENTERPRISE' WHERE id = $1`, [user.id]);
    proxy.partition();
    const cut = Date.now();
    // A command on each of the command client's and the generation queue's connections, neither answered.
    const queued = app.queue.getJobCounts('waiting').then(() => 'answered', (error: Error) => error.message);
    const me = await gql<any>(app.url, '{ me { id } }', {}, user.token);
    expect(me.status).toBe(503);
    expect(await queued).toMatch(/timed out/i);
    // New connections get through from now on; the old ones stay as they are, open and silent.
    proxy.heal();

    // A connection is destroyed once it has had nothing for the socket timeout while a command waited, and is made again.
    const back = REDIS_SOCKET_TIMEOUT_MS + 4000;
    await waitFor(async () => (await gql<any>(app.url, '{ me { id } }', {}, user.token)).status === 200, back - (Date.now() - cut), 200);
    expect(Date.now() - cut).toBeLessThan(back);
    await waitFor(() => app.queue.getJobCounts('waiting').then(() => true, () => false), back - (Date.now() - cut), 200);

    // The worker's connections (its blocking one a copy) have a longer timeout: a job submitted now runs once they are replaced.
    const job = (await gqlData<any>(app.url, CREATE, { input: { ...JOB, steps: 4, seed: 4 } }, user.token)).createGeneration.id;
    await waitFor(async () => (await app.db.query(`SELECT 1 FROM jobs WHERE id = $1 AND status = 'COMPLETED'`, [job])).length > 0,
      REDIS_WORKER_SOCKET_TIMEOUT_MS + 45_000, 200);
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
  }, 150_000);
});

describe('a connection that closes with a command waiting (Redis killed and started again)', () => {
  it('keeps the connection made after it: the closed one\'s socket timeout does not destroy it', async () => {
    const restartDir = mkdtempSync(path.join(os.tmpdir(), 'atelier-redis-restart-'));
    let server = await startLocalRedis(restartDir, { persist: false });
    const client = connectRedis(server.url, { name: 'restarted' });
    const errors: string[] = [];
    let ready = 0;
    client.on('error', (error: Error) => errors.push(error.message));
    client.on('ready', () => ready++);
    try {
      await waitFor(async () => ready === 1, 10_000, 20);
      const serverPid = Number(readFileSync(path.join(restartDir, LOCAL_REDIS_PID_FILE), 'utf8'));
      process.kill(serverPid, 'SIGSTOP');
      const sent = Date.now();
      // Never answered where it was sent: its socket timeout starts now. ioredis sends it again on the next connection.
      const waiting = client.get('restart-probe').catch((error: Error) => error.message);
      await sleep(200);
      process.kill(serverPid, 'SIGKILL');
      await server.stop();
      server = await startLocalRedis(restartDir, { persist: false, port: Number(new URL(server.url).port) });
      await waitFor(async () => ready === 2, REDIS_SOCKET_TIMEOUT_MS - 1000, 20);
      await waiting;
      // Past the closed connection's deadline: the new one is still the one in use.
      await sleep(sent + REDIS_SOCKET_TIMEOUT_MS + 1500 - Date.now());
      expect(await client.ping()).toBe('PONG');
      expect(errors.filter((message) => /socket timeout/i.test(message))).toEqual([]);
      expect(ready).toBe(2);
    } finally {
      client.disconnect();
      await server.stop();
      rmSync(restartDir, { recursive: true, force: true });
    }
  }, 60_000);
});
