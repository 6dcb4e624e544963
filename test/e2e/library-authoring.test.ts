import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERATION_LIMITS as CLIENT_LIMITS } from '../../client/src/lib/limits';
import { AiModel } from '../../src/entities';
import { GENERATION_LIMITS } from '../../src/kernel/generation-parameters';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { ensureClientBuilt, launchChromium, recordProgress, screenshot, signUpInBrowser } from './browser';

// Authoring the library in a real browser: LoRA uploads (with the real /uploads
// and registerLora checks), custom presets, and the prompt tools in Generate.
let app: TestApp;
let browser: Browser;
let page: Page;
const contexts: BrowserContext[] = [];

async function newPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
  const context = await browser.newContext({ viewport, baseURL: app.url });
  context.setDefaultTimeout(20_000);
  contexts.push(context);
  const next = await context.newPage();
  // Deleting and deactivating ask for confirmation; the tests say yes.
  next.on('dialog', (dialog) => void dialog.accept());
  return next;
}

const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
const fileField = () => page.getByLabel('LoRA file (.safetensors)');
const safetensors = (name: string, buffer: Buffer) => ({ name, mimeType: 'application/octet-stream', buffer });

beforeAll(async () => {
  ensureClientBuilt();
  app = await startTestApp();
  browser = await launchChromium();
  page = await newPage();
  await page.goto('/signup');
  await signUpInBrowser(page, 'Lena');
});
afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await app?.close();
});

