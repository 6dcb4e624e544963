import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { gqlData } from '../support/graphql';
import { ensureClientBuilt, launchChromium, screenshot, signUpInBrowser } from './browser';

// The Batch pages for a FREE user, whose query cost budget (5000, src/database/reference-data.ts) is the
// smallest: every batch operation of the client has to fit it (a batch's jobs come a page at a time).
let app: TestApp;
let browser: Browser;
let context: BrowserContext;
/** Responses the API refused with QUERY_TOO_COMPLEX (checked empty). */
const tooComplex: string[] = [];

/** Notes every answer of the API that refused a request as over the cost budget. */
function watchCost(ctx: BrowserContext): void {
  ctx.on('response', async (response) => {
    if (!response.url().endsWith('/graphql') || response.status() !== 400) return;
    const text = await response.text().catch(() => '');
    if (text.includes('QUERY_TOO_COMPLEX')) tooComplex.push(text);
  });
}

beforeAll(async () => {
  ensureClientBuilt();
  app = await startTestApp({ ATELIER_PREVIEW_EVERY: '2' });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: app.url });
  context.setDefaultTimeout(20_000);
  watchCost(context);
});
afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close();
  await app?.close();
});

const userId = async (email: string) => (await app.db.query('SELECT id FROM users WHERE email = $1', [email]))[0].id as string;
const login = async (email: string) =>
  (await gqlData<any>(app.url, 'mutation($e:String!){ login(email:$e, password:"correct horse battery") { token } }', { e: email })).login.token as string;

describe('batches on the FREE tier', () => {
  it('a FREE user starts a batch of 2 and watches it finish on its page', async () => {
    const page = await context.newPage();
    await page.goto('/signup');
    await signUpInBrowser(page, 'Fern');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Batch' }).click();
    await page.getByLabel('Prompts, one per line').fill('a cat\na dog');
    await page.getByLabel('Width', { exact: true }).fill('64');
    await page.getByLabel('Height', { exact: true }).fill('64');
    await page.getByLabel('Steps', { exact: true }).fill('2');
    await page.getByRole('button', { name: 'Start batch of 2 jobs' }).click();
    await page.waitForURL(/\/batches\/[0-9a-f-]{36}$/, { timeout: 30_000 });
    await page.getByRole('heading', { name: 'a cat' }).waitFor();
    await page.getByText('2 of 2 done').waitFor({ timeout: 60_000 });
    await expect.poll(() => page.locator('.batch-cell img[src*="/files/"]').count(), { timeout: 20_000 }).toBe(2);
    // Opened afresh (a reload) it loads too, as the owner's Cancel is gone with the batch over.
    await page.reload();
    await page.getByText('2 of 2 done').waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    await screenshot(page, 'batch-free-2');
    expect(tooComplex).toEqual([]);
    await page.close();
  }, 120_000);

  it('a FREE user opens a batch of 30 jobs: its jobs come a page at a time, every cell fills', async () => {
    // 30 open jobs at once need a larger tier: the batch is started on ENTERPRISE (raised to 40 open jobs),
    // then the owner goes back to FREE and opens it.
    const admin = await factory.user(app, { role: 'ADMIN' });
    await gqlData(app.url, 'mutation { updateTierPolicy(tier: ENTERPRISE, input: { maxOpenJobs: 40 }) { tier } }', {}, admin.token);
    // A context of its own: the first test's user is still signed in in the shared one.
    const own = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: app.url });
    own.setDefaultTimeout(20_000);
    watchCost(own);
    const page = await own.newPage();
    await page.goto('/signup');
    const email = await signUpInBrowser(page, 'Gus');
    const id = await userId(email);
    await factory.updateUser(app, id, { tier: 'ENTERPRISE' });
    const prompts = Array.from({ length: 30 }, (_, i) => `lantern number ${i + 1}`);
    const { createBatch } = await gqlData<any>(app.url, 'mutation($input: BatchInput!) { createBatch(input: $input) { id } }',
      { input: { name: 'Thirty lanterns', prompts, width: 64, height: 64, steps: 1 } }, await login(email));
    await factory.updateUser(app, id, { tier: 'FREE' });

    await page.goto(`/batches/${createBatch.id}`);
    await page.getByRole('heading', { name: 'Thirty lanterns' }).waitFor();
    // The 26th to 30th jobs are on the second page, fetched after the first.
    await expect.poll(() => page.locator('.batch-cell').count(), { timeout: 20_000 }).toBe(30);
    await page.getByText('30 of 30 done').waitFor({ timeout: 120_000 });
    // Each job's image, on either page, once it finished.
    await expect.poll(() => page.locator('.batch-cell img[src*="/files/"]').count(), { timeout: 30_000 }).toBe(30);
    await expect.poll(() => page.getByRole('img', { name: 'lantern number 30' }).count()).toBe(1);
    expect(await page.getByRole('alert').count()).toBe(0);
    await screenshot(page, 'batch-free-30');
    expect(tooComplex).toEqual([]);
    await own.close();
  }, 240_000);
});
