import type { Browser, BrowserContext } from 'playwright-core';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectRedis } from '../../src/redis/connection';
import { EventLog } from '../../src/subscriptions/event-log';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { gqlData } from '../support/graphql';
import { startLatencyProxy, type TcpProxy } from '../support/latency-proxy';
import { ensureClientBuilt, launchChromium, screenshot } from './browser';

/*
 * The web client's live streams pick up where they stopped when the server
 * ends them with SERVICE_UNAVAILABLE, as the SDK and the CLI do
 * (client/src/lib/useResumableSubscription.ts). The server ends a stream so
 * when its Redis subscriber came back and what was published meanwhile could
 * not be read back (test/integration/subscription-resume.test.ts sets that
 * up the same way: the app reaches Redis through a proxy that keeps its
 * command connection cut off while its subscriber connection comes back).
 * The browser's own WebSocket never drops here, so only that end tells it.
 * Before, the Job page said "Live updates stopped" and moved no more until
 * it was reloaded. An API-only app: the job waits in the queue, and its
 * steps are published from outside, as a worker would.
 */
let proxy: TcpProxy;
let app: TestApp;
let browser: Browser;
let context: BrowserContext;
let healthy: Redis;
let healthySubscriber: Redis;
let outside: EventLog;

beforeAll(async () => {
  ensureClientBuilt();
  proxy = await startLatencyProxy(inject('redisUrl'), 0);
  app = await startTestApp({ REDIS_URL: proxy.url, ATELIER_ROLE: 'api' }, { eventCatchUpMs: 500 });
  healthy = connectRedis(inject('redisUrl'), { name: 'live-resume-outside' });
  healthySubscriber = connectRedis(inject('redisUrl'), { name: 'live-resume-outside-events' });
  outside = new EventLog(healthy, healthySubscriber, app.config.redisPrefix);
  browser = await launchChromium();
});
afterAll(async () => {
  proxy?.heal();
  await context?.close().catch(() => undefined);
  await browser?.close();
  await app?.close();
  healthy?.disconnect();
  healthySubscriber?.disconnect();
  await proxy?.close();
});

describe('a live stream the server could not catch up', () => {
  it('the Job page subscribes again after its last event once Redis answers, and shows what it missed and what came after', async () => {
    const owner = await factory.user(app, { tier: 'PRO' });
    const { createGeneration: job } = await gqlData<any>(app.url,
      'mutation { createGeneration(input: { prompt: "a harbour at dawn, resumed", width: 64, height: 64, steps: 3 }) { id } }', {}, owner.token);
    const progress = (step: number) => ({
      type: 'PROGRESS' as const, at: new Date().toISOString(), jobId: job.id, sessionId: null, actorId: owner.id, step, totalSteps: 3, elapsedMs: step, etaMs: 0,
    });

    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: app.url });
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    // What crosses the page's WebSocket: the server's errors, and the page's subscribes.
    const received: string[] = [];
    const sent: string[] = [];
    page.on('websocket', (socket) => {
      socket.on('framereceived', (frame) => void received.push(String(frame.payload)));
      socket.on('framesent', (frame) => void sent.push(String(frame.payload)));
    });
    await page.goto('/signin');
    await page.evaluate((token) => localStorage.setItem('atelier.token', token), owner.token);
    await page.goto(`/jobs/${job.id}`);
    await page.getByText('Next in the queue').waitFor();
    await expect.poll(() => sent.filter((f) => f.includes('"subscribe"') && f.includes('jobUpdated')).length).toBe(1);
    const { jobEventId: first } = await outside.publish(progress(1));
    await page.getByText('Step 1 of 3').waitFor();

    proxy.partition('atelier-commands');
    proxy.refuse('atelier-events');
    // Published while the app's subscriber connection is away: only the job's stream has it.
    const { jobEventId: missed } = await outside.publish(progress(2));
    proxy.heal();
    proxy.partition('atelier-commands');
    // The catch-up's read waits out the command timeout, and the server ends the stream.
    await expect.poll(() => received.filter((f) => f.includes('SERVICE_UNAVAILABLE')).length, { timeout: 15_000 }).toBeGreaterThan(0);
    await screenshot(page, 'live-resume-ended');
    // Redis answers the app's commands again (its cut-off connection closed, a new one made).
    proxy.refuse('atelier-commands');
    proxy.heal();

    // The page subscribes again after its last event (step 1), and the step it missed comes first.
    await page.getByText('Step 2 of 3').waitFor({ timeout: 30_000 });
    const resubscribed = sent.filter((f) => f.includes('"subscribe"') && f.includes('jobUpdated')).slice(1).map((f) => JSON.parse(f).payload.variables);
    expect(resubscribed.at(-1)).toEqual({ jobId: job.id, after: first });
    expect(missed).toBeDefined();
    await outside.publish(progress(3));
    await page.getByText('Step 3 of 3').waitFor();
    expect(await page.getByText('Live updates stopped').count()).toBe(0);
    await screenshot(page, 'live-resume-resumed');
  }, 90_000);
});
