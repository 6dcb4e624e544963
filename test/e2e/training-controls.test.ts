import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset, DatasetImage, TrainingRun, User } from '../../src/entities';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { gql, gqlData } from '../support/graphql';
import { paletteDataset, paletteImage } from '../support/training';
import { ensureClientBuilt, launchChromium, screenshot, signUpInBrowser } from './browser';

// Cancelling a run, removing dataset images and deleting a dataset from the Training pages. The API runs
// without workers (ATELIER_ROLE=api): a run stays QUEUED until cancelled, which is all these need.
let app: TestApp;
let browser: Browser;

beforeAll(async () => {
  ensureClientBuilt();
  app = await startTestApp({ ATELIER_ROLE: 'api' });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

const START = 'mutation($i:TrainingInput!){ startTraining(input:$i){ id } }';
const ADD = 'mutation($d:ID!,$im:[DatasetImageInput!]!){ addDatasetImages(datasetId:$d, images:$im){ id } }';

/** A PRO user signed up in a fresh browser context, with a 4-image dataset; the context, page, user and API token. */
async function proWithDataset(name: string, dataset: string): Promise<{ context: BrowserContext; page: Page; user: User; token: string; datasetId: string }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: app.url });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  await page.goto('/signup');
  const email = await signUpInBrowser(page, name);
  const user = await app.db.getRepository(User).findOneByOrFail({ email });
  await factory.updateUser(app, user.id, { tier: 'PRO' });
  const token = (await gqlData<any>(app.url, 'mutation($e:String!){ login(email:$e, password:"correct horse battery") { token } }', { e: email })).login.token as string;
  const datasetId = await paletteDataset(app.url, token, { name: dataset, rgb: [20, 160, 150], caption: 'a teal texture', count: 4 });
  return { context, page, user, token, datasetId };
}

