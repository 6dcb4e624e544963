import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookDeliveryJobId, type WebhookQueue } from '../../src/kernel/queues';
import { createWebhookQueue } from '../../src/services/webhook-queue';
import { gqlData, waitFor } from '../support/graphql';
import * as factory from '../support/factories';
import { startTestApp, type TestApp } from '../support/app';

/*
 * Jobs submitted with an API key enqueue a webhook delivery only when the key
 * may have a webhook (services/webhook-keys.ts): a key joins the set of keys
 * with one before its webhook is written, and the set is built from the
 * database when Redis no longer holds it.
 */
let app: TestApp;
let receiver: http.Server;
let receiverUrl: string;
let queue: WebhookQueue;
const received: string[] = [];

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')).data.job.id);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  app = await startTestApp({ ATELIER_ROLE: 'api', ATELIER_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32' });
  queue = createWebhookQueue({ url: app.env.REDIS_URL, maxRetriesPerRequest: null }, app.config.redisPrefix);
});
afterAll(async () => {
  await queue?.close();
  await app?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

const CREATE = 'mutation { createGeneration(input: { prompt: "a hook", width: 64, height: 64, steps: 1 }) { id } }';
const setsKey = () => `${app.config.redisPrefix}:webhooks:keys`;

async function keyOf(token: string): Promise<{ id: string; secret: string }> {
  const { createApiKey } = await gqlData<any>(app.url, 'mutation { createApiKey(name: "hooks") { secret apiKey { id } } }', {}, token);
  return { id: createApiKey.apiKey.id, secret: createApiKey.secret };
}

/**
 * Whether a QUEUED delivery was enqueued for the job (kept a day once done, so it can be looked up),
 * once the QUEUED the mutation issued is out: the answer does not wait for it (JobService.announce).
 */
async function enqueued(jobId: string): Promise<boolean> {
  await app.services.jobs.announced();
  return (await queue.getJob(webhookDeliveryJobId(jobId, 'QUEUED'))) !== undefined;
}

describe('deliveries only for keys that may have a webhook', () => {
  it('none for a key without one; one once it is set; once it is removed, nothing is delivered', async () => {
    const user = await factory.user(app, { tier: 'ENTERPRISE', prefix: 'hooks' });
    const key = await keyOf(user.token);
    // The set is built on the first look (a fresh Redis holds none): a delivery may be enqueued meanwhile.
    await gqlData(app.url, CREATE, {}, key.secret);
    await waitFor(async () => (await app.redis.sismember(setsKey(), '*')) === 1);

    const plain = (await gqlData<any>(app.url, CREATE, {}, key.secret)).createGeneration.id;
    expect(await enqueued(plain)).toBe(false);

    await gqlData(app.url, 'mutation($id:ID!, $url:String!) { setApiKeyWebhook(apiKeyId:$id, url:$url) { secret } }', { id: key.id, url: receiverUrl }, user.token);
    const hooked = (await gqlData<any>(app.url, CREATE, {}, key.secret)).createGeneration.id;
    expect(await enqueued(hooked)).toBe(true);
    await waitFor(async () => received.includes(hooked));

    // Removed: the key stays in the set (taking it out could race a webhook being set again), and its
    // deliveries are dropped when they run.
    await gqlData(app.url, 'mutation($id:ID!) { removeApiKeyWebhook(apiKeyId:$id) { id } }', { id: key.id }, user.token);
    const after = (await gqlData<any>(app.url, CREATE, {}, key.secret)).createGeneration.id;
    await waitFor(async () => (await queue.getJob(webhookDeliveryJobId(after, 'QUEUED')))?.returnvalue === 'skipped');
    expect(received).not.toContain(after);
  });

  it('when Redis has lost the set, every key counts as having a webhook until it is rebuilt from the database', async () => {
    const user = await factory.user(app, { tier: 'ENTERPRISE', prefix: 'hooks' });
    const [withHook, without] = [await keyOf(user.token), await keyOf(user.token)];
    await gqlData(app.url, 'mutation($id:ID!, $url:String!) { setApiKeyWebhook(apiKeyId:$id, url:$url) { secret } }', { id: withHook.id, url: receiverUrl }, user.token);
    await app.redis.del(setsKey());

    // Not built: the delivery is enqueued all the same (the delivery worker finds no webhook and drops it).
    const first = (await gqlData<any>(app.url, CREATE, {}, without.secret)).createGeneration.id;
    expect(await enqueued(first)).toBe(true);
    await waitFor(async () => (await app.redis.sismember(setsKey(), '*')) === 1);
    expect(await app.redis.sismember(setsKey(), withHook.id)).toBe(1);
    expect(await app.redis.sismember(setsKey(), without.id)).toBe(0);

    // Rebuilt: the key with a webhook still gets its deliveries, the other none.
    const hooked = (await gqlData<any>(app.url, CREATE, {}, withHook.secret)).createGeneration.id;
    await waitFor(async () => received.includes(hooked));
    const plain = (await gqlData<any>(app.url, CREATE, {}, without.secret)).createGeneration.id;
    expect(await enqueued(plain)).toBe(false);
  });
});
