import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { gqlData } from '../support/graphql';
import { droppableSockets, ensureClientBuilt, launchChromium, screenshot, signUpInBrowser } from './browser';

// A member's Job and Batch pages when the session's owner removes them: the live streams end with FORBIDDEN and
// the pages say so; removed while their WebSocket was down, the streams started again answer NOT_FOUND and the
// pages still say access was lost. A favourite of an image no longer shared can still be taken back. A member (not
// the batch's owner nor the session's) is not offered "Cancel batch". The room of a removed member says they were
// removed.
let app: TestApp;
let browser: Browser;
let member: BrowserContext;

beforeAll(async () => {
  ensureClientBuilt();
  app = await startTestApp();
  browser = await launchChromium();
});
afterAll(async () => {
  await member?.close().catch(() => undefined);
  await browser?.close();
  await app?.close();
});

const login = async (email: string) =>
  (await gqlData<any>(app.url, 'mutation($e:String!){ login(email:$e, password:"correct horse battery") { token } }', { e: email })).login.token as string;

describe('removed from a session', () => {
  it('the Job and Batch pages say live updates stopped; unfavouriting an image no longer shared clears the star', async () => {
    const owner = await factory.user(app, { tier: 'ENTERPRISE' });
    const { createSession } = await gqlData<any>(app.url, 'mutation { createSession(name: "Moodboard") { id } }', {}, owner.token);
    const sessionId = createSession.id as string;
    const { createSessionInvite } = await gqlData<any>(app.url, 'mutation($s:ID!){ createSessionInvite(sessionId:$s, role: COLLABORATOR) { token } }', { s: sessionId }, owner.token);

    // Max: FREE (the smallest query budget), a collaborator in the session.
    member = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: app.url });
    member.setDefaultTimeout(20_000);
    const page = await member.newPage();
    await page.goto('/signup');
    const email = await signUpInBrowser(page, 'Max');
    const maxToken = await login(email);
    const { me } = await gqlData<any>(app.url, '{ me { id } }', {}, maxToken);
    await gqlData(app.url, 'mutation($t:String!){ joinSession(token:$t) { id } }', { t: createSessionInvite.token }, maxToken);

    // A finished image in the session, which Max favourites; then a batch long enough to keep jobs queued.
    const harbour = await factory.job(app, owner, { prompt: 'a quiet harbour', sessionId }, { wait: true });
    await gqlData(app.url, 'mutation($i:ID!){ favoriteImage(imageId:$i) { id } }', { i: harbour.images[0].id }, maxToken);
    const prompts = Array.from({ length: 16 }, (_, i) => `a slow lantern ${i + 1}`);
    const { createBatch } = await gqlData<any>(app.url, 'mutation($input: BatchInput!) { createBatch(input: $input) { id jobs(first: 20) { edges { node { id } } } } }',
      // 1024², 50 steps: its last job is still waiting long after the pages below have loaded (at 256², 30 steps
      // the 16 were done in about a second, and the last job's page had nothing left to stop).
      { input: { name: 'Night lanterns', prompts, width: 1024, height: 1024, steps: 50, sessionId } }, owner.token);
    const lastJob = createBatch.jobs.edges.at(-1).node.id as string;

    // The owner (of the batch and the session) is offered Cancel.
    const ownerContext = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: app.url });
    try {
      const ownerPage = await ownerContext.newPage();
      await ownerPage.goto('/signin');
      await ownerPage.evaluate((token) => localStorage.setItem('atelier.token', token), owner.token);
      await ownerPage.goto(`/batches/${createBatch.id}`);
      await ownerPage.getByRole('button', { name: 'Cancel batch' }).waitFor();
    } finally {
      await ownerContext.close();
    }

    const batchPage = page;
    await batchPage.goto(`/batches/${createBatch.id}`);
    await batchPage.getByRole('heading', { name: 'Night lanterns' }).waitFor();
    await batchPage.getByText(/· running$/).waitFor();
    // Max owns neither the batch nor the session: no Cancel to press (the server would refuse it).
    expect(await batchPage.getByRole('button', { name: 'Cancel batch' }).count()).toBe(0);
    const jobPage = await member.newPage();
    await jobPage.goto(`/jobs/${lastJob}`);
    await jobPage.getByText(/Position \d+ in the queue|Next in the queue/).waitFor();
    const harbourPage = await member.newPage();
    await harbourPage.goto(`/jobs/${harbour.id}`);
    const star = harbourPage.getByRole('button', { name: /^Favourite image 1 of/ });
    await expect.poll(() => star.getAttribute('aria-pressed')).toBe('true');

    await gqlData(app.url, 'mutation($s:ID!, $u:ID!){ removeSessionMember(sessionId:$s, userId:$u) { id } }', { s: sessionId, u: me.id }, owner.token);

    await jobPage.getByRole('alert').filter({ hasText: 'Live updates stopped' }).waitFor();
    await expect(jobPage.getByRole('alert').textContent()).resolves.toContain('no longer have access to this job');
    expect(await jobPage.getByText(/in the queue/).count()).toBe(0);
    expect(await jobPage.getByText('No longer shared').count()).toBe(1);
    await screenshot(jobPage, 'job-page-removed-member');
    await batchPage.getByRole('alert').filter({ hasText: 'Live updates stopped' }).waitFor();
    await expect(batchPage.getByRole('alert').textContent()).resolves.toContain('no longer have access to this batch');
    await batchPage.getByText(/no longer shared with you$/).waitFor();
    await screenshot(batchPage, 'batch-page-removed-member');

    // The favourite is removed though the image is no longer shared (unfavoriteImage answers null): the star clears.
    await star.click();
    await expect.poll(() => star.getAttribute('aria-pressed')).toBe('false');
    await harbourPage.getByRole('status').filter({ hasText: 'no longer shared with you' }).waitFor();
    expect(await app.db.query('SELECT 1 FROM favorites WHERE user_id = $1', [me.id])).toEqual([]);

    // What is left of the queue is withdrawn (it may have finished already).
    await gqlData(app.url, 'mutation($id:ID!){ cancelBatch(id:$id) { id } }', { id: createBatch.id }, owner.token).catch(() => undefined);
  }, 180_000);

  it('removed while the WebSocket was down: the streams started again answer NOT_FOUND and the Job and Batch pages say access was lost', async () => {
    const owner = await factory.user(app, { tier: 'ENTERPRISE' });
    const { createSession } = await gqlData<any>(app.url, 'mutation { createSession(name: "Harbour lights") { id } }', {}, owner.token);
    const sessionId = createSession.id as string;
    const { createSessionInvite } = await gqlData<any>(app.url, 'mutation($s:ID!){ createSessionInvite(sessionId:$s, role: COLLABORATOR) { token } }', { s: sessionId }, owner.token);
    const prompts = Array.from({ length: 16 }, (_, i) => `a drifting buoy ${i + 1}`);
    // As above: 1024², 50 steps keeps the last job queued well after the pages have loaded.
    const { createBatch } = await gqlData<any>(app.url, 'mutation($input: BatchInput!) { createBatch(input: $input) { id jobs(first: 20) { edges { node { id } } } } }',
      { input: { name: 'Buoys at night', prompts, width: 1024, height: 1024, steps: 50, sessionId } }, owner.token);
    const lastJob = createBatch.jobs.edges.at(-1).node.id as string;

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: app.url });
    context.setDefaultTimeout(20_000);
    // The test drops the pages' network (every WebSocket they open is kept).
    const { drop, openSockets } = await droppableSockets(context);
    try {
      const page = await context.newPage();
      await page.goto('/signup');
      const token = await login(await signUpInBrowser(page, 'Noor'));
      const { me } = await gqlData<any>(app.url, '{ me { id } }', {}, token);
      await gqlData(app.url, 'mutation($t:String!){ joinSession(token:$t) { id } }', { t: createSessionInvite.token }, token);

      const batchPage = page;
      await batchPage.goto(`/batches/${createBatch.id}`);
      await batchPage.getByRole('heading', { name: 'Buoys at night' }).waitFor();
      await batchPage.getByText(/· running$/).waitFor();
      const jobPage = await context.newPage();
      await jobPage.goto(`/jobs/${lastJob}`);
      await jobPage.getByText(/Position \d+ in the queue|Next in the queue/).waitFor();
      // Both streams are live over their pages' sockets.
      await expect.poll(() => openSockets(jobPage)).toBeGreaterThan(0);
      await expect.poll(() => openSockets(batchPage)).toBeGreaterThan(0);

      // The network drops; meanwhile the owner removes Noor (no stream of theirs is open to be ended with FORBIDDEN).
      await drop(jobPage, true);
      await drop(batchPage, true);
      await expect.poll(() => openSockets(jobPage)).toBe(0);
      await expect.poll(() => openSockets(batchPage)).toBe(0);
      await gqlData(app.url, 'mutation($s:ID!, $u:ID!){ removeSessionMember(sessionId:$s, userId:$u) { id } }', { s: sessionId, u: me.id }, owner.token);
      // Back online: graphql-ws reconnects and subscribes again, and the server answers NOT_FOUND.
      await drop(jobPage, false);
      await drop(batchPage, false);

      await jobPage.getByRole('alert').filter({ hasText: 'Live updates stopped' }).waitFor();
      // The NOT_FOUND wording (FORBIDDEN, from a stream ended while open, names the session instead).
      await expect(jobPage.getByRole('alert').textContent()).resolves.toContain('no longer have access to this job (it is no longer shared with you, or was deleted)');
      expect(await jobPage.getByText('Job not found').count()).toBe(0);
      expect(await jobPage.getByText(/in the queue/).count()).toBe(0);
      expect(await jobPage.getByText('No longer shared', { exact: true }).count()).toBe(1);
      await screenshot(jobPage, 'job-page-removed-while-offline');
      await batchPage.getByRole('alert').filter({ hasText: 'Live updates stopped' }).waitFor();
      await expect(batchPage.getByRole('alert').textContent()).resolves.toContain('no longer have access to this batch (it is no longer shared with you, or was deleted)');
      expect(await batchPage.getByText('Batch not found').count()).toBe(0);
      await batchPage.getByText(/no longer shared with you$/).waitFor();
      expect(await batchPage.getByRole('button', { name: 'Cancel batch' }).count()).toBe(0);
    } finally {
      await context.close();
      await gqlData(app.url, 'mutation($id:ID!){ cancelBatch(id:$id) { id } }', { id: createBatch.id }, owner.token).catch(() => undefined);
    }
  }, 180_000);

  it('the room says the viewer was removed from the session, by name, with a way back; leaving from the room goes to the list', async () => {
    const owner = await factory.user(app, { tier: 'PRO' });
    const { createSession } = await gqlData<any>(app.url, 'mutation { createSession(name: "Moodboard") { id } }', {}, owner.token);
    const sessionId = createSession.id as string;
    const invite = async () => (await gqlData<any>(app.url, 'mutation($s:ID!){ createSessionInvite(sessionId:$s, role: COLLABORATOR) { token } }',
      { s: sessionId }, owner.token)).createSessionInvite.token as string;

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: app.url });
    context.setDefaultTimeout(20_000);
    try {
      const page = await context.newPage();
      await page.goto('/signup');
      const email = await signUpInBrowser(page, 'Rui');
      const token = await login(email);
      const { me } = await gqlData<any>(app.url, '{ me { id } }', {}, token);
      await gqlData(app.url, 'mutation($t:String!){ joinSession(token:$t) { id } }', { t: await invite() }, token);

      // In the room, its feed live (the viewer shows online: their presence came through the feed).
      const openRoom = async () => {
        await page.goto(`/sessions/${sessionId}`);
        await page.getByRole('heading', { level: 1, name: 'Moodboard' }).waitFor();
        await page.locator(`.members li[data-user-id="${me.id}"] .presence.online`).waitFor();
      };
      await openRoom();
      await gqlData(app.url, 'mutation($s:ID!, $u:ID!){ removeSessionMember(sessionId:$s, userId:$u) { id } }', { s: sessionId, u: me.id }, owner.token);

      // Their own MEMBER_LEFT ends the feed: the page says what happened, not that the link is bad.
      await page.getByRole('heading', { level: 1, name: 'You were removed from Moodboard' }).waitFor();
      expect(await page.getByText('Session not found').count()).toBe(0);
      expect(await page.getByRole('heading', { level: 1 }).count()).toBe(1);
      const back = page.getByRole('link', { name: 'Back to your sessions' });
      expect(await back.getAttribute('href')).toBe('/sessions');
      await screenshot(page, 'session-room-removed');
      await back.click();
      await page.waitForURL(/\/sessions$/);

      // Back in, then leaving from the room: that MEMBER_LEFT is theirs too, but no removal: the page goes to the list.
      await gqlData(app.url, 'mutation($t:String!){ joinSession(token:$t) { id } }', { t: await invite() }, token);
      await openRoom();
      await page.getByRole('button', { name: 'Leave' }).click();
      await page.waitForURL(/\/sessions$/);
      await page.getByRole('heading', { level: 1, name: 'Sessions' }).waitFor();
      expect(await page.getByRole('heading', { name: /You were removed/ }).count()).toBe(0);
    } finally {
      await context.close();
    }
  }, 120_000);
});
