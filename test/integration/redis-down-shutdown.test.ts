import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/observability/logger';
import { AtelierRedis } from '../../src/redis/connection';
import { startLocalRedis, type LocalRedis } from '../../src/redis/local-server';
import { startTestApp, type TestApp } from '../support/app';
import { waitFor } from '../support/graphql';

/*
 * Shutting down while Redis is away. ioredis leaves a client that is waiting
 * to reconnect un-ended when it is disconnected, and BullMQ's Worker.close()
 * waits for that end: before src/redis/connection.ts's AtelierRedis, a
 * service stopped during an outage (or in the back-off just after one) hung
 * until main.ts's backstop killed it.
 */
const dirs: string[] = [];
const servers: LocalRedis[] = [];
afterAll(async () => {
  for (const server of servers) await server.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function ownRedis(): Promise<LocalRedis> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'atelier-redis-down-'));
  dirs.push(dir);
  const server = await startLocalRedis(dir, { persist: false });
  servers.push(server);
  return server;
}

const within = <T>(ms: number, what: Promise<T>) =>
  Promise.race([what, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not done within ${ms} ms`)), ms).unref())]);

describe('with Redis gone', () => {
  it('a client waiting to reconnect ends when disconnected, and its queued commands fail', async () => {
    const server = await ownRedis();
    const client = new AtelierRedis(server.url, { maxRetriesPerRequest: null, retryStrategy: () => 60_000 });
    client.on('error', () => {});
    await client.ping();
    await server.stop();
    await waitFor(async () => client.status === 'reconnecting', 5000, 10);
    const queued = client.get('anything');
    const ended = new Promise((resolve) => client.once('end', resolve));
    client.disconnect();
    await within(1000, ended);
    expect(client.status).toBe('end');
    await expect(queued).rejects.toThrow('Connection is closed.');
  });

  it('stopping an embedded redis-server that was killed resolves at once', async () => {
    const server = await ownRedis();
    const client = new AtelierRedis(server.url);
    const pid = Number(/process_id:(\d+)/.exec(await client.info('server'))![1]);
    client.disconnect();
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => { try { process.kill(pid, 0); return false; } catch { return true; } }, 5000, 10);
    await new Promise((r) => setTimeout(r, 100));
    await within(2000, server.stop());
  });

  it('an outage is logged once by each connection, not once a retry, and nothing is printed raw', async () => {
    const server = await ownRedis();
    const lines: { level: number; msg: string; err?: unknown }[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
    const app = await startTestApp({ REDIS_URL: server.url }, { logger });
    const raw = vi.spyOn(console, 'error');
    try {
      lines.length = 0;
      await server.stop();
      // Every connection retries about once a second: several attempts each.
      await new Promise((r) => setTimeout(r, 4000));
      const printed = raw.mock.calls.map((call) => call.map(String).join(' ')).filter((text) => text.includes('ECONNREFUSED'));
      expect(printed).toEqual([]);
      const errors = lines.filter((line) => line.level >= 50);
      expect(errors).toEqual([]);
      const said = lines.filter((line) => line.msg.endsWith('Redis unreachable')).map((line) => line.msg);
      expect(said).toEqual(expect.arrayContaining(['redis commands error: Redis unreachable', 'generation queue error: Redis unreachable', 'worker error: Redis unreachable']));
      expect(new Set(said).size).toBe(said.length);
    } finally {
      raw.mockRestore();
      await within(40_000, app.close()).catch(() => {});
    }
  }, 90_000);

  it('the whole service (API, worker, training, housekeeping, webhooks) stops within seconds', async () => {
    const server = await ownRedis();
    const app: TestApp = await startTestApp({ REDIS_URL: server.url });
    try {
      await server.stop();
      // Long enough for every connection to see the socket close and wait out a retry.
      await new Promise((r) => setTimeout(r, 1500));
      const asked = Date.now();
      // Nothing runs, so no grace is waited for: a few seconds for the API's workers to find their closes wait on
      // Redis, then as many for the generation and training workers (each pair closed together), and at most 3 s
      // for a reconciliation pass: about 15 s, as docs/operations.md says. One after the other, they took 20 s.
      await within(40_000, app.close());
      expect(Date.now() - asked).toBeLessThan(17_000);
    } finally {
      await within(40_000, app.close()).catch(() => {});
    }
  }, 90_000);
});
