import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { JobTransitions } from '../../src/services/job-transitions';
import { readPngInfo } from '../../src/gpu-worker/pipeline/png';
import { collect, gql, gqlData, waitFor, wsClient } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';

let app: TestApp;
let user: factory.TestUser;
const JOB = 'query($id:ID!){ job(id:$id) { id status step totalSteps progress executionProvider error { code message } images { id url width height seed sha256 } } }';

beforeAll(async () => {
  app = await startTestApp();
  user = await factory.user(app, { tier: 'ENTERPRISE' });
});
afterAll(() => app?.close());

async function finished(id: string): Promise<any> {
  return waitFor(async () => {
    const { job } = await gqlData<any>(app.url, JOB, { id }, user.token);
    return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status) ? job : null;
  }, 60_000);
}

async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('image/png');
  return Buffer.from(await res.arrayBuffer());
}

describe('GPU worker', () => {
  it('completes a job with PNGs of the requested size, parameters embedded, deterministic by seed', async () => {
    const params = { prompt: 'a quiet harbour at dawn', negativePrompt: 'blurry', width: 320, height: 192, steps: 12, seed: 1234, count: 2 };
    const a = await finished((await factory.job(app, user, params)).id);
    expect(a).toMatchObject({ status: 'COMPLETED', step: 12, progress: 1, executionProvider: 'cpu', error: null });
    expect(a.images.map((i: any) => [i.width, i.height, i.seed])).toEqual([[320, 192, 1234], [320, 192, 1235]]);
    const png = await download(a.images[0].url);
    expect(png.readUInt32BE(16)).toBe(320);
    expect(png.readUInt32BE(20)).toBe(192);
    expect(createHash('sha256').update(png).digest('hex')).toBe(a.images[0].sha256);
    const info = readPngInfo(png);
    expect(info.text).toMatchObject({ prompt: 'a quiet harbour at dawn', negative_prompt: 'blurry', seed: '1234', steps: '12', width: '320', height: '192' });

    const again = await finished((await factory.job(app, user, params)).id);
    expect(again.images.map((i: any) => i.sha256)).toEqual(a.images.map((i: any) => i.sha256));
    const otherSeed = await finished((await factory.job(app, user, { ...params, seed: 999, count: 1 })).id);
    expect(otherSeed.images[0].sha256).not.toBe(a.images[0].sha256);
    const otherPrompt = await finished((await factory.job(app, user, { ...params, prompt: 'a neon city in rain', count: 1 })).id);
    expect(otherPrompt.images[0].sha256).not.toBe(a.images[0].sha256);
  });

  it('refuses tampered or expired file URLs and path traversal', async () => {
    const job = await finished((await factory.job(app, user, { prompt: 'tiny', width: 64, height: 64, steps: 2 })).id);
    const url = new URL(job.images[0].url);
    expect((await fetch(url.toString().replace(/sig=[^&]+/, 'sig=forged'))).status).toBe(403);
    expect((await fetch(url.toString().replace(/expires=\d+/, 'expires=1000'))).status).toBe(403);
    for (const path of ['/files/..%2F..%2F..%2Fetc%2Fpasswd', '/files/%2e%2e/%2e%2e/etc/passwd', '/files/images/..%2F..%2Fjwt-secret']) {
      // Encoded dot segments either reach /files (signature refused) or are normalised
      // away by the URL parser (then the web client's index page answers); never the file.
      const res = await fetch(`${app.url}${path}?expires=9999999999&sig=x`);
      expect(res.status === 403 || (res.headers.get('content-type') ?? '').startsWith('text/html')).toBe(true);
      expect(await res.text()).not.toMatch(/root:x:0:0/);
    }
  });

  it('streams progress per step and cancels a 150-step job at step 5 with no images, and no PNG left where they would go', async () => {
    const { id } = await factory.job(app, user, { prompt: 'a very long render', width: 2048, height: 2048, steps: 150 });
    // Where the render thread writes the job's PNG (a local store): one written there before the cancel reached
    // the thread, as when a cancel lands in a render's last milliseconds, must not stay behind unrecorded.
    const png = app.services.store.localPathOf!(`images/${id}/0.png`);
    const client = wsClient(app.url, user.token);
    let cancelled = false;
    const stream = collect<any>(client, 'subscription($id:ID!){ jobUpdated(jobId:$id) { type step totalSteps } }', { id }, (items) => {
      const last = items.at(-1)?.jobUpdated;
      if (!cancelled && last?.type === 'PROGRESS' && last.step >= 5) {
        cancelled = true;
        mkdirSync(path.dirname(png), { recursive: true });
        writeFileSync(png, 'a PNG the render thread wrote');
        void gql(app.url, 'mutation($id:ID!){ cancelJob(id:$id) { status } }', { id }, user.token);
      }
      return false;
    });
    await stream.done;
    await client.dispose();
    const types = stream.items.map((i) => i.jobUpdated.type);
    expect(types[0]).toBe('QUEUED');
    expect(types).toContain('STARTED');
    expect(types.at(-1)).toBe('CANCELLED');
    const steps = stream.items.filter((i) => i.jobUpdated.type === 'PROGRESS').map((i) => i.jobUpdated.step);
    expect(steps.slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
    expect(Math.max(...steps)).toBeLessThan(150);
    const job = await finished(id);
    expect(job.status).toBe('CANCELLED');
    expect(job.images).toEqual([]);
    // Removed once the cancel has won (after its row commits; CANCELLED may reach the subscriber first).
    await waitFor(async () => !existsSync(png), 10_000, 20);
    const usage = await gqlData<any>(app.url, '{ usage { openJobs } }', {}, user.token);
    expect(usage.usage.openJobs).toBe(0);
  });

  it('a job whose cancel came as its entry was taken ends before it renders: STARTED, then CANCELLED, no step, no image', async () => {
    await app.worker!.bullWorker.pause();
    let id = '';
    try {
      ({ id } = await factory.job(app, user, { prompt: 'cancelled as it was taken', width: 64, height: 64, steps: 40 }));
      // What cancelJob leaves when the worker has the entry already (JobService.stop): the flag the worker reads.
      await app.redis.set(`${app.config.redisPrefix}:cancel:${id}`, user.id, 'EX', 60);
    } finally {
      app.worker!.bullWorker.resume();
    }
    const job = await finished(id);
    expect(job).toMatchObject({ status: 'CANCELLED', step: 0, images: [] });
    const client = wsClient(app.url, user.token);
    const stream = collect<any>(client, 'subscription($id:ID!){ jobUpdated(jobId:$id) { type } }', { id });
    await stream.done;
    await client.dispose();
    expect(stream.items.map((i) => i.jobUpdated.type)).toEqual(['QUEUED', 'STARTED', 'CANCELLED']);
    const usage = await gqlData<any>(app.url, '{ usage { openJobs } }', {}, user.token);
    expect(usage.usage.openJobs).toBe(0);
  });

  it('starts a job whose model is loaded without reading its row first; an entry that names no model is read as before', async () => {
    const find = vi.spyOn(JobTransitions.prototype, 'find');
    const reads = (id: string) => find.mock.calls.filter(([jobId]) => jobId === id).length;
    try {
      const warm = await factory.job(app, user, { prompt: 'warm start', width: 64, height: 64, steps: 2 }, { wait: true });
      expect(warm.status).toBe('COMPLETED');
      expect(reads(warm.id)).toBe(0);

      // An entry added before entries named their model.
      // The queue is paused, so no worker takes the entry before its data is changed.
      await app.queue.pause();
      const older = await factory.job(app, user, { prompt: 'older entry', width: 64, height: 64, steps: 2 });
      const entry = (await app.queue.getJob(older.id))!;
      const [{ model_id: modelId }] = await app.db.query('SELECT model_id FROM jobs WHERE id = $1', [older.id]);
      expect(entry.data.modelId).toBe(modelId);
      await entry.updateData({ jobId: entry.data.jobId, requestId: entry.data.requestId });
      await app.queue.resume();
      expect((await finished(older.id)).status).toBe('COMPLETED');
      expect(reads(older.id)).toBe(1);
    } finally {
      find.mockRestore();
      await app.queue.resume();
    }
  });

  it('fails a job that cannot start before its deadline instead of running it late', async () => {
    const blocker = (await factory.job(app, user, { prompt: 'blocker', width: 2048, height: 2048, steps: 150 })).id;
    await waitFor(async () => (await gqlData<any>(app.url, JOB, { id: blocker }, user.token)).job.status === 'PROCESSING');
    const late = (await factory.job(app, user, { prompt: 'in a hurry', width: 64, height: 64, steps: 2, deadlineSeconds: 1 })).id;
    await new Promise((r) => setTimeout(r, 1500));
    await gqlData(app.url, 'mutation($id:ID!){ cancelJob(id:$id) { status } }', { id: blocker }, user.token);
    const job = await finished(late);
    expect(job.status).toBe('FAILED');
    expect(job.error.code).toBe('DEADLINE_EXCEEDED');
    expect(job.images).toEqual([]);
  });

  it('lists installed models with per-file sha256', async () => {
    const { models } = await gqlData<any>(app.url, '{ models { name isDefault sha256 files { path sha256 bytes } } }', {}, user.token);
    const tiny = models.find((m: any) => m.name === 'atelier-tiny');
    expect(tiny.isDefault).toBe(true);
    expect(tiny.files.map((f: any) => f.path)).toEqual(expect.arrayContaining(['model_index.json', 'unet/model.onnx', 'text_encoder/model.onnx', 'vae_decoder/model.onnx']));
    for (const file of tiny.files) expect(file.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
