import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { gqlData, waitFor } from '../support/graphql';
import { VIDEO_LIMITS as CLIENT_VIDEO_LIMITS } from '../../client/src/lib/limits';
import { VIDEO_LIMITS } from '../../src/kernel/generation-parameters';
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

  it('keeps the client\'s copy of the clip limits equal to the server\'s', () => {
    expect(CLIENT_VIDEO_LIMITS).toEqual(VIDEO_LIMITS);
  });

  it('says what is wrong under each field in its label\'s words, with the tier\'s limits (no API identifiers)', async () => {
    const own = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: app.url });
    own.setDefaultTimeout(20_000);
    try {
      const page = await own.newPage();
      await page.goto('/signup');
      await signUpInBrowser(page, 'Teo');
      const token = await page.evaluate(() => localStorage.getItem('atelier.token'));
      const { usage } = await gqlData<any>(app.url, '{ usage { limits { maxVideoSeconds maxVideoFps } } }', {}, token);
      const { maxVideoSeconds, maxVideoFps } = usage.limits as { maxVideoSeconds: number; maxVideoFps: number };
      expect(maxVideoSeconds).toBeLessThan(VIDEO_LIMITS.durationSeconds.max); // FREE: the tier is the narrower limit
      const creates: string[] = [];
      page.on('request', (request) => {
        if (request.method() === 'POST' && new URL(request.url()).pathname === '/graphql' && request.postDataJSON()?.operationName === 'CreateVideo') creates.push('CreateVideo');
      });
      await page.goto('/video');
      await page.getByRole('heading', { name: 'Video' }).waitFor();
      await page.getByText(`Up to ${maxVideoSeconds} s on your tier`).waitFor();
      const seconds = page.getByLabel('Seconds');
      // The inputs carry the tier's maxima that the hints state.
      expect(await seconds.getAttribute('max')).toBe(String(maxVideoSeconds));
      expect(await page.getByLabel('Frames per second').getAttribute('max')).toBe(String(maxVideoFps));

      // Too long for the hard limit as for the tier: said with the label's word and the tier's range, before anything is sent.
      await page.getByLabel('Prompt').fill('a lighthouse at dusk');
      await seconds.fill('600');
      await page.getByRole('button', { name: 'Make video' }).click();
      const secondsError = page.locator('#durationSeconds-error');
      await expect.poll(() => secondsError.textContent()).toBe(`Seconds must be from 0.5 to ${maxVideoSeconds} on your tier.`);
      expect(await seconds.getAttribute('aria-invalid')).toBe('true');
      expect(await seconds.getAttribute('aria-describedby')).toContain('durationSeconds-error');
      await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('durationSeconds');
      await screenshot(page, 'video-04-too-long');
      // Within the hard limit but beyond the tier's, and a fractional frame rate: both flagged.
      await seconds.fill(String(maxVideoSeconds + 1));
      await page.getByLabel('Frames per second').fill('2.5');
      await page.getByRole('button', { name: 'Make video' }).click();
      await expect.poll(() => page.locator('#fps-error').textContent()).toBe(`Frames per second must be a whole number from 1 to ${maxVideoFps} on your tier.`);
      await expect(secondsError.textContent()).resolves.toBe(`Seconds must be from 0.5 to ${maxVideoSeconds} on your tier.`);
      expect(creates).toEqual([]);

      // A refusal from the server under a field names it by its label too: no prompt is "Prompt is required", not "prompt …".
      await seconds.fill('1');
      await page.getByLabel('Frames per second').fill('8');
      await page.getByLabel('Prompt').fill('');
      await page.getByRole('button', { name: 'Make video' }).click();
      const promptError = page.locator('#prompt-error');
      await expect.poll(() => promptError.textContent()).toBe('Prompt is required');
      expect(creates).toEqual(['CreateVideo']);
      expect(await page.locator('#durationSeconds-error').count()).toBe(0);
      expect(await page.locator('.field-error').allTextContents()).not.toEqual(expect.arrayContaining([expect.stringMatching(/durationSeconds|fps|prompt /)]));
    } finally {
      await own.close();
    }
  }, 60_000);
});