describe('training controls', () => {
  it('removes an image, cancels a queued run from its page and deletes the dataset', async () => {
    const { context, page, datasetId } = await proWithDataset('Ivo', 'Teal studies');
    try {
      const dialogs: string[] = [];
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.accept();
      });
      await page.goto('/training');
      await page.getByRole('heading', { name: /Teal studies/ }).waitFor();
      const images = page.getByRole('list', { name: 'Images' }).getByRole('listitem');
      await expect.poll(() => images.count()).toBe(4);

      // Remove the second image: asked first, then gone here and on the server; focus back on the dataset.
      await page.getByRole('button', { name: 'Remove image 2' }).click();
      await expect.poll(() => images.count()).toBe(3);
      expect(dialogs.at(-1)).toMatch(/^Remove image 2 from “Teal studies”\?/);
      expect(await app.db.getRepository(DatasetImage).countBy({ datasetId })).toBe(3);
      await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('dataset-title');
      await page.getByText('3 images').waitFor();

      // Start a run; with no worker it stays QUEUED until cancelled from its page.
      await page.getByLabel('LoRA name').fill('teal');
      await page.getByLabel('Steps').fill('40');
      await page.getByLabel('Save every').fill('20');
      await page.getByRole('button', { name: 'Start training' }).click();
      await page.waitForURL(/\/training\/runs\//);
      const runId = page.url().split('/').at(-1)!;
      await expect.poll(() => page.getByTestId('run-status').textContent()).toBe('QUEUED');
      await page.getByRole('button', { name: 'Cancel training' }).click();
      expect(dialogs.at(-1)).toMatch(/^Cancel the training run “teal”\?/);
      await expect.poll(() => page.getByTestId('run-status').textContent()).toBe('CANCELLED');
      expect((await app.db.getRepository(TrainingRun).findOneByOrFail({ id: runId })).status).toBe('CANCELLED');
      expect(await page.getByRole('button', { name: 'Cancel training' }).count()).toBe(0);
      await screenshot(page, 'training-run-cancelled-from-page');

      // Delete the dataset: asked first, then the page offers to create one, with focus on its name.
      await page.goto('/training');
      await page.getByRole('heading', { name: /Teal studies/ }).waitFor();
      await page.getByRole('button', { name: 'Delete dataset' }).click();
      expect(dialogs.at(-1)).toMatch(/^Delete the dataset “Teal studies” and its 3 images\?/);
      await page.getByText('No datasets yet').waitFor();
      expect(await app.db.getRepository(Dataset).countBy({ id: datasetId })).toBe(0);
      await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('dataset-name');
    } finally {
      await context.close();
    }
  }, 120_000);


  it('a run locking the dataset is named in words with its link and Cancel; the Runs list follows the runs live', async () => {
    const { context, page, token, datasetId } = await proWithDataset('Kit', 'Moss');
    try {
      page.on('dialog', (dialog) => void dialog.accept());
      const first = (await gqlData<any>(app.url, START, { i: { datasetId, loraName: 'moss', steps: 40, saveEvery: 20 } }, token)).startTraining.id as string;
      await page.goto('/training');
      await page.getByRole('heading', { name: /Moss/ }).waitFor();
      const runs = page.getByRole('region', { name: 'Runs' }).or(page.locator('section[aria-labelledby=runs-title]'));
      const row = (id: string) => runs.locator(`li[data-run-id="${id}"]`);
      await expect.poll(() => row(first).textContent(), { timeout: 15_000 }).toContain('QUEUED');

      // The caption edit is refused while the run is queued: said for people, no UUID nor API names.
      const caption = page.getByLabel('Caption of image 1');
      await caption.fill('moss, close up');
      await caption.blur();
      const alert = page.getByRole('alert').filter({ hasText: 'is being used by' });
      await alert.waitFor();
      // The run's name shows once the alert has read the run ("one of your training runs" until then).
      await expect.poll(() => alert.textContent()).toContain('“Moss” is being used by the training run “moss”, so its images cannot change until the run ends.');
      const text = (await alert.textContent())!;
      expect(text).not.toContain(first);
      expect(text).not.toMatch(/cancelTraining|RUNNING|QUEUED/);
      expect(await alert.getByRole('link', { name: 'Open the run' }).getAttribute('href')).toBe(`/training/runs/${first}`);
      await screenshot(page, 'training-conflict-in-words');

      // Cancel from the alert: the run ends, the alert goes, the Runs list shows it without a reload, and the edit goes through.
      await alert.getByRole('button', { name: 'Cancel the run' }).click();
      await expect.poll(() => page.getByRole('alert').filter({ hasText: 'is being used by' }).count(), { timeout: 15_000 }).toBe(0);
      await expect.poll(() => row(first).textContent(), { timeout: 15_000 }).toContain('CANCELLED');
      expect((await app.db.getRepository(TrainingRun).findOneByOrFail({ id: first })).status).toBe('CANCELLED');
      await caption.fill('moss, very close up');
      await caption.blur();
      await expect.poll(async () => (await app.db.getRepository(DatasetImage).find({ where: { datasetId }, order: { createdAt: 'ASC', id: 'ASC' } }))
        .some((i) => i.caption === 'moss, very close up'), { timeout: 15_000 }).toBe(true);

      // A run started elsewhere (another tab: here the API) shows when the page is back in focus, and its cancel follows.
      const second = (await gqlData<any>(app.url, START, { i: { datasetId, loraName: 'moss2', steps: 40, saveEvery: 20 } }, token)).startTraining.id as string;
      await page.evaluate(() => window.dispatchEvent(new Event('focus')));
      await expect.poll(() => row(second).textContent(), { timeout: 15_000 }).toContain('QUEUED');
      await gqlData(app.url, 'mutation($id:ID!){ cancelTraining(id:$id) { id } }', { id: second }, token);
      await expect.poll(() => row(second).textContent(), { timeout: 15_000 }).toContain('CANCELLED');
    } finally {
      await context.close();
    }
  }, 120_000);

  it('an image refused while a run locks the dataset is marked not added, and is added again without dropping the file again', async () => {
    const { context, page, token, datasetId } = await proWithDataset('Noor', 'Dunes');
    try {
      const sent = { uploads: 0, adds: 0 };
      page.on('request', (request) => {
        if (request.method() !== 'POST') return;
        const path = new URL(request.url()).pathname;
        if (path === '/uploads') sent.uploads += 1;
        else if (path === '/graphql' && request.postDataJSON()?.operationName === 'AddDatasetImages') sent.adds += 1;
      });
      const run = (await gqlData<any>(app.url, START, { i: { datasetId, loraName: 'dunes', steps: 40, saveEvery: 20 } }, token)).startTraining.id as string;
      await page.goto('/training');
      await page.getByRole('heading', { name: /Dunes/ }).waitFor();
      const images = page.getByRole('list', { name: 'Images' }).getByRole('listitem');
      await expect.poll(() => images.count()).toBe(4);

      // Dropped while the run is queued: uploaded, but the add is refused (CONFLICT). The row says so, not just the alert.
      await page.getByLabel('Choose images').setInputFiles({ name: 'extra_one.png', mimeType: 'image/png', buffer: await paletteImage('png', [200, 170, 110], 64, 9) });
      const row = page.getByRole('list', { name: 'Uploads' }).getByRole('listitem').filter({ hasText: 'extra_one.png' });
      await expect.poll(() => row.getAttribute('data-upload-state')).toBe('not-added');
      await expect(row.textContent()).resolves.toMatch(/Not added: “Dunes” is in use by a training run/);
      await page.getByRole('alert').filter({ hasText: 'is being used by' }).waitFor();
      const again = page.getByRole('button', { name: 'Add again (extra_one.png)' });
      await again.waitFor();
      expect(sent).toEqual({ uploads: 1, adds: 1 });
      expect(await app.db.getRepository(DatasetImage).countBy({ datasetId })).toBe(4);
      await page.getByText('4 images').waitFor();
      await screenshot(page, 'training-upload-not-added');

      // Again while the run still holds the dataset: refused again, and still offered.
      await again.click();
      await expect.poll(() => sent.adds).toBe(2);
      await expect.poll(() => row.getAttribute('data-upload-state')).toBe('not-added');
      await again.waitFor();

      // Once the run has ended, "Add again" adds the kept upload: no second upload of the file, and the row is done.
      await gqlData(app.url, 'mutation($id:ID!){ cancelTraining(id:$id) { id } }', { id: run }, token);
      await again.click();
      await expect.poll(() => row.getAttribute('data-upload-state')).toBe('added');
      await expect.poll(() => images.count()).toBe(5);
      expect(await row.textContent()).not.toContain('Not added');
      expect(await page.getByRole('button', { name: /^Add again/ }).count()).toBe(0);
      expect(sent).toEqual({ uploads: 1, adds: 3 });
      const rows = await app.db.getRepository(DatasetImage).find({ where: { datasetId }, order: { createdAt: 'ASC', id: 'ASC' } });
      expect(rows.map((r) => r.caption)).toEqual(['a teal texture', 'a teal texture', 'a teal texture', 'a teal texture', 'extra one']);
      await page.getByText('5 images').waitFor();
    } finally {
      await context.close();
    }
  }, 120_000);

  it('an image refused while a run locks the dataset is discarded: its upload is withdrawn from the server and its row goes', async () => {
    const { context, page, user, token, datasetId } = await proWithDataset('Oona', 'Ferns');
    try {
      const dialogs: string[] = [];
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.accept();
      });
      // The upload ids the page received, and each DELETE /uploads/:id it sent (with its credentials).
      const received: string[] = [];
      const withdrawals: { id: string; authorization: string | undefined }[] = [];
      page.on('response', (response) => {
        const request = response.request();
        if (request.method() === 'POST' && new URL(request.url()).pathname === '/uploads' && response.status() === 201) {
          void response.json().then((body: { uploadId: string }) => received.push(body.uploadId));
        }
      });
      page.on('request', (request) => {
        const path = new URL(request.url()).pathname;
        if (request.method() === 'DELETE' && path.startsWith('/uploads/')) withdrawals.push({ id: path.slice('/uploads/'.length), authorization: request.headers().authorization });
      });
      const exists = async (uploadId: string) => (await app.services.uploads.read(user.id, uploadId)) !== null;
      const addAsApi = (uploadId: string) => gql(app.url, ADD, { d: datasetId, im: [{ uploadId, caption: 'late' }] }, token);
      const run = (await gqlData<any>(app.url, START, { i: { datasetId, loraName: 'ferns', steps: 40, saveEvery: 20 } }, token)).startTraining.id as string;
      await page.goto('/training');
      await page.getByRole('heading', { name: /Ferns/ }).waitFor();
      const images = page.getByRole('list', { name: 'Images' }).getByRole('listitem');
      await expect.poll(() => images.count()).toBe(4);
      const uploads = page.getByRole('list', { name: 'Uploads' }).getByRole('listitem');
      const row = (file: string) => uploads.filter({ hasText: file });

      // Refused while the run is queued: the row says "Not added" and offers Discard beside Add again.
      await page.getByLabel('Choose images').setInputFiles({ name: 'frond.png', mimeType: 'image/png', buffer: await paletteImage('png', [40, 120, 50], 64, 3) });
      await expect.poll(() => row('frond.png').getAttribute('data-upload-state')).toBe('not-added');
      await page.getByRole('button', { name: 'Add again (frond.png)' }).waitFor();
      await expect.poll(() => received.length).toBe(1);
      const [frond] = received;
      expect(await exists(frond)).toBe(true);
      expect(await app.services.uploads.pendingBytes(user.id)).toBeGreaterThan(0);
      const discardFrond = page.getByRole('button', { name: 'Discard frond.png' });
      await screenshot(page, 'training-upload-discard-offered');

      // The server failing the withdrawal (not a 404): the row stays, says so, and the upload is still there.
      await page.route('**/uploads/*', (route) => (route.request().method() === 'DELETE'
        ? route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ code: 'INTERNAL', error: 'The store is unavailable' }) })
        : route.fallback()));
      await discardFrond.click();
      const failed = row('frond.png').getByRole('alert');
      await failed.waitFor();
      expect(await failed.textContent()).toBe('Not discarded: The store is unavailable');
      expect(await row('frond.png').getAttribute('data-upload-state')).toBe('not-added');
      expect(await exists(frond)).toBe(true);
      await page.unroute('**/uploads/*');

      // Discard again: DELETE /uploads/:id with the page's Bearer token, the row goes, and the upload is gone on the server.
      await discardFrond.click();
      await expect.poll(() => row('frond.png').count()).toBe(0);
      expect(withdrawals).toEqual([{ id: frond, authorization: expect.stringMatching(/^Bearer \S+$/) }, { id: frond, authorization: expect.stringMatching(/^Bearer \S+$/) }]);
      expect(await exists(frond)).toBe(false);
      expect(await app.services.uploads.pendingBytes(user.id)).toBe(0);
      expect(await page.getByRole('button', { name: /^Add again/ }).count()).toBe(0);
      await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('dataset-title');
      await gqlData(app.url, 'mutation($id:ID!){ cancelTraining(id:$id) { id } }', { id: run }, token);
      const reused = await addAsApi(frond);
      expect(reused.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'images[0].uploadId' });
      expect(reused.errors?.[0].message).toMatch(/^Upload not found/);

      // Two refused together, one of them already withdrawn elsewhere (404: gone already): "Discard all" clears both rows.
      const second = (await gqlData<any>(app.url, START, { i: { datasetId, loraName: 'ferns2', steps: 40, saveEvery: 20 } }, token)).startTraining.id as string;
      await page.getByLabel('Choose images').setInputFiles([
        { name: 'moss.png', mimeType: 'image/png', buffer: await paletteImage('png', [60, 90, 30], 64, 4) },
        { name: 'lichen.png', mimeType: 'image/png', buffer: await paletteImage('png', [150, 160, 90], 64, 5) },
      ]);
      await expect.poll(() => row('moss.png').getAttribute('data-upload-state')).toBe('not-added');
      await expect.poll(() => row('lichen.png').getAttribute('data-upload-state')).toBe('not-added');
      await expect.poll(() => received.length).toBe(3);
      const pair = received.slice(1);
      const elsewhere = await fetch(`${app.url}/uploads/${pair[0]}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
      expect(elsewhere.status).toBe(204);
      await page.getByRole('button', { name: 'Discard all (2 images)' }).click();
      await expect.poll(() => uploads.count()).toBe(0);
      expect(withdrawals.slice(2).map((w) => w.id).sort()).toEqual([...pair].sort());
      expect(await page.getByRole('alert').filter({ hasText: 'Not discarded' }).count()).toBe(0);
      for (const id of pair) expect(await exists(id)).toBe(false);
      expect(await app.services.uploads.pendingBytes(user.id)).toBe(0);
      expect(await app.db.getRepository(DatasetImage).countBy({ datasetId })).toBe(4);

      // Deleting the dataset takes its not-added rows with it: their upload is withdrawn too, not left for a day.
      await page.getByLabel('Choose images').setInputFiles({ name: 'bracken.png', mimeType: 'image/png', buffer: await paletteImage('png', [120, 90, 40], 64, 6) });
      await expect.poll(() => row('bracken.png').getAttribute('data-upload-state')).toBe('not-added');
      await expect.poll(() => received.length).toBe(4);
      const bracken = received[3];
      await gqlData(app.url, 'mutation($id:ID!){ cancelTraining(id:$id) { id } }', { id: second }, token);
      await page.getByRole('button', { name: 'Delete dataset' }).click();
      expect(dialogs.at(-1)).toMatch(/^Delete the dataset “Ferns” and its 4 images\?.* The file not added is discarded too\.$/);
      await page.getByText('No datasets yet').waitFor();
      await expect.poll(() => exists(bracken)).toBe(false);
      expect(withdrawals.at(-1)?.id).toBe(bracken);
      // The withdrawal removes the file, then gives its bytes back: polled, as the file's absence is (it failed once
      // in a clean-clone run, read between the two).
      await expect.poll(() => app.services.uploads.pendingBytes(user.id)).toBe(0);
    } finally {
      await context.close();
    }
  }, 120_000);
});
