import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { gqlData, waitFor } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';

let app: TestApp;
let user: factory.TestUser;

beforeAll(async () => {
  // Its own models folder: the tiny model plus a copy whose UNet is corrupt.
  const models = mkdtempSync(path.join(os.tmpdir(), 'atelier-models-'));
  cpSync(path.join(inject('modelsDir'), 'atelier-tiny'), path.join(models, 'atelier-tiny'), { recursive: true });
  cpSync(path.join(models, 'atelier-tiny'), path.join(models, 'broken'), { recursive: true });
  writeFileSync(path.join(models, 'broken', 'unet', 'model.onnx'), Buffer.from('this is not an onnx file'));
  app = await startTestApp({ ATELIER_MODELS_DIR: models, ATELIER_JOB_TIMEOUT_SECONDS: '1' });
  user = await factory.user(app, { tier: 'ENTERPRISE' });
});
afterAll(() => app?.close());

async function finished(id: string) {
  return waitFor(async () => {
    const { job } = await gqlData<any>(app.url, 'query($id:ID!){ job(id:$id) { status error { code message } images { id } } }', { id }, user.token);
    return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status) ? job : null;
  }, 30_000);
}

describe('worker failures', () => {
  it('a job running past the per-job timeout fails with TIMEOUT and no images', async () => {
    const { createGeneration } = await gqlData<any>(app.url, 'mutation { createGeneration(input:{ prompt:"too slow", width:2048, height:2048, steps:150 }) { id } }', {}, user.token);
    const job = await finished(createGeneration.id);
    expect(job).toMatchObject({ status: 'FAILED', error: { code: 'TIMEOUT' }, images: [] });
  });

  it('a broken model fails the job at once, without retries (unrecoverable)', async () => {
    const { models } = await gqlData<any>(app.url, '{ models { id name } }', {}, user.token);
    const broken = models.find((m: any) => m.name === 'broken');
    const { createGeneration } = await gqlData<any>(app.url, 'mutation($m:ID!){ createGeneration(input:{ prompt:"x", width:64, height:64, steps:2, modelId:$m }) { id } }', { m: broken.id }, user.token);
    const job = await finished(createGeneration.id);
    expect(job.status).toBe('FAILED');
    expect(job.error.code).toMatch(/^MODEL_/);
    // The row is FAILED before the worker hands BullMQ the unrecoverable error: the entry's own end follows.
    await waitFor(async () => (await app.queue.getJobState(createGeneration.id)) === 'failed', 10_000);
    const queued = await app.queue.getJob(createGeneration.id);
    expect(queued?.attemptsMade).toBe(1);
    // The good model still works afterwards.
    const ok = await gqlData<any>(app.url, 'mutation { createGeneration(input:{ prompt:"fine", width:64, height:64, steps:2 }) { id } }', {}, user.token);
    expect((await finished(ok.createGeneration.id)).status).toBe('COMPLETED');
  });
});
