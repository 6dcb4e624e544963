import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookDeliveryJobId, type WebhookQueue } from '../../src/kernel/queues';
import { createWebhookQueue } from '../../src/services/webhook-queue';
import { gql, gqlData, signUp, waitFor } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';

/** One request the receiver got, as it arrived on the wire. */
interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  body: { id: string; type: string; createdAt: string; data: any };
  receivedAt: number;
}

let app: TestApp;
let receiver: http.Server;
/** Something on an internal address (127.0.0.2, not on the allowlist) that webhooks must never reach. */
let internal: http.Server;
const internalHits: string[] = [];
let receiverUrl: string;
let queue: WebhookQueue;
const received: Received[] = [];
const attemptsById = new Map<string, number>();

/** `/ok` answers 200, `/flaky` 500 twice per delivery then 200, `/gone` 410, `/broken` 500. */
function answer(path: string, deliveryId: string): number {
  const attempt = (attemptsById.get(deliveryId) ?? 0) + 1;
  attemptsById.set(deliveryId, attempt);
  if (path === '/flaky') return attempt <= 2 ? 500 : 200;
  return ({ '/gone': 410, '/broken': 500 } as Record<string, number>)[path] ?? 200;
}

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const body = JSON.parse(rawBody) as Received['body'];
      received.push({ path: req.url ?? '', headers: req.headers, rawBody, body, receivedAt: Date.now() });
      res.writeHead(answer(req.url ?? '', body.id)).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  // Short backoff keeps the retry test fast: retries after 50 ms, then 100 ms. The receiver
  // listens on this machine, which webhooks may reach only because the allowlist names it.
  internal = http.createServer((req, res) => {
    internalHits.push(req.url ?? '');
    res.writeHead(404).end('internal service');
  });
  await new Promise<void>((resolve) => internal.listen(0, '127.0.0.2', resolve));
  app = await startTestApp({ ATELIER_WEBHOOK_BACKOFF_MS: '50', ATELIER_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32' });
  queue = createWebhookQueue({ url: app.env.REDIS_URL, maxRetriesPerRequest: null }, app.config.redisPrefix);
});
afterAll(async () => {
  await queue?.close();
  await app?.close();
  await new Promise((resolve) => receiver?.close(resolve));
  await new Promise((resolve) => internal?.close(resolve));
});

const SMALL_JOB = { prompt: 'a lighthouse in fog', width: 64, height: 64, steps: 2 };
const SET = 'mutation($id:ID!, $url:String!) { setApiKeyWebhook(apiKeyId:$id, url:$url) { secret apiKey { id webhookUrl } } }';

/** A user with an API key whose webhook points at `path` on the receiver. */
async function integrator(path: string): Promise<{ token: string; apiKey: string; apiKeyId: string; secret: string }> {
  const user = await signUp(app.url, 'integrator');
  const created = await gqlData<any>(app.url, 'mutation { createApiKey(name:"ci") { secret apiKey { id } } }', {}, user.token);
  const apiKeyId = created.createApiKey.apiKey.id;
  const set = await gqlData<any>(app.url, SET, { id: apiKeyId, url: `${receiverUrl}${path}` }, user.token);
  return { token: user.token, apiKey: created.createApiKey.secret, apiKeyId, secret: set.setApiKeyWebhook.secret };
}

const deliveriesFor = (jobId: string): Received[] => received.filter((r) => r.body.data?.job?.id === jobId);

/** What a receiver does (README.md, "Webhooks"): HMAC of "<timestamp>.<raw body>", compared in constant time. */
function verifies(secret: string, r: Received): boolean {
  const timestamp = String(r.headers['atelier-webhook-timestamp']);
  const expected = Buffer.from(`v1=${createHmac('sha256', secret).update(`${timestamp}.${r.rawBody}`).digest('hex')}`);
  const given = Buffer.from(String(r.headers['atelier-webhook-signature']));
  return expected.length === given.length && timingSafeEqual(expected, given);
}

