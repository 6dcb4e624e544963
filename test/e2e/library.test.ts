import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { ensureClientBuilt, launchChromium, screenshot, signUpInBrowser } from './browser';

// Curating in a real browser: prompt suggestions, presets, albums, favourites, share links, admin.
let app: TestApp;
let browser: Browser;
const contexts: BrowserContext[] = [];
const ADMIN = { email: 'admin@atelier.test', password: 'admin password 123' };

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: app.url });
  context.setDefaultTimeout(20_000);
  contexts.push(context);
  return context.newPage();
}

beforeAll(async () => {
  ensureClientBuilt();
  app = await startTestApp({ ATELIER_ADMIN_EMAIL: ADMIN.email, ATELIER_ADMIN_PASSWORD: ADMIN.password });
  browser = await launchChromium();
});
afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await app?.close();
});

describe('the library in a real browser', () => {
  it('suggests prompt phrases, shows what a preset applies, and curates the result into a shared album', async () => {
    const page = await newPage();
    await page.goto('/signup');
    await signUpInBrowser(page, 'Cleo');

    await page.getByRole('link', { name: 'Albums' }).click();
    await page.getByText('No albums yet').waitFor();
    await page.getByLabel('Name').fill('Lighthouses');
    await page.getByRole('button', { name: 'Create album' }).click();
    await page.getByRole('heading', { name: 'Lighthouses' }).waitFor();
    await page.getByText('This album is empty').waitFor();

    await page.getByRole('link', { name: 'Generate' }).click();
    // Autocomplete by keyboard: type a fragment, arrow down, Enter.
    const prompt = page.getByRole('combobox', { name: 'Prompt' });
    await prompt.fill('a lighthouse, cinem');
    await page.getByRole('listbox', { name: 'Prompt suggestions' }).getByRole('option').first().waitFor();
    await prompt.press('ArrowDown');
    await prompt.press('Enter');
    const value = await prompt.inputValue();
    expect(value).toMatch(/^a lighthouse, cinem\S*.*, $/i);
    expect(value).not.toContain('cinem,');

    await page.getByLabel('Style preset').selectOption({ label: 'Cinematic Portrait' });
    const applies = page.locator('#preset-applies');
    await expect(applies.textContent()).resolves.toContain('cinematic lighting, dramatic shadows');
    await expect(applies.textContent()).resolves.toContain('768 × 1024');
    // The preset's size is over the FREE limit: it is fitted to the tier (aspect kept), and the form says so.
    await expect(page.getByLabel('Width (px)').inputValue()).resolves.toBe('576');
    await expect(page.getByLabel('Height (px)').inputValue()).resolves.toBe('768');
    await expect(page.locator('#preset-fitted').textContent()).resolves.toContain('576 × 768 instead of 768 × 1024');
    await expect(page.locator('#height-error').count()).resolves.toBe(0);
    await screenshot(page, '09-preset-and-suggestions');
    await page.getByLabel('Common sizes').selectOption('256x256');
    await page.getByLabel('Steps').fill('8');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();

    const card = page.locator('.job-card').first();
    await card.locator('img[alt^="Generated image"]').waitFor();
    await expect(card.locator('.job-prompt').textContent()).resolves.toContain('cinematic lighting');
    await card.getByRole('button', { name: /^Favourite/ }).click();
    await expect.poll(() => card.getByRole('button', { name: /^Favourite/ }).getAttribute('aria-pressed')).toBe('true');
    await card.getByLabel('Add to album').selectOption({ label: 'Lighthouses' });
    await card.getByRole('status').getByRole('link', { name: 'Lighthouses' }).click();

    await page.getByRole('heading', { name: 'Lighthouses' }).waitFor();
    // The album's images load after its heading; wait for them, then count.
    await page.locator('.gallery img').first().waitFor();
    await expect(page.locator('.gallery img').count()).resolves.toBe(1);
    await page.getByRole('button', { name: 'Create share link' }).click();
    const link = await page.getByLabel('Read-only link (shown once)').inputValue();
    await screenshot(page, '10-album');

    // Anyone with the link sees the album, without an account.
    const stranger = await newPage();
    await stranger.goto(link);
    await stranger.getByRole('heading', { name: 'Lighthouses' }).waitFor();
    await stranger.locator('.gallery img').first().waitFor();
    await expect(stranger.getByRole('button', { name: 'Sign out' }).count()).resolves.toBe(0);

    await page.getByRole('link', { name: 'Favourites' }).click();
    await page.locator('.gallery img').first().waitFor();
    await page.getByRole('link', { name: 'History' }).click();
    await page.locator('.job-card img[alt^="Generated image"]').first().waitFor();
    await screenshot(page, '11-history');
  }, 60_000);

  it('shows an admin the queue, workers and users, and lets them change a tier', async () => {
    const page = await newPage();
    await page.goto('/signin');
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { name: 'Queue and jobs' }).waitFor();
    await page.getByRole('heading', { name: 'Workers' }).waitFor();
    // The Users table (the audit log below it names Cleo too).
    const users = page.getByRole('region', { name: 'Users' });
    const row = users.getByRole('row', { name: /cleo/i });
    await row.waitFor();
    await row.getByLabel(/^Tier of/).selectOption('PRO');
    await screenshot(page, '12-admin');
    await page.reload();
    await expect(users.getByRole('row', { name: /cleo/i }).getByLabel(/^Tier of/).inputValue()).resolves.toBe('PRO');
  });
});
