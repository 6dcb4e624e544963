import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtelierError, createAtelierClient } from '../../sdk/src';
import { gqlData, signUp, waitFor } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { runCli } from '../support/cli';
import { startOutageRedis, type OutageRedis } from '../support/outage-redis';

/*
 * The SDK's retries (sdk/README.md, "Retries"), and the CLI's and the MCP
 * server's, which follow the same policy, against a live Atelier whose
 * Redis this file stops and starts: a 503 with Retry-After during the outage,
 * a 429 from a tier's request rate, and an answer lost on the way back (the
 * `fetch` option wraps the real fetch and drops one answer after the server
 * has sent it, as a connection cut at that moment would).
 */
let redis: OutageRedis;
let app: TestApp;
let root: string;

beforeAll(async () => {
  redis = await startOutageRedis('sdk-retries');
  app = await startTestApp({ REDIS_URL: redis.url, ATELIER_ADMIN_EMAIL: 'retries-root@example.com', ATELIER_ADMIN_PASSWORD: 'root password 1' });
  root = (await gqlData<any>(app.url, 'mutation { login(email:"retries-root@example.com", password:"root password 1"){ token } }')).login.token;
}, 60_000);
afterAll(() => redis?.dispose(async () => app?.close()));

/** HTTP answers of SERVICE_UNAVAILABLE so far (atelier_errors_total). */
async function refusedOverHttp(): Promise<number> {
  const { values } = await app.metrics.registry.getSingleMetric('atelier_errors_total')!.get();
  return values.find((v) => v.labels.transport === 'http' && v.labels.code === 'SERVICE_UNAVAILABLE')?.value ?? 0;
}

async function apiKey(): Promise<{ key: string; userId: string }> {
  const user = await signUp(app.url, 'retries');
  const { createApiKey } = await gqlData<any>(app.url, 'mutation { createApiKey(name:"sdk") { secret } }', {}, user.token);
  return { key: createApiKey.secret, userId: user.id };
}

/** The real fetch, with what each call was and how it went. */
function observedFetch(dropAnswerOf?: (body: string) => boolean) {
  const calls: { operation: string; status: number | 'dropped' | 'failed' }[] = [];
  let dropped = false;
  const observed: typeof fetch = async (input, init) => {
    const body = typeof init?.body === 'string' ? init.body : '';
    const operation = /(query|mutation)\s+(\w+)/.exec(body)?.[2] ?? String(input);
    try {
      const response = await fetch(input, init);
      if (!dropped && dropAnswerOf?.(body)) {
        // The server has done the work and answered; the answer never arrives.
        await response.arrayBuffer();
        dropped = true;
        calls.push({ operation, status: 'dropped' });
        throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
      }
      calls.push({ operation, status: response.status });
      return response;
    } catch (error) {
      if (!(error instanceof TypeError && calls.at(-1)?.status === 'dropped')) calls.push({ operation, status: 'failed' });
      throw error;
    }
  };
  return { fetch: observed, calls };
}

describe('the SDK makes a call again when that is safe', () => {
  it('a query answered 503 while Redis is down is made again after the Retry-After, and succeeds once Redis is back', async () => {
    const { key, userId } = await apiKey();
    const seen = observedFetch();
    const sdk = createAtelierClient({ url: app.url, apiKey: key, fetch: seen.fetch });
    const once = createAtelierClient({ url: app.url, apiKey: key, maxRetries: 0 });
    await redis.stop();
    try {
      // Without retries: the 503's code, status and wait reach the caller.
      const refused = await once.me().catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(AtelierError);
      expect(refused).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503, retryAfterSeconds: 5 });
      const started = Date.now();
      const me = sdk.me();
      // Redis comes back once the first attempt has its 503 (the server may take a while to give Redis up).
      await waitFor(async () => seen.calls.length > 0, 30_000, 20);
      void redis.start();
      expect((await me).id).toBe(userId);
      expect(Date.now() - started).toBeGreaterThanOrEqual(5000);
      expect(seen.calls.map((c) => c.status)).toEqual([503, 200]);
    } finally {
      await redis.start();
    }
  }, 60_000);

  it('a generation whose answer was lost is asked again with the same idempotency key: one job, the one returned', async () => {
    const { key, userId } = await apiKey();
    const seen = observedFetch((body) => body.includes('createGeneration'));
    const sdk = createAtelierClient({ url: app.url, apiKey: key, fetch: seen.fetch, retryDelayMs: 50 });
    const { job } = await sdk.generate({ prompt: 'asked twice, made once', steps: 2, width: 64, height: 64 });
    expect(seen.calls.map((c) => c.status)).toEqual(['dropped', 200]);
    const rows = await app.db.query('SELECT id FROM jobs WHERE owner_id = $1', [userId]);
    expect(rows).toEqual([{ id: job.id }]);
    expect((await sdk.waitForJob(job.id)).status).toBe('COMPLETED');
    await sdk.close();
  }, 60_000);

  it('a mutation that is not safe to repeat is not made again after a lost answer: the caller gets NETWORK', async () => {
    const { key, userId } = await apiKey();
    const seen = observedFetch((body) => body.includes('createAlbum'));
    const sdk = createAtelierClient({ url: app.url, apiKey: key, fetch: seen.fetch, retryDelayMs: 50 });
    await expect(sdk.albums.create('made once')).rejects.toMatchObject({ code: 'NETWORK', status: null });
    expect(seen.calls.map((c) => c.status)).toEqual(['dropped']);
    expect(await app.db.query('SELECT name FROM albums WHERE owner_id = $1', [userId])).toEqual([{ name: 'made once' }]);
  });

  it('a 429 whose Retry-After is longer than maxRetryWaitMs is thrown at once, with its wait', async () => {
    await gqlData(app.url, 'mutation { updateTierPolicy(tier: FREE, input: { requestsPerMinute: 3 }) { tier } }', {}, root);
    try {
      const { key } = await apiKey();
      const seen = observedFetch();
      const sdk = createAtelierClient({ url: app.url, apiKey: key, fetch: seen.fetch, maxRetryWaitMs: 100 });
      // Signing up and making the key counted too: the window fills within three calls.
      let refused: unknown = null;
      for (let i = 0; i < 4 && !refused; i += 1) refused = await sdk.me().then(() => null, (error: unknown) => error);
      expect(refused).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
      expect((refused as AtelierError).retryAfterSeconds).toBeGreaterThan(0);
      // Asked once: no retry was made for the refused call.
      expect(seen.calls.at(-1)!.status).toBe(429);
      expect(seen.calls.filter((c) => c.status === 429)).toHaveLength(1);
    } finally {
      await gqlData(app.url, 'mutation { updateTierPolicy(tier: FREE, input: { requestsPerMinute: 300 }) { tier } }', {}, root);
    }
  });
});

