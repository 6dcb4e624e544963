import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { gqlData, waitFor } from '../support/graphql';
import { ensureClientBuilt, launchChromium, recordProgress, screenshot, signUpInBrowser } from './browser';

// The Video page in Debian's chromium: a Vlog Style clip renders frame by frame and plays inline.
let app: TestApp;
let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  ensureClientBuilt();
  app = await startTestApp({ ATELIER_PREVIEW_EVERY: '2' });
  const admin = await factory.user(app, { role: 'ADMIN' });
  // 90 frames on a CPU in a test: the tiny model at 64 px and 4 steps a frame.
  await gqlData(app.url, 'mutation { updateTierPolicy(tier: FREE, input: { maxVideoSide: 64, maxSteps: 4 }) { maxVideoSide } }', {}, admin.token);
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: app.url });
  context.setDefaultTimeout(20_000);
}, 120_000);
afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close();
  await app?.close();
});

describe('the Video page', () => {
  it('makes a 3 s Vlog Style clip: frame progress with previews, then a <video> that plays for the preset\'s length', async () => {
    const page = await context.newPage();
    await page.goto('/signup');
    await signUpInBrowser(page, 'Vera');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Video' }).click();
    await page.getByRole('heading', { name: 'Video' }).waitFor();
    await page.getByLabel('Prompt').fill('a walk along the beach');
    await page.getByRole('radio', { name: /Vlog Style/ }).check();
    const progress = await recordProgress(page);
    await page.getByRole('button', { name: 'Make video' }).click();
    await page.getByText(/Frame \d+ of 90/).waitFor();
    await page.getByRole('img', { name: /Preview of frame/ }).waitFor();
    await screenshot(page, 'video-01-rendering');
    const video = page.getByLabel(/^Video: a walk along the beach/);
    await video.waitFor({ timeout: 120_000 });
    await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    const duration = await video.evaluate((v: HTMLVideoElement) => v.duration);
    expect(Math.abs(duration - 3)).toBeLessThanOrEqual(1 / 30 + 1e-6);
    expect(await video.evaluate((v: HTMLVideoElement) => v.error)).toBeNull();
    const seen = await progress();
    expect(seen.filter((v) => v > 0 && v < 100).length).toBeGreaterThan(3); // the bar moved frame by frame
    await screenshot(page, 'video-02-playing');
  }, 180_000);

  it('animates an image from its card in History: the clip starts from that image and plays', async () => {
    const page = await context.newPage();
    await page.goto('/history');
    const token = await page.evaluate(() => localStorage.getItem('atelier.token'));
    const { createGeneration } = await gqlData<any>(app.url, 'mutation { createGeneration(input: { prompt: "a red kite", width: 64, height: 64, steps: 3, seed: 4242 }) { id } }', {}, token);
    await waitFor(async () => (await gqlData<any>(app.url, 'query($id: ID!) { job(id: $id) { status } }', { id: createGeneration.id }, token)).job.status === 'COMPLETED');
    await page.reload();
    await page.getByRole('link', { name: /^Animate image 1 of “a red kite”/ }).click();
    await page.getByRole('heading', { name: 'Animate an image' }).waitFor();
    await page.getByRole('img', { name: /The image to animate: a red kite \(seed 4242\)/ }).waitFor();
    await page.getByLabel('Seconds').fill('1');
    await page.getByLabel('Frames per second').fill('8');
    await page.getByRole('button', { name: 'Animate' }).click();
    const video = page.getByLabel(/^Video: a red kite/);
    await video.waitFor({ timeout: 60_000 });
    await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    expect(Math.abs(await video.evaluate((v: HTMLVideoElement) => v.duration) - 1)).toBeLessThanOrEqual(1 / 8 + 1e-6);
    // The clip's card (the only job on this page) records the image's seed.
    expect(await page.locator('article[data-job-id] dd', { hasText: /^4242$/ }).count()).toBe(1);
    await screenshot(page, 'video-03-animated');
  }, 120_000);
});