describe('API key webhooks', () => {
  it('reports queued, started and completed, signed with the secret and freshly timestamped', async () => {
    const me = await integrator('/ok');
    expect(me.secret).toMatch(/^whsec_[A-Za-z0-9_-]{40,}$/);
    const keys = await gqlData<any>(app.url, '{ apiKeys { id webhookUrl } }', {}, me.token);
    expect(keys.apiKeys).toEqual([{ id: me.apiKeyId, webhookUrl: `${receiverUrl}/ok` }]);

    const jobId = (await factory.job(app, { token: me.apiKey }, SMALL_JOB)).id;
    const completed = await waitFor(async () => deliveriesFor(jobId).find((r) => r.body.type === 'job.completed'), 60_000);
    await waitFor(async () => deliveriesFor(jobId).length >= 3);
    const deliveries = deliveriesFor(jobId);
    expect(deliveries.map((r) => r.body.type).sort()).toEqual(['job.completed', 'job.queued', 'job.started']);
    for (const r of deliveries) {
      expect(verifies(me.secret, r)).toBe(true);
      expect(verifies('whsec_someone-else', r)).toBe(false);
      expect(Math.abs(r.receivedAt / 1000 - Number(r.headers['atelier-webhook-timestamp']))).toBeLessThan(30);
      expect(r.headers['atelier-webhook-id']).toBe(r.body.id);
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['user-agent']).toBe('Atelier-Webhooks/1');
    }
    expect(new Set(deliveries.map((r) => r.body.id)).size).toBe(3);
    const { job } = completed.body.data;
    expect(job).toMatchObject({ id: jobId, status: 'COMPLETED', width: 64, height: 64, steps: 2, error: null });
    expect(job.images).toHaveLength(1);
    expect(job.images[0]).toMatchObject({ width: 64, height: 64, seed: job.seed });
    expect((await fetch(job.images[0].url)).status).toBe(200);
  });

  it('retries a failing receiver with backoff: 500, 500, then delivered on the third try', async () => {
    const me = await integrator('/flaky');
    const jobId = (await factory.job(app, { token: me.apiKey }, SMALL_JOB)).id;
    const completed = await waitFor(async () => {
      const tries = deliveriesFor(jobId).filter((r) => r.body.type === 'job.completed');
      return tries.length >= 3 ? tries : null;
    }, 60_000);
    expect(completed).toHaveLength(3);
    expect(new Set(completed.map((r) => r.body.id)).size).toBe(1);
    expect(completed.every((r) => verifies(me.secret, r))).toBe(true);
    const bull = await waitFor(async () => {
      const job = await queue.getJob(webhookDeliveryJobId(jobId, 'COMPLETED'));
      // Read again once complete: the copy read before may predate the last try.
      return job && (await job.isCompleted()) ? queue.getJob(job.id!) : null;
    });
    expect([bull.attemptsMade, bull.returnvalue]).toEqual([3, 'delivered']);
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    const count = (outcome: string) => Number(metrics.match(new RegExp(`atelier_webhook_deliveries_total\\{[^}]*outcome="${outcome}"[^}]*\\} (\\d+)`))?.[1] ?? 0);
    expect(count('failed')).toBeGreaterThanOrEqual(2);
    expect(count('delivered')).toBeGreaterThanOrEqual(1);
    expect(metrics).toContain('atelier_webhook_delivery_duration_seconds_bucket');
  });

  it('sends nothing for jobs submitted with a JWT, even when the user has a webhook', async () => {
    const me = await integrator('/ok');
    const jobId = (await factory.job(app, { token: me.token }, SMALL_JOB)).id;
    await waitFor(async () => (await gqlData<any>(app.url, 'query($id:ID!){ job(id:$id){ status } }', { id: jobId }, me.token)).job.status === 'COMPLETED');
    // Jobs without an API key never reach the webhook queue at all.
    for (const type of ['QUEUED', 'STARTED', 'COMPLETED'] as const) {
      expect(await queue.getJob(webhookDeliveryJobId(jobId, type))).toBeUndefined();
    }
    expect(deliveriesFor(jobId)).toEqual([]);
  });

  it('a receiver answering 410 Gone removes the webhook', async () => {
    const me = await integrator('/gone');
    const jobId = (await factory.job(app, { token: me.apiKey }, SMALL_JOB)).id;
    await waitFor(async () => deliveriesFor(jobId).length > 0, 30_000);
    const keys = await waitFor(async () => {
      const { apiKeys } = await gqlData<any>(app.url, '{ apiKeys { webhookUrl } }', {}, me.token);
      return apiKeys[0].webhookUrl === null ? apiKeys : null;
    });
    expect(keys).toEqual([{ webhookUrl: null }]);
  });

  it('testApiKeyWebhook pings and reports the answer; removeApiKeyWebhook stops it', async () => {
    const me = await integrator('/ok');
    const TEST = 'mutation($id:ID!) { testApiKeyWebhook(apiKeyId:$id) { id type delivered statusCode durationMs error } }';
    const ok = (await gqlData<any>(app.url, TEST, { id: me.apiKeyId }, me.token)).testApiKeyWebhook;
    expect(ok).toMatchObject({ type: 'ping', delivered: true, statusCode: 200, error: null });
    const ping = received.find((r) => r.body.id === ok.id)!;
    expect(ping.body.data).toEqual({ apiKey: { id: me.apiKeyId, name: 'ci' } });
    expect(verifies(me.secret, ping)).toBe(true);

    const rotated = (await gqlData<any>(app.url, SET, { id: me.apiKeyId, url: `${receiverUrl}/broken` }, me.token)).setApiKeyWebhook;
    expect(rotated.secret).not.toBe(me.secret);
    const broken = (await gqlData<any>(app.url, TEST, { id: me.apiKeyId }, me.token)).testApiKeyWebhook;
    expect(broken).toMatchObject({ delivered: false, statusCode: 500, error: 'HTTP 500' });

    const removed = await gqlData<any>(app.url, 'mutation($id:ID!) { removeApiKeyWebhook(apiKeyId:$id) { webhookUrl } }', { id: me.apiKeyId }, me.token);
    expect(removed.removeApiKeyWebhook.webhookUrl).toBeNull();
    const none = await gql(app.url, TEST, { id: me.apiKeyId }, me.token);
    expect(none.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'apiKeyId' });
  });

  it('testApiKeyWebhook of a revoked key is refused like setApiKeyWebhook, and sends nothing', async () => {
    const me = await integrator('/ok');
    await gqlData(app.url, 'mutation($id:ID!) { revokeApiKey(id:$id) { id } }', { id: me.apiKeyId }, me.token);
    const before = received.length;
    const test = await gql(app.url, 'mutation($id:ID!) { testApiKeyWebhook(apiKeyId:$id) { delivered } }', { id: me.apiKeyId }, me.token);
    const set = await gql(app.url, SET, { id: me.apiKeyId, url: `${receiverUrl}/ok` }, me.token);
    expect(set.errors?.[0]).toMatchObject({ message: 'This API key is revoked', extensions: { code: 'BAD_USER_INPUT', field: 'apiKeyId' } });
    expect(test.data).toBeNull();
    expect(test.errors?.[0]).toMatchObject({ message: set.errors?.[0].message, extensions: set.errors?.[0].extensions });
    expect(received.slice(before).filter((r) => r.body.data?.apiKey?.id === me.apiKeyId)).toEqual([]);
  });

  it('another user cannot manage my key\'s webhook', async () => {
    const me = await integrator('/ok');
    const other = await signUp(app.url, 'other');
    for (const query of [
      SET,
      'mutation($id:ID!) { removeApiKeyWebhook(apiKeyId:$id) { id } }',
      'mutation($id:ID!) { testApiKeyWebhook(apiKeyId:$id) { id } }',
    ]) {
      const res = await gql(app.url, query, { id: me.apiKeyId, url: `${receiverUrl}/stolen` }, other.token);
      expect(res.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    }
    const anonymous = await gql(app.url, SET, { id: me.apiKeyId, url: `${receiverUrl}/x` });
    expect(anonymous.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const keys = await gqlData<any>(app.url, '{ apiKeys { webhookUrl } }', {}, me.token);
    expect(keys.apiKeys[0].webhookUrl).toBe(`${receiverUrl}/ok`);
  });

  it('refuses bad URLs with BAD_USER_INPUT on url and changes nothing', async () => {
    const me = await integrator('/ok');
    for (const url of ['not a url', 'ftp://example.com/hook', 'http://user:pw@example.com/hook', `https://example.com/${'a'.repeat(2000)}`, ' ']) {
      const res = await gql(app.url, SET, { id: me.apiKeyId, url }, me.token);
      expect(res.errors?.[0].extensions, url).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
    }
    const keys = await gqlData<any>(app.url, '{ apiKeys { webhookUrl } }', {}, me.token);
    expect(keys.apiKeys[0].webhookUrl).toBe(`${receiverUrl}/ok`);
  });

  it('refuses internal addresses when the URL is set, and never connects to one at delivery, whatever answers there', async () => {
    const me = await integrator('/ok');
    const internalPort = (internal.address() as AddressInfo).port;
    for (const url of [
      `http://127.0.0.2:${internalPort}/metrics`, 'http://10.1.2.3/hook', 'http://192.168.0.10/', 'http://169.254.169.254/latest/meta-data/',
      'http://100.100.100.200/', `http://[::1]:${internalPort}/`, 'http://[::ffff:127.0.0.2]/', 'http://0.0.0.0/', 'http://[fd00:ec2::254]/',
    ]) {
      const res = await gql(app.url, SET, { id: me.apiKeyId, url }, me.token);
      expect(res.errors?.[0], url).toMatchObject({ message: 'Refused: webhook URLs must point at a public internet address', extensions: { code: 'BAD_USER_INPUT', field: 'url' } });
    }

    // A name that resolved publicly when it was set may point inside later (DNS rebinding): the
    // delivery is checked again as it connects. Stored directly here, as such a change would leave it.
    const TEST = 'mutation($id:ID!) { testApiKeyWebhook(apiKeyId:$id) { delivered statusCode error } }';
    const answers = [];
    for (const url of [`http://127.0.0.2:${internalPort}/metrics`, 'http://127.0.0.2:1/', `http://[::1]:${internalPort}/`]) {
      await app.db.query('UPDATE api_keys SET webhook_url = $1 WHERE id = $2', [url, me.apiKeyId]);
      answers.push((await gqlData<any>(app.url, TEST, { id: me.apiKeyId }, me.token)).testApiKeyWebhook);
    }
    // An open port and a closed one answer alike: nothing about what is there leaks.
    expect(answers).toEqual(Array(3).fill({ delivered: false, statusCode: null, error: 'Refused: webhook URLs must point at a public internet address' }));

    await app.db.query('UPDATE api_keys SET webhook_url = $1 WHERE id = $2', [`http://127.0.0.2:${internalPort}/hook`, me.apiKeyId]);
    const jobId = (await factory.job(app, { token: me.apiKey }, SMALL_JOB)).id;
    const bull = await waitFor(async () => {
      const job = await queue.getJob(webhookDeliveryJobId(jobId, 'COMPLETED'));
      return job && job.attemptsMade >= 2 ? job : null;
    }, 60_000);
    expect(bull.failedReason).toBe('Refused: webhook URLs must point at a public internet address');
    expect(internalHits).toEqual([]);
  });
});

describe('webhooks for VIDEO jobs', () => {
  it('job.completed of a clip carries its kind and signed video and poster URLs', async () => {
    const me = await integrator('/ok');
    const { createVideo } = await gqlData<any>(app.url, 'mutation { createVideo(input: { prompt: "a lighthouse in fog", width: 64, height: 64, steps: 1, durationSeconds: 0.5, fps: 4 }) { id } }', {}, me.apiKey);
    const completed = await waitFor(async () => deliveriesFor(createVideo.id).find((r) => r.body.type === 'job.completed'), 60_000);
    const { job } = completed.body.data;
    expect(job).toMatchObject({ kind: 'VIDEO', status: 'COMPLETED', images: [], video: { mimeType: 'video/mp4', frames: 2, fps: 4, durationSeconds: 0.5 } });
    const clip = await fetch(job.video.url);
    expect([clip.status, clip.headers.get('content-type')]).toEqual([200, 'video/mp4']);
    expect((await fetch(job.video.posterUrl)).status).toBe(200);
  });
});

