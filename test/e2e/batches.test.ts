import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
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
});
