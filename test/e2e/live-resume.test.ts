import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectRedis } from '../../src/redis/connection';
import { EventLog } from '../../src/subscriptions/event-log';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { gqlData } from '../support/graphql';
import { startLatencyProxy, type TcpProxy } from '../support/latency-proxy';
import { droppableSockets, ensureClientBuilt, launchChromium, screenshot } from './browser';

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

/**
 * Ends the app's live streams with SERVICE_UNAVAILABLE: what `publishMissed` publishes while its subscriber
 * connection is away cannot be read back once it returns, its command connection kept cut off; then Redis
 * answers it again. Resolves once the page was told so.
 */
async function streamsEnded(received: string[], publishMissed: () => Promise<unknown>): Promise<void> {
  const before = received.filter((f) => f.includes('SERVICE_UNAVAILABLE')).length;
  proxy.partition('atelier-commands');
  proxy.refuse('atelier-events');
  await publishMissed();
  proxy.heal();
  proxy.partition('atelier-commands');
  await expect.poll(() => received.filter((f) => f.includes('SERVICE_UNAVAILABLE')).length, { timeout: 15_000 }).toBeGreaterThan(before);
  proxy.refuse('atelier-commands');
  proxy.heal();
}

/** The page's WebSocket frames: what it received, and what it sent. */
function framesOf(page: Page): { received: string[]; sent: string[] } {
  const frames = { received: [] as string[], sent: [] as string[] };
  page.on('websocket', (socket) => {
    socket.on('framereceived', (frame) => void frames.received.push(String(frame.payload)));
    socket.on('framesent', (frame) => void frames.sent.push(String(frame.payload)));
  });
  return frames;
}

/** The variables of each `subscribe` the page sent for `field`. */
const subscribesOf = (sent: string[], field: string) =>
  sent.filter((f) => f.includes('"subscribe"') && f.includes(field)).map((f) => JSON.parse(f).payload.variables as Record<string, unknown>);

describe('a live stream over a dropped WebSocket', () => {
  it('graphql-ws\'s own retry subscribes after the page\'s last event: one subscribe, and nothing sent twice', async () => {
    const owner = await factory.user(app, { tier: 'PRO', prefix: 'dropped' });
    const { createGeneration: job } = await gqlData<any>(app.url,
      'mutation { createGeneration(input: { prompt: "a ferry in fog, reconnected", width: 64, height: 64, steps: 3 }) { id } }', {}, owner.token);
    const progress = (step: number) => outside.publish({
      type: 'PROGRESS', at: new Date().toISOString(), jobId: job.id, sessionId: null, actorId: owner.id, step, totalSteps: 3, elapsedMs: step, etaMs: 0,
    });

    const dropped = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: app.url });
    dropped.setDefaultTimeout(20_000);
    // The test drops the page's network (every WebSocket it opens is kept).
    const { drop, openSockets } = await droppableSockets(dropped);
    const page = await dropped.newPage();
    const { received, sent } = framesOf(page);
    await page.goto('/signin');
    await page.evaluate((token) => localStorage.setItem('atelier.token', token), owner.token);
    await page.goto(`/jobs/${job.id}`);
    await page.getByText(/Next in the queue|Position \d+ in the queue/).waitFor();
    await expect.poll(() => subscribesOf(sent, 'jobUpdated').length).toBe(1);
    const first = (await progress(1)).jobEventId!;
    await page.getByText('Step 1 of 3').waitFor();

    // The network drops; a step is published meanwhile; it comes back.
    await drop(page, true);
    await expect.poll(() => openSockets(page)).toBe(0);
    const [sentBefore, receivedBefore] = [sent.length, received.length];
    await progress(2);
    await drop(page, false);
    await page.getByText('Step 2 of 3').waitFor({ timeout: 30_000 });
    await progress(3);
    await page.getByText('Step 3 of 3').waitFor();

    // On the new socket: one subscribe, after step 1, and no event the page had came again.
    expect(subscribesOf(sent.slice(sentBefore), 'jobUpdated')).toEqual([{ jobId: job.id, after: first }]);
    const eventsAgain = received.slice(receivedBefore).filter((f) => f.includes('"next"') && f.includes(first));
    expect(eventsAgain).toEqual([]);
    expect(received.slice(receivedBefore).filter((f) => f.includes('"next"') && f.includes('"QUEUED"'))).toEqual([]);
    expect(await page.getByText('Live updates stopped').count()).toBe(0);
    await dropped.close();
  }, 90_000);
});

