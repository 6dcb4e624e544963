import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { User } from '../../src/entities';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { paletteImage } from '../support/training';
import { ensureClientBuilt, launchChromium, screenshot, signUpInBrowser } from './browser';

// A PRO user trains a LoRA in a real browser: drop images, caption them, start a run, watch the loss, use the LoRA.
let app: TestApp;
let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  ensureClientBuilt();
  app = await startTestApp({ ATELIER_TRAINER_ENCODING_ITERATIONS: '10' });
  browser = await launchChromium();
});
afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close();
  await app?.close();
});

describe('training in a real browser', () => {
  it('drops 8 images, captions one inline, trains, watches the loss chart grow live and generates with the LoRA', async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: app.url });
    context.setDefaultTimeout(30_000);
    const page = await context.newPage();
    await page.goto('/signup');
    const email = await signUpInBrowser(page, 'Tess');
    const user = await app.db.getRepository(User).findOneByOrFail({ email });
    await factory.updateUser(app, user.id, { tier: 'PRO' });

    await page.goto('/training');
    await page.getByLabel('Dataset name').fill('Teal studies');
    await page.getByRole('button', { name: 'Create dataset' }).click();
    await page.getByRole('heading', { name: /Teal studies/ }).waitFor();
    await expect(page.locator('#training-limits').textContent()).resolves.toContain('up to 2000 steps');

    const files = await Promise.all(Array.from({ length: 8 }, async (_, i) => ({
      name: `teal_texture_${i + 1}.png`, b64: (await paletteImage('png', [20, 160, 150], 64, i + 1)).toString('base64'),
    })));
    const dataTransfer = await page.evaluateHandle((list) => {
      const dt = new DataTransfer();
      for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name, { type: 'image/png' }));
      return dt;
    }, files);
    await page.dispatchEvent('[data-testid=dropzone]', 'drop', { dataTransfer });
    await expect.poll(() => page.getByRole('list', { name: 'Images' }).getByRole('listitem').count(), { timeout: 30_000 }).toBe(8);
    expect(await page.getByRole('progressbar', { name: /^Uploading teal_texture_/ }).count()).toBe(8);
    const caption = page.getByLabel('Caption of image 1');
    await expect(caption.inputValue()).resolves.toBe('teal texture 1');
    await caption.fill('a teal texture, close up');
    await caption.blur();
    await expect.poll(async () => (await app.services.datasets.images((await app.services.datasets.list(user as never)).nodes[0].id))[0].caption).toBe('a teal texture, close up');
    await screenshot(page, '20-training-dataset');

    await page.getByLabel('LoRA name').fill('teal');
    await page.getByLabel('Steps').fill('40');
    await page.getByLabel('Save every').fill('20');
    await page.getByLabel('Sample prompt').fill('a teal texture');
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.waitForURL(/\/training\/runs\//);
    const runId = new URL(page.url()).pathname.split('/').at(-1)!;

    // The chart plots the evaluation loss (the same images, timesteps and noise each time), point by point as EVALUATION events arrive.
    const chart = page.locator('svg.loss-chart[data-series="evaluation loss"]');
    await chart.waitFor({ timeout: 150_000 });
    const firstPoints = Number(await chart.getAttribute('data-points'));
    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 150_000 }).toBe('COMPLETED');
    // Step 0 (the base model), every 10 steps and the save points: 0, 10, 20, 30, 40.
    await expect.poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 30_000 }).toBe(5);
    expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThan(firstPoints);
    // And it falls: the line ends below where it starts (SVG y grows downwards), from the initial loss to the final one, well lower.
    const plotted = (await chart.locator('polyline').getAttribute('points'))!.split(' ').map((xy) => xy.split(',').map(Number));
    expect(plotted).toHaveLength(5);
    expect(plotted.at(-1)![1]).toBeGreaterThan(plotted[0][1]);
    const [first, last] = (await chart.getAttribute('aria-label'))!.match(/first ([\d.]+), last ([\d.]+)/)!.slice(1).map(Number);
    expect(last).toBeLessThan(first * 0.7);
    await expect(page.getByText(/^Final loss/).textContent()).resolves.toContain(`Final loss ${last.toFixed(4)}`);
    // The comparison gallery: the same prompt and seed, base model then each checkpoint, side by side.
    const gallery = page.getByRole('table', { name: /^Comparison/ });
    await expect.poll(() => gallery.getByRole('columnheader').allTextContents(), { timeout: 30_000 }).toEqual(['Prompt', 'Base model', 'Step 20', 'Step 40']);
    const row = gallery.getByRole('row', { name: /a teal texture/ });
    expect(await row.getByRole('img').evaluateAll((imgs) => imgs.map((i) => i.getAttribute('alt')))).toEqual([
      'Sample at step 0: a teal texture', 'Sample at step 20: a teal texture', 'Sample at step 40: a teal texture',
    ]);
    await expect.poll(() => row.getByRole('img').evaluateAll((imgs) => imgs.every((i) => (i as HTMLImageElement).naturalWidth > 0)), { timeout: 30_000 }).toBe(true);
    await screenshot(page, '21-training-run');

    await page.getByRole('button', { name: 'Use this LoRA' }).click();
    await page.getByRole('group', { name: 'LoRAs' }).getByText('teal', { exact: true }).waitFor();
    await page.getByRole('combobox', { name: 'Prompt' }).fill('a teal texture');
    await page.getByLabel('Common sizes').selectOption('256x256');
    await page.getByLabel('Steps').fill('4');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await page.locator('.job-card').first().locator('img[alt^="Generated image"]').waitFor({ timeout: 60_000 });

    // The gallery is kept with the run (TrainingRun.samples): with the run's events gone from Redis (expired, or
    // the installation moved), the run page still shows every save point.
    await app.redis.del(`${app.env.ATELIER_REDIS_PREFIX}:events:training:${runId}`);
    await page.goto(`/training/runs/${runId}`);
    const kept = page.getByRole('table', { name: /^Comparison/ });
    await expect.poll(() => kept.getByRole('columnheader').allTextContents(), { timeout: 30_000 }).toEqual(['Prompt', 'Base model', 'Step 20', 'Step 40']);
    await expect.poll(() => kept.getByRole('img').evaluateAll((imgs) => imgs.every((i) => (i as HTMLImageElement).naturalWidth > 0)), { timeout: 30_000 }).toBe(true);
    // So are its LoRA and final loss (from TrainingRun.lora), with the button that uses it.
    await expect(page.getByText(/^Final loss/).textContent()).resolves.toContain(`Final loss ${last.toFixed(4)}`);
    await page.getByRole('button', { name: 'Use this LoRA' }).waitFor({ timeout: 30_000 });
  }, 300_000);
});
