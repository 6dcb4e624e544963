import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { gqlData } from '../support/graphql';
import { providerIssuer, startTestProvider, type TestProvider } from '../support/oidc';
import { ensureClientBuilt, launchChromium, screenshot } from './browser';

// Single sign-on as a person does it: Atelier's sign-in page, the provider's own pages, back to Atelier.
let app: TestApp;
let provider: TestProvider;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  ensureClientBuilt();
  const issuer = await providerIssuer();
  app = await startTestApp({
    ATELIER_ROLE: 'api', ATELIER_OIDC_ISSUER: issuer, ATELIER_OIDC_CLIENT_ID: 'atelier-test',
    ATELIER_OIDC_CLIENT_SECRET: 'atelier-test-secret-0123456789', ATELIER_OIDC_NAME: 'Test ID',
  });
  provider = await startTestProvider(issuer, `${app.url}/auth/oidc/callback`, {
    lin: { email: 'lin@sso.example.com', email_verified: true, name: 'Lin' },
    mallory: { email: 'mallory@sso.example.com', email_verified: false, name: 'Mallory' },
  });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await app?.close();
  await provider?.close();
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: app.url });
  context.setDefaultTimeout(20_000);
  contexts.push(context);
  return context.newPage();
}

/** On the provider's development pages: sign in as `login` (any password), then allow Atelier. */
async function signInAtProvider(page: Page, login: string): Promise<void> {
  await page.waitForURL((url) => url.origin === provider.issuer);
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

describe('single sign-on in a real browser', () => {
  it('"Sign in with Test ID" → the provider\'s pages → signed in to Atelier on a new FREE account', async () => {
    const page = await newPage();
    await page.goto('/signin?next=/history');
    await page.getByRole('link', { name: 'Sign in with Test ID' }).waitFor();
    await screenshot(page, 'sso-00-sign-in-page');
    await page.getByRole('link', { name: 'Sign in with Test ID' }).click();
    await signInAtProvider(page, 'lin');
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.getByRole('heading', { name: 'History' }).waitFor();
    // The one-time code left no trace in the address bar or history.
    expect(page.url()).toBe(`${app.url}/history`);
    await screenshot(page, 'sso-01-signed-in');
    const token = await page.evaluate(() => localStorage.getItem('atelier.token'));
    const me = await gqlData<any>(app.url, '{ me { email tier } }', {}, token);
    expect(me.me).toEqual({ email: 'lin@sso.example.com', tier: 'FREE' });
  }, 60_000);

  it('an unverified email at the provider is refused with a clear message', async () => {
    const page = await newPage();
    await page.goto('/signin');
    await page.getByRole('link', { name: 'Sign in with Test ID' }).click();
    await signInAtProvider(page, 'mallory');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toBe('Your email address at Test ID is not verified. Verify it there, then sign in again.');
    await expect(page.getByRole('button', { name: 'Sign out' }).count()).resolves.toBe(0);
    await screenshot(page, 'sso-02-unverified-email');
  }, 60_000);
});