describe('a live stream the server could not catch up', () => {
  it('the Job page subscribes again after its last event once Redis answers, and shows what it missed and what came after', async () => {
    const owner = await factory.user(app, { tier: 'PRO' });
    const submit = async (prompt: string) => (await gqlData<any>(app.url,
      'mutation($p: String!) { createGeneration(input: { prompt: $p, width: 64, height: 64, steps: 3 }) { id } }', { p: prompt }, owner.token)).createGeneration;
    // Another job, whose first step is older than anything of the job watched below.
    const other = await submit('a lantern, shown next');
    const progressOf = (jobId: string, step: number) => ({
      type: 'PROGRESS' as const, at: new Date().toISOString(), jobId, sessionId: null, actorId: owner.id, step, totalSteps: 3, elapsedMs: step, etaMs: 0,
    });
    await outside.publish(progressOf(other.id, 1));
    const job = await submit('a harbour at dawn, resumed');
    const progress = (step: number) => progressOf(job.id, step);

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
    await page.getByText(/Next in the queue|Position \d+ in the queue/).waitFor();
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

    // The same page moved to the other job (its route's id changed, as Back and Forward do): that job's stream starts
    // from its first event, not after the last event of the one it showed before (which is newer than its step).
    await page.evaluate((path) => {
      window.history.pushState({}, '', path);
      window.dispatchEvent(new PopStateEvent('popstate'));
    }, `/jobs/${other.id}`);
    await page.getByText('a lantern, shown next').first().waitFor();
    await page.getByText('Step 1 of 3').waitFor();
    const shown = sent.filter((f) => f.includes('"subscribe"') && f.includes(other.id)).map((f) => JSON.parse(f).payload.variables);
    expect(shown).toEqual([{ jobId: other.id, after: null }]);
  }, 90_000);

  it('a session room resumes its feed after its last event, and the room it moves to next starts live, not after that event', async () => {
    const owner = await factory.user(app, { tier: 'PRO', prefix: 'rooms' });
    const room = async (name: string) => (await gqlData<any>(app.url, 'mutation($n: String!) { createSession(name: $n) { id } }', { n: name }, owner.token)).createSession.id as string;
    const [harbour, lighthouse] = [await room('Harbour room'), await room('Lighthouse room')];
    const event = (sessionId: string, type: 'QUEUED' | 'COMPLETED' | 'CANCELLED') => outside.publish({
      type, at: new Date().toISOString(), jobId: randomUUID(), sessionId, actorId: owner.id, step: 0, totalSteps: 3, queuePosition: 0, imageIds: [],
    } as any);

    const rooms = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: app.url });
    rooms.setDefaultTimeout(20_000);
    const page = await rooms.newPage();
    const { received, sent } = framesOf(page);
    await page.goto('/signin');
    await page.evaluate((token) => localStorage.setItem('atelier.token', token), owner.token);
    await page.goto(`/sessions/${harbour}`);
    /** The room's feed is open on the server: its own PRESENCE (published once the feed is attached) came through it. */
    const presences = (sessionId: string) => received.filter((f) => f.includes('"PRESENCE"') && f.includes(sessionId)).length;
    await page.getByRole('heading', { level: 1, name: 'Harbour room' }).waitFor();
    await expect.poll(() => presences(harbour)).toBeGreaterThan(0);
    // A live feed starts at the stream's last event when it opens: one published before would not be in it.
    const { sessionEventId: first } = await event(harbour, 'QUEUED');
    await page.getByText('queued a job').first().waitFor();

    await streamsEnded(received, () => event(harbour, 'COMPLETED'));
    // Subscribed again after its last event, and told what it missed.
    await page.getByText('job finished').first().waitFor({ timeout: 30_000 });
    expect(subscribesOf(sent, 'sessionEvents').at(-1)).toEqual({ sessionId: harbour, after: first });

    // Something happens in the other room, after the first room's last event; then the page moves there.
    const { sessionEventId: cancelled } = await event(lighthouse, 'CANCELLED');
    await page.evaluate((path) => {
      window.history.pushState({}, '', path);
      window.dispatchEvent(new PopStateEvent('popstate'));
    }, `/sessions/${lighthouse}`);
    await page.getByRole('heading', { level: 1, name: 'Lighthouse room' }).waitFor();
    await expect.poll(() => presences(lighthouse)).toBeGreaterThan(0);
    // From where its stream stood when the room read it (the event above, its last): not after the other room's
    // event, which would replay what happened here since.
    expect(subscribesOf(sent, lighthouse)).toEqual([{ sessionId: lighthouse, after: cancelled }]);
    // Nothing of the first room's feed stays on the page either.
    expect(await page.getByText('job finished').count()).toBe(0);
    await event(lighthouse, 'QUEUED');
    await page.getByText('queued a job').first().waitFor();
    expect(await page.getByText('cancelled a job').count()).toBe(0);
    await rooms.close();
  }, 90_000);

  it('a session room misses nothing that happens between its read of the session and its subscription', async () => {
    const owner = await factory.user(app, { tier: 'PRO', prefix: 'quay' });
    const { createSession: { id: quay } } = await gqlData<any>(app.url, 'mutation { createSession(name: "Quay room") { id } }', {}, owner.token);
    const rooms = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: app.url });
    rooms.setDefaultTimeout(20_000);
    const page = await rooms.newPage();
    const { sent } = framesOf(page);
    // The room's read of the session is answered only after a job was queued in the session: the server read it
    // before that event, and the page subscribes after it.
    let queued: string | null = null;
    await page.route('**/graphql', async (route) => {
      if (route.request().postDataJSON()?.operationName !== 'Session' || queued) return route.continue();
      const response = await route.fetch();
      queued = (await outside.publish({
        type: 'QUEUED', at: new Date().toISOString(), jobId: randomUUID(), sessionId: quay, actorId: owner.id, step: 0, totalSteps: 3, queuePosition: 0,
      } as any)).sessionEventId!;
      await route.fulfill({ response });
    });
    await page.goto('/signin');
    await page.evaluate((token) => localStorage.setItem('atelier.token', token), owner.token);
    await page.goto(`/sessions/${quay}`);
    await page.getByRole('heading', { level: 1, name: 'Quay room' }).waitFor();
    // Before, the feed started live when it subscribed, and the job queued meanwhile never showed.
    await page.getByText('queued a job').first().waitFor();
    // Its after is where the stream stood at the read: before any event.
    expect(subscribesOf(sent, quay)).toEqual([{ sessionId: quay, after: '0-0' }]);
    expect(queued).not.toBeNull();
    await rooms.close();
  }, 60_000);
});