describe('authoring the library in a real browser', () => {
  it('uploads a LoRA, lists it, generates with it, explains refused files, deactivates and publishes it', async () => {
    await nav('LoRAs').click();
    await page.getByRole('heading', { name: 'LoRAs', level: 1 }).waitFor();
    await page.getByText('No LoRAs yet').waitFor();

    await fileField().setInputFiles(safetensors('Watercolor_wash.safetensors', await factory.loraFile(app)));
    await expect(page.getByLabel('Name', { exact: true }).inputValue()).resolves.toBe('Watercolor wash');
    await page.getByLabel('Trigger words (optional)').fill('wcwash, soft wash');
    await page.getByLabel('Default weight').fill('0.8');
    const progressSeen = await recordProgress(page);
    await page.getByRole('button', { name: 'Upload and register' }).click();
    await page.getByRole('status').filter({ hasText: '“Watercolor wash” version 1 is registered' }).waitFor();
    // The upload bar showed and ended full (a file this small goes in one progress event).
    await expect(progressSeen()).resolves.toContain(100);
    const row = page.getByRole('row', { name: /Watercolor wash/ });
    await expect(row.textContent()).resolves.toMatch(/v1.*atelier-tiny.*wcwash, soft wash.*0\.80.*FREE.*Active/);
    await screenshot(page, '13-loras');

    // Garbage with the right extension, then a LoRA whose shapes do not fit the model: both refused on the file field.
    await fileField().setInputFiles(safetensors('broken.safetensors', Buffer.from('this is not a safetensors file at all')));
    await page.getByRole('button', { name: 'Upload and register' }).click();
    const fileError = page.locator('#lora-file-error');
    await expect.poll(() => fileError.textContent()).toMatch(/^This is not a LoRA in safetensors format \(.*header.*\)\. Choose the \.safetensors file/);
    await expect(fileField().getAttribute('aria-invalid')).resolves.toBe('true');
    await screenshot(page, '14-lora-refused');
    await fileField().setInputFiles(safetensors('misfit.safetensors', await factory.loraFile(app, { badShape: true })));
    await expect(fileError.count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Upload and register' }).click();
    await expect.poll(() => fileError.textContent()).toMatch(/^This LoRA does not fit atelier-tiny: Layer .* in the LoRA but .* in atelier-tiny\. Choose the base model/);

    await nav('Generate').click();
    await page.getByRole('combobox', { name: 'Prompt' }).fill('a lighthouse at dusk');
    await page.getByLabel('Add a LoRA').selectOption({ label: 'Watercolor wash' });
    await expect(page.getByLabel('Weight of Watercolor wash').inputValue()).resolves.toBe('0.8');
    await page.getByLabel('Common sizes').selectOption('256x256');
    await page.getByLabel('Steps').fill('4');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const card = page.locator('.job-card').first();
    await card.locator('img[alt^="Generated image"]').waitFor({ timeout: 30_000 });
    await expect(card.textContent()).resolves.toContain('Watercolor wash ×0.8');

    await nav('LoRAs').click();
    await page.getByRole('button', { name: 'Deactivate Watercolor wash v1' }).click();
    await page.getByRole('row', { name: /Watercolor wash/ }).getByText('Inactive').waitFor();
    await page.getByRole('button', { name: 'Activate Watercolor wash v1' }).waitFor();

    // An editor's upload is theirs until published (docs/security.md, "Private LoRAs").
    await page.getByRole('row', { name: /Watercolor wash/ }).getByText('Private', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Publish Watercolor wash v1' }).click();
    await page.getByRole('row', { name: /Watercolor wash/ }).getByText('Public', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Make private Watercolor wash v1' }).waitFor();
  }, 60_000);

  it('checks forms in the browser against the server\'s own generation limits', () => {
    // The client is built apart and keeps a copy of the table (client/src/lib/limits.ts): it must not drift.
    for (const [name, limit] of Object.entries(CLIENT_LIMITS)) {
      expect(limit, name).toEqual(GENERATION_LIMITS[name as keyof typeof GENERATION_LIMITS]);
    }
  });

  it('creates a preset (field errors explained), previews it in Generate, edits and deletes it; built-ins stay read-only', async () => {
    await nav('Presets').click();
    await page.getByRole('heading', { name: 'Image presets' }).waitFor();
    await page.getByRole('heading', { name: 'Cinematic Portrait' }).waitFor();
    await expect(page.getByRole('button', { name: 'Edit Cinematic Portrait' }).count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: 'Delete Cinematic Portrait' }).count()).resolves.toBe(0);

    // Every bad field is flagged at once, in the browser, and nothing goes to the server until all are right.
    const presetWrites: string[] = [];
    page.on('request', (request) => {
      const operation = request.method() === 'POST' ? request.postDataJSON()?.operationName : undefined;
      if (operation === 'CreatePreset' || operation === 'UpdatePreset') presetWrites.push(operation);
    });
    const field = (id: string) => page.locator(`#preset-${id}`);
    const errorOf = (id: string) => page.locator(`#preset-${id}-error`);
    const focused = () => page.evaluate(() => document.activeElement?.id);
    await page.getByLabel('Preset name').fill('Neon noir');
    await page.getByLabel('Category').selectOption('VIDEO');
    await page.getByLabel('Template').fill('neon noir city, rain');
    await page.getByLabel('Width (px)').fill('5');
    await page.getByLabel('Steps').fill('1000');
    await page.getByLabel('Guidance (CFG)').fill('31');
    await page.getByLabel('Frames per second').fill('0');
    await page.getByLabel('Length (s)').fill('121');
    await page.getByRole('button', { name: 'Create preset' }).click();
    await expect.poll(() => errorOf('template').textContent()).toContain('{prompt}');
    await expect(errorOf('width').textContent()).resolves.toMatch(/64 to 2048.*multiple of 8/);
    await expect(errorOf('steps').textContent()).resolves.toContain('1 to 150');
    await expect(errorOf('guidanceScale').textContent()).resolves.toContain('1 to 30');
    await expect(errorOf('fps').textContent()).resolves.toContain('1 to 120');
    await expect(errorOf('durationSeconds').textContent()).resolves.toContain('0.5 to 120');
    for (const id of ['template', 'width', 'steps', 'guidanceScale', 'fps', 'durationSeconds']) {
      await expect(field(id).getAttribute('aria-invalid'), id).resolves.toBe('true');
      await expect(field(id).getAttribute('aria-describedby'), id).resolves.toContain(`preset-${id}-error`);
    }
    for (const id of ['name', 'height']) await expect(errorOf(id).count(), id).resolves.toBe(0);
    await expect(focused()).resolves.toBe('preset-template');
    await screenshot(page, '15-preset-checked');

    // Fixed in part (and no longer a video preset: its frame rate and length are not sent, so not checked): the rest stays flagged.
    await page.getByLabel('Preset name').fill(' ');
    await page.getByLabel('Category').selectOption('IMAGE');
    await page.getByLabel('Template').fill('neon noir city, {prompt}, rain');
    await page.getByLabel('Width (px)').fill('100');
    await page.getByRole('button', { name: 'Create preset' }).click();
    await expect.poll(() => errorOf('name').textContent()).toContain('name');
    await expect(errorOf('width').textContent()).resolves.toContain('multiple of 8');
    await expect(errorOf('steps').count()).resolves.toBe(1);
    await expect(errorOf('guidanceScale').count()).resolves.toBe(1);
    await expect(errorOf('template').count()).resolves.toBe(0);
    await expect(focused()).resolves.toBe('preset-name');
    expect(presetWrites).toEqual([]);
    await expect(page.getByRole('heading', { name: 'Neon noir' }).count()).resolves.toBe(0);

    // Right in the browser, refused by the server: its words still show under the field it names.
    await page.getByLabel('Preset name').fill('Neon noir');
    await page.getByLabel('Width (px)').fill('256');
    await page.getByLabel('Height (px)').fill('256');
    await page.getByLabel('Steps').fill('6');
    await page.getByLabel('Guidance (CFG)').fill('');
    await page.getByLabel('Model').selectOption({ label: 'atelier-tiny' });
    const models = app.db.getRepository(AiModel);
    await models.update({ name: 'atelier-tiny' }, { enabled: false });
    try {
      await page.getByRole('button', { name: 'Create preset' }).click();
      await expect.poll(() => errorOf('model').textContent()).toBe('Model atelier-tiny is disabled');
    } finally {
      await models.update({ name: 'atelier-tiny' }, { enabled: true });
    }
    await expect(field('model').getAttribute('aria-invalid')).resolves.toBe('true');
    expect(presetWrites).toEqual(['CreatePreset']);
    await page.getByLabel('Model').selectOption({ label: 'Default model' });
    await page.getByLabel('Sampler').selectOption({ label: 'DPM++ 2M' });
    await page.getByRole('button', { name: 'Create preset' }).click();
    await page.getByRole('status').filter({ hasText: 'Created “Neon noir”.' }).waitFor();
    const mine = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Neon noir' }) });
    await expect(mine.textContent()).resolves.toMatch(/Yours.*neon noir city, your prompt, rain.*256 × 256 · 6 steps/);
    await screenshot(page, '15-presets');

    await page.getByRole('button', { name: 'Use Neon noir in Generate' }).click();
    await page.getByRole('heading', { name: 'Generate' }).waitFor();
    await page.getByRole('combobox', { name: 'Prompt' }).fill('a fox');
    await expect.poll(() => page.locator('#preset-applies').textContent()).toContain('neon noir city, a fox, rain');
    await expect(page.locator('#preset-applies').textContent()).resolves.toContain('Sets 256 × 256, 6 steps. Fields you change');
    await expect(page.getByLabel('Width (px)').inputValue()).resolves.toBe('256');
    await screenshot(page, '16-preset-preview');

    await nav('Presets').click();
    await page.getByRole('button', { name: 'Edit Neon noir' }).click();
    await page.getByRole('heading', { name: 'Edit “Neon noir”' }).waitFor();
    await expect(page.getByLabel('Preset name').evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await expect(page.getByLabel('Sampler').inputValue()).resolves.toBe('DPMPP_2M');
    await page.getByLabel('Template').fill('{prompt}, neon noir, heavy rain');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved “Neon noir”.' }).waitFor();
    await expect.poll(() => mine.textContent()).toContain('your prompt, neon noir, heavy rain');
    // updatePreset replaced the whole preset with the form's values, which kept the size and the sampler it had.
    await expect(mine.textContent()).resolves.toContain('256 × 256');
    expect((await app.db.query(`SELECT sampler FROM presets WHERE name = 'Neon noir'`))[0].sampler).toBe('DPMPP_2M');

    await page.getByRole('button', { name: 'Delete Neon noir' }).click();
    await page.getByRole('status').filter({ hasText: 'Deleted “Neon noir”.' }).waitFor();
    await expect.poll(() => page.getByRole('heading', { name: 'Neon noir' }).count()).toBe(0);
  }, 30_000);

  it('enhances a prompt with an undo, and suggests a random one', async () => {
    await nav('Generate').click();
    const prompt = page.getByRole('combobox', { name: 'Prompt' });
    await prompt.fill('a quiet harbour');
    await page.getByRole('button', { name: 'Enhance prompt' }).click();
    await expect.poll(() => prompt.inputValue()).toMatch(/^a quiet harbour, .+/);
    await page.getByText('Before: “a quiet harbour”').waitFor();
    await screenshot(page, '17-enhanced-prompt');
    await page.getByRole('button', { name: 'Undo' }).click();
    await expect(prompt.inputValue()).resolves.toBe('a quiet harbour');

    await page.getByRole('button', { name: 'Surprise me' }).click();
    await expect.poll(() => prompt.inputValue()).not.toBe('a quiet harbour');
    await expect(prompt.inputValue()).resolves.not.toBe('');
  });

  it('fits a phone screen', async () => {
    const phone = await newPage({ width: 390, height: 844 });
    await phone.goto('/');
    await phone.evaluate((token) => localStorage.setItem('atelier.token', token), await page.evaluate(() => localStorage.getItem('atelier.token') ?? ''));
    await phone.goto('/loras');
    await phone.getByRole('row', { name: /Watercolor wash/ }).waitFor();
    await screenshot(phone, '18-loras-phone');
    await phone.goto('/presets');
    await phone.getByRole('heading', { name: 'Cinematic Portrait' }).waitFor();
    // Nothing wider than the screen but the scrollable table.
    await expect(phone.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(390);
    await screenshot(phone, '19-presets-phone');
  });
});