describe('the CLI makes a call again by the same policy', () => {
  const atelier = (args: string[], env: Record<string, string>) => runCli(args, { ATELIER_URL: app.url, ...env });

  it('`atelier generate` started while Redis is down submits once Redis is back, and saves its image', async () => {
    const { key, userId } = await apiKey();
    const home = mkdtempSync(path.join(os.tmpdir(), 'atelier-cli-retries-'));
    const env = { HOME: home, ATELIER_CONFIG_DIR: path.join(home, 'config'), ATELIER_API_KEY: key };
    try {
      await redis.stop();
      const refusedBefore = await refusedOverHttp();
      const started = Date.now();
      const run = atelier(['generate', 'submitted through an outage', '--steps', '2', '--width', '64', '--height', '64', '--out', home, '--json'], env);
      // Redis comes back once the CLI's first submission has its 503 (the CLI's start takes seconds on a loaded machine).
      await waitFor(async () => (await refusedOverHttp()) > refusedBefore, 30_000, 20);
      void redis.start();
      const { code, stdout, stderr } = await run;
      expect(code, stderr).toBe(0);
      // The first submission was answered 503 (Retry-After: 5) and made again once that had passed.
      expect(Date.now() - started).toBeGreaterThanOrEqual(5000);
      const printed = JSON.parse(stdout);
      expect(printed.job.status).toBe('COMPLETED');
      expect(readdirSync(home).filter((f) => f.endsWith('.png'))).toEqual([`${printed.job.id}-0.png`]);
      expect(await app.db.query('SELECT id FROM jobs WHERE owner_id = $1', [userId])).toEqual([{ id: printed.job.id }]);
    } finally {
      await redis.start();
      rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('the MCP server makes a call again by the same policy', () => {
  it('generate_image called while Redis is down submits once Redis is back and returns the image', async () => {
    const { key, userId } = await apiKey();
    const mcp = new Client({ name: 'atelier-retries-test', version: '1.0.0' });
    await mcp.connect(new StdioClientTransport({
      command: process.execPath,
      args: [path.join(__dirname, '../../dist/src/mcp/main.js')],
      env: { PATH: process.env.PATH ?? '', ATELIER_URL: app.url, ATELIER_API_KEY: key },
      stderr: 'inherit',
    }));
    try {
      await redis.stop();
      const refusedBefore = await refusedOverHttp();
      const started = Date.now();
      const call = mcp.callTool({ name: 'generate_image', arguments: { prompt: 'asked for through an outage', steps: 2, width: 64, height: 64 } },
        undefined, { timeout: 60_000 });
      // Redis comes back once the first submission has its 503.
      await waitFor(async () => (await refusedOverHttp()) > refusedBefore, 30_000, 20);
      void redis.start();
      const result = await call;
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      // The first submission was answered 503 (Retry-After: 5) and made again once that had passed.
      expect(Date.now() - started).toBeGreaterThanOrEqual(5000);
      const content = result.content as { type: string; text?: string }[];
      const summary = JSON.parse(content[0].text!);
      expect(content.some((item) => item.type === 'image')).toBe(true);
      expect(await app.db.query('SELECT id FROM jobs WHERE owner_id = $1', [userId])).toEqual([{ id: summary.jobId }]);
    } finally {
      await redis.start();
      await mcp.close();
    }
  }, 60_000);
});
