import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { gqlData } from '../support/graphql';
import { ensureClientBuilt, launchChromium, recordProgress, screenshot, signUpInBrowser } from './browser';

// The Batch page in Debian's chromium against a whole Atelier (API + worker).
let app: TestApp;
let browser: Browser;
let context: BrowserContext;
/** Content-Security-Policy violations the page reported (checked empty). */
const cspViolations: string[] = [];

beforeAll(async () => {
  ensureClientBuilt();
  app = await startTestApp({ ATELIER_PREVIEW_EVERY: '2' });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: app.url });
  context.setDefaultTimeout(20_000);
  context.on('console', (message) => {
    if (/CSP violation|Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
});
afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close();
  await app?.close();
});

describe('the Batch page', () => {
  it('a batch of 6 prompts completes with the progress bar reaching 100 %; a matrix shows its grid to download', async () => {
    const page = await context.newPage();
    await page.goto('/signup');
    const email = await signUpInBrowser(page, 'Bea');
    // Six jobs at once need more than FREE's two open jobs (docs/batches.md, "Quotas").
    const [{ id }] = await app.db.query('SELECT id FROM users WHERE email = $1', [email]);
    await factory.updateUser(app, id, { tier: 'ENTERPRISE' });

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Batch' }).click();
    await page.getByRole('heading', { name: 'Batch', exact: true }).waitFor();
    await page.getByLabel('Prompts, one per line').fill(['a red fox', 'a blue whale', 'a green frog', 'a yellow bird', 'a purple cat', 'an orange fish'].join('\n'));
    await page.getByLabel('Width', { exact: true }).fill('64');
    await page.getByLabel('Height', { exact: true }).fill('64');
    await page.getByLabel('Steps', { exact: true }).fill('4');
    await page.getByRole('button', { name: 'Start batch of 6 jobs' }).click();
    await page.getByRole('heading', { name: 'a red fox' }).waitFor({ timeout: 60_000 });
    const seen = await recordProgress(page);
    const bar = page.getByRole('progressbar', { name: 'Batch progress' });
    await expect.poll(() => bar.getAttribute('aria-valuenow'), { timeout: 60_000 }).toBe('100');
    await page.getByText('6 of 6 done').waitFor({ timeout: 60_000 });
    await expect.poll(() => page.locator('.batch-cell img[src*="/files/"]').count(), { timeout: 20_000 }).toBe(6);
    expect(await seen()).toContain(100);
    await screenshot(page, 'batch-6-prompts');

    // A matrix: two prompts × two seeds, finished with a grid to download.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Batch' }).click();
    await page.getByLabel('Matrix').check();
    await page.getByLabel('Rows: prompts, one per line').fill('a castle\na lighthouse');
    await page.getByLabel('Column values (comma-separated)').fill('5, 6');
    await page.getByLabel('Width', { exact: true }).fill('64');
    await page.getByLabel('Height', { exact: true }).fill('64');
    await page.getByLabel('Steps', { exact: true }).fill('2');
    await page.getByRole('button', { name: 'Start batch of 4 jobs' }).click();
    const download = page.getByRole('link', { name: 'Download grid' });
    await download.waitFor({ timeout: 60_000 });
    expect((await fetch(await download.getAttribute('href') ?? '')).headers.get('content-type')).toMatch(/image\/png/);
    await expect.poll(() => page.locator('.batch-grid img').count()).toBe(4);
    await screenshot(page, 'batch-matrix-grid');
    expect(cspViolations).toEqual([]);
  });

  it('a teammate in the session room watches a batch started there reach 6 of 6', async () => {
    const token = async (email: string) => (await gqlData<any>(app.url, 'mutation($e:String!){ login(email:$e, password:"correct horse battery") { token } }', { e: email })).login.token as string;
    // A context of its own: the first test's user is still signed in in the shared one.
    const own = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: app.url });
    own.setDefaultTimeout(20_000);
    const a = await own.newPage();
    await a.goto('/signup');
    const aEmail = await signUpInBrowser(a, 'Cy');
    const [{ id: aId }] = await app.db.query('SELECT id FROM users WHERE email = $1', [aEmail]);
    await factory.updateUser(app, aId, { tier: 'ENTERPRISE' });
    const aToken = await token(aEmail);
    const { createSession } = await gqlData<any>(app.url, 'mutation { createSession(name: "Batch night") { id } }', {}, aToken);
    const { createSessionInvite } = await gqlData<any>(app.url, 'mutation($s:ID!){ createSessionInvite(sessionId:$s, role: WATCHER) { token } }', { s: createSession.id }, aToken);

    const teammate = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: app.url });
    teammate.setDefaultTimeout(20_000);
    try {
      const b = await teammate.newPage();
      await b.goto('/signup');
      const bEmail = await signUpInBrowser(b, 'Dee');
      await gqlData(app.url, 'mutation($t:String!){ joinSession(token:$t) { id } }', { t: createSessionInvite.token }, await token(bEmail));
      await b.goto(`/sessions/${createSession.id}`);
      await b.getByRole('heading', { name: 'Batch night' }).waitFor();

      await a.goto('/batches');
      await a.getByLabel('Prompts, one per line').fill(['one', 'two', 'three', 'four', 'five', 'six'].map((w) => `${w} lantern`).join('\n'));
      await a.getByLabel('Width', { exact: true }).fill('64');
      await a.getByLabel('Height', { exact: true }).fill('64');
      await a.getByLabel('Steps', { exact: true }).fill('4');
      await a.getByLabel('Session (teammates watch it live)').selectOption({ label: 'Batch night' });
      await a.getByRole('button', { name: 'Start batch of 6 jobs' }).click();

      await b.getByRole('heading', { name: 'Batches' }).waitFor({ timeout: 60_000 });
      await b.getByRole('link', { name: '6 of 6 done' }).waitFor({ timeout: 60_000 });
      expect(await b.getByRole('progressbar', { name: 'Batch progress 6 of 6' }).getAttribute('aria-valuenow')).toBe('100');
      await screenshot(b, 'batch-in-session-teammate');
    } finally {
      await teammate.close();
      await own.close();
    }
  });
});
