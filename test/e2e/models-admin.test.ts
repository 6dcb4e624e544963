import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiModel } from '../../src/entities';
import { EndpointHealthStore } from '../../src/redis/endpoint-health';
import { startTestApp, type TestApp } from '../support/app';
import { gqlData } from '../support/graphql';
import { ensureClientBuilt, launchChromium, screenshot, signUpInBrowser } from './browser';

// An admin registers ComfyUI models in a real browser: a bad workflow is
// explained under its field, a good one (uploaded as a file) is listed with a
// live health badge, and users see "waiting for ComfyUI" while it is down.
let app: TestApp;
let browser: Browser;
const contexts: BrowserContext[] = [];

const WORKFLOW = {
  3: { class_type: 'KSampler', inputs: { seed: '{{seed}}', steps: '{{steps}}', cfg: '{{cfg}}', sampler_name: '{{sampler}}', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] } },
  4: { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd_turbo.safetensors' } },
  5: { class_type: 'EmptyLatentImage', inputs: { width: '{{width}}', height: '{{height}}', batch_size: '{{batch_size}}' } },
  6: { class_type: 'CLIPTextEncode', inputs: { text: '{{prompt}}', clip: ['4', 1] } },
  7: { class_type: 'CLIPTextEncode', inputs: { text: '{{negative_prompt}}', clip: ['4', 1] } },
  8: { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
  9: { class_type: 'SaveImage', inputs: { filename_prefix: 'atelier', images: ['8', 0] } },
};
const ENDPOINTS = ['http://gpu-1.internal:8188', 'http://gpu-2.internal:8188'];

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: app.url });
  context.setDefaultTimeout(20_000);
  contexts.push(context);
  return context.newPage();
}

async function reportHealth(name: string, states: Array<'CLOSED' | 'OPEN'>): Promise<void> {
  const model = await app.db.getRepository(AiModel).findOneByOrFail({ name });
  const at = new Date().toISOString();
  await new EndpointHealthStore(app.redis, app.config.redisPrefix).write(model.id, 'browser-test-worker',
    ENDPOINTS.map((url, i) => ({ url, state: states[i], inFlight: 0, lastError: states[i] === 'OPEN' ? 'connect ECONNREFUSED' : null, lastCheckedAt: at })));
}

beforeAll(async () => {
  ensureClientBuilt();
  app = await startTestApp({ ATELIER_ROLE: 'api', ATELIER_ADMIN_EMAIL: 'root@example.com', ATELIER_ADMIN_PASSWORD: 'the admin password' });
  browser = await launchChromium();
});
afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await app?.close();
});

describe('registering models in a real browser', () => {
  it('explains a bad workflow under its field, registers a good one with a live health badge, and edits it', async () => {
    const page = await newPage();
    await page.goto('/signin');
    await page.getByLabel('Email').fill('root@example.com');
    await page.getByLabel('Password').fill('the admin password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Models', exact: true }).click();
    await page.getByRole('heading', { name: 'Models', level: 1 }).waitFor();

    await page.getByLabel('Model name').fill('Comfy Turbo');
    await page.getByLabel('Backend').selectOption('COMFYUI');
    await page.getByLabel('Endpoints').fill(ENDPOINTS.join('\n'));
    const noOutput = Object.fromEntries(Object.entries(WORKFLOW).filter(([id]) => id !== '9'));
    await page.getByLabel('Workflow (API format JSON)').fill(JSON.stringify(noOutput));
    await page.getByRole('button', { name: 'Register model' }).click();
    const error = page.locator('#model-workflow-error');
    await expect(error.textContent()).resolves.toMatch(/no output node/);
    await expect(page.getByLabel('Workflow (API format JSON)').getAttribute('aria-invalid')).resolves.toBe('true');
    expect(await app.db.getRepository(AiModel).existsBy({ name: 'Comfy Turbo' })).toBe(false);
    await screenshot(page, '20-models-bad-workflow');

    await page.getByLabel('Or upload a workflow file').setInputFiles({ name: 'turbo_api.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(WORKFLOW)) });
    // The file is read asynchronously (File.text()), so wait for the field to take it.
    await expect.poll(() => page.getByLabel('Workflow (API format JSON)').inputValue()).toContain('SaveImage');
    await page.getByLabel('Credential (optional)').fill('sk-browser-secret');
    await page.getByRole('button', { name: 'Register model' }).click();
    await page.getByRole('status').filter({ hasText: 'Registered “Comfy Turbo”' }).waitFor();
    const row = page.getByRole('row', { name: /Comfy Turbo/ });
    await expect(row.textContent()).resolves.toMatch(/ComfyUI.*credential stored.*gpu-1\.internal:8188.*gpu-2\.internal:8188.*No reports/);
    expect(await page.content()).not.toContain('sk-browser-secret');

    // The badge follows what workers report, without a reload.
    await reportHealth('Comfy Turbo', ['CLOSED', 'CLOSED']);
    await row.locator('[data-health=healthy]').waitFor();
    await reportHealth('Comfy Turbo', ['OPEN', 'CLOSED']);
    await row.locator('[data-health=degraded]').waitFor();
    await screenshot(page, '21-models-health');

    await row.getByRole('button', { name: 'Edit Comfy Turbo' }).click();
    await expect(page.getByLabel('Endpoints').inputValue()).resolves.toBe(ENDPOINTS.join('\n'));
    await page.getByLabel('Endpoints').fill('ftp://gpu-3.internal');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect(page.locator('#model-endpoints-error').textContent()).resolves.toMatch(/http or https/);
    await page.getByLabel('Endpoints').fill(ENDPOINTS.join('\n'));
    await page.getByLabel('Description (optional)').fill('SD-Turbo on two GPUs');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved “Comfy Turbo”' }).waitFor();
    await expect(row.textContent()).resolves.toContain('SD-Turbo on two GPUs');
  });

  it('tells a user picking the model that it waits for ComfyUI while every breaker is open', async () => {
    await reportHealth('Comfy Turbo', ['OPEN', 'OPEN']);
    const page = await newPage();
    await page.goto('/signup');
    const email = await signUpInBrowser(page, 'Mira');
    // A preset that names a sampler sets it in the form; the user can still change it.
    const { login } = await gqlData<any>(app.url, 'mutation($e: String!) { login(email: $e, password: "correct horse battery") { token } }', { e: email });
    await gqlData(app.url, 'mutation($i: PresetInput!) { createPreset(input: $i) { id } }', { i: { name: 'Quick LCM', template: '{prompt}', steps: 4, sampler: 'LCM' } }, login.token);
    await page.reload();
    await page.getByLabel('Style preset').selectOption({ label: 'Quick LCM (yours)' });
    await expect.poll(() => page.getByLabel('Sampler').inputValue()).toBe('LCM');
    await page.getByLabel('Model', { exact: true }).selectOption({ label: 'Comfy Turbo' });
    await page.getByLabel('Sampler').selectOption('DPMPP_2M');
    await expect(page.locator('#backend-waiting').textContent()).resolves.toMatch(/Waiting for ComfyUI/);
    await screenshot(page, '22-generate-waiting-for-backend');
    await page.getByLabel('Model', { exact: true }).selectOption({ label: 'atelier-tiny' });
    await expect(page.locator('#backend-waiting').count()).resolves.toBe(0);
  });
});
