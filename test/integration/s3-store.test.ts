import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArtifactStore, S3RequestError, type S3StoreOptions } from '../../src/storage/s3-store';
import { copyStoredFile, storedSha256 } from '../../src/storage/stored-files';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { collect, gqlData, signUp, wsClient } from '../support/graphql';
import { generate } from '../support/library';
import { startTestS3Server, type TestS3Server } from '../support/s3-server';

let s3: TestS3Server;
let app: TestApp;

function storeWith(overrides: Partial<S3StoreOptions> = {}): S3ArtifactStore {
  return new S3ArtifactStore({
    endpoint: s3.endpoint, bucket: s3.bucket, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    ...overrides,
  });
}

beforeAll(async () => {
  s3 = await startTestS3Server();
  app = await startTestApp({
    ATELIER_STORAGE: 's3',
    ATELIER_S3_ENDPOINT: s3.endpoint,
    ATELIER_S3_BUCKET: s3.bucket,
    ATELIER_S3_ACCESS_KEY_ID: s3.accessKeyId,
    ATELIER_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
  });
});
afterAll(async () => {
  await app?.close();
  await s3?.close();
});

describe('S3ArtifactStore against a real S3-compatible server', () => {
  it('puts, reads, finds and deletes an object', async () => {
    const store = storeWith();
    const data = randomBytes(70_000);
    const key = `images/round-trip/${randomBytes(4).toString('hex')}.png`;
    await store.put(key, data, 'image/png');
    expect(await store.exists(key)).toBe(true);
    expect((await store.get(key))?.equals(data)).toBe(true);
    await store.delete(key);
    expect(await store.exists(key)).toBe(false);
    expect(await store.get(key)).toBeNull();
    await store.delete(key); // deleting what is gone is not an error
  });

  it('streams a file from disk with its length and the SHA-256 it was written with; S3 refuses a hash that does not match', async () => {
    const store = storeWith();
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'atelier-s3-file-'));
    const file = path.join(dir, 'body');
    writeFileSync(file, data);
    const described = { path: file, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex'), contentType: 'application/octet-stream' };
    const key = `uploads/streamed/${randomBytes(4).toString('hex')}.bin`;
    await store.putFile(key, described);
    expect((await store.get(key))?.equals(data)).toBe(true);

    const refused = s3.refusals.length;
    const tampered = await store.putFile(`${key}.2`, { ...described, sha256: createHash('sha256').update('other').digest('hex') }).catch((e: unknown) => e);
    expect(tampered).toMatchObject({ status: 400, code: 'XAmzContentSHA256Mismatch' });
    expect(s3.refusals.slice(refused)).toEqual(['XAmzContentSHA256Mismatch']);
    expect(await store.exists(`${key}.2`)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies an object into a file as a stream, hashed on the way; nothing for a missing one; a refusal is an error', async () => {
    const store = storeWith();
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const key = `models/streamed/${randomBytes(4).toString('hex')}.onnx_data`;
    await store.put(key, data, 'application/octet-stream');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'atelier-s3-copy-'));
    const sha256 = createHash('sha256').update(data).digest('hex');
    expect(await copyStoredFile(store, key, path.join(dir, 'copy'))).toEqual({ bytes: data.length, sha256 });
    expect(readFileSync(path.join(dir, 'copy')).equals(data)).toBe(true);
    expect(await storedSha256(store, key)).toBe(sha256);

    expect(await copyStoredFile(store, `${key}.missing`, path.join(dir, 'missing'))).toBeNull();
    expect(existsSync(path.join(dir, 'missing'))).toBe(false);
    expect(await storedSha256(store, `${key}.missing`)).toBeNull();
    const wrong = storeWith({ credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: 'not-the-secret' } });
    await expect(copyStoredFile(wrong, key, path.join(dir, 'forbidden'))).rejects.toMatchObject({ status: 403, code: 'SignatureDoesNotMatch', method: 'GET' });
    expect(existsSync(path.join(dir, 'forbidden'))).toBe(false);
    await store.delete(key);
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers null / false for objects that were never stored', async () => {
    const store = storeWith();
    expect(await store.get('never/stored.bin')).toBeNull();
    expect(await store.exists('never/stored.bin')).toBe(false);
  });

  it('is refused by the server when signed with the wrong secret, and stores nothing', async () => {
    const refused = s3.refusals.length;
    const wrong = storeWith({ credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: 'not-the-secret' } });
    const error = await wrong.put('images/forged.png', Buffer.from('x'), 'image/png').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3RequestError);
    expect(error).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch', method: 'PUT' });
    expect(s3.refusals.slice(refused)).toEqual(['SignatureDoesNotMatch']);
    await expect(wrong.exists('images/forged.png')).rejects.toMatchObject({ status: 403 });
    expect(await storeWith().exists('images/forged.png')).toBe(false);
  });

  it('reports the server\'s own error code for an unknown access key', async () => {
    const stranger = storeWith({ credentials: { accessKeyId: 'NOBODY', secretAccessKey: s3.secretAccessKey } });
    await expect(stranger.get('images/anything.png')).rejects.toMatchObject({ status: 403, code: 'InvalidAccessKeyId' });
  });

  it('refuses keys that could escape the bucket before sending anything', async () => {
    await expect(storeWith().put('../etc/passwd', Buffer.from('x'), 'text/plain')).rejects.toThrow(/unsafe storage key/);
  });

  it('builds virtual-hosted-style URLs when path style is off', () => {
    const store = storeWith({ endpoint: 'https://s3.eu-west-1.amazonaws.com', forcePathStyle: false });
    expect(store.urlOf('images/a_b.png').toString()).toBe(`https://${s3.bucket}.s3.eu-west-1.amazonaws.com/images/a_b.png`);
    expect(storeWith({ endpoint: 'http://minio:9000/prefix/' }).urlOf('x/y.png').toString()).toBe(`http://minio:9000/prefix/${s3.bucket}/x/y.png`);
  });
});

describe('Atelier with ATELIER_STORAGE=s3', () => {
  it('stores a job\'s image in the bucket and serves it at its signed /files URL', async () => {
    const user = await signUp(app.url);
    const job = await generate(app.url, user.token, { seed: 42 });
    const data = await gqlData<any>(app.url, 'query($id:ID!){ job(id:$id){ images { url } } }', { id: job.id }, user.token);
    const url: string = data.job.images[0].url;
    expect(url).toMatch(/\/files\/.+\.png\?expires=\d+&sig=/);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await res.arrayBuffer());
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    const key = decodeURIComponent(new URL(url).pathname.replace(/^\/files\//, ''));
    expect((await storeWith().get(key))?.equals(png)).toBe(true);
    expect(existsSync(path.join(app.env.ATELIER_DATA_DIR, 'artifacts'))).toBe(false);
  });

  it('keeps a job whose image cannot be stored while the bucket is unreachable, and stores the same render once it is back', async () => {
    const user = await signUp(app.url);
    const earlier = await generate(app.url, user.token, { seed: 5 });
    const { job: stored } = await gqlData<any>(app.url, 'query($id:ID!){ job(id:$id){ images { url } } }', { id: earlier.id }, user.token);
    await s3.stop();
    let jobId = '';
    let events: ReturnType<typeof collect<any>> | undefined;
    try {
      jobId = (await gqlData<any>(app.url, 'mutation($i:GenerationInput!){ createGeneration(input:$i){ id } }', {
        i: { prompt: 'a jar of marbles', width: 64, height: 64, steps: 2, seed: 3 },
      }, user.token)).createGeneration.id;
      events = collect<any>(wsClient(app.url, user.token), 'subscription($id:ID!){ jobUpdated(jobId:$id){ type } }', { id: jobId },
        (items) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(items.at(-1)?.jobUpdated.type));
      // Rendered in well under a second; its store is retried meanwhile, the job held open, neither failed
      // nor put back in the queue (the store's own three attempts are spent within a second).
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const held = await gqlData<any>(app.url, 'query($id:ID!){ job(id:$id){ status error { code } } }', { id: jobId }, user.token);
      expect(held.job).toEqual({ status: 'PROCESSING', error: null });
      const image = await fetch(stored.images[0].url);
      expect(image.status).toBe(503);
      expect(image.headers.get('retry-after')).toBe('5');
      expect(await image.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 5 });
      const ready = await fetch(`${app.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { reason: string }).reason).toMatch(/^storage: S3 HEAD health\/readyz-probe failed: fetch failed/);
    } finally {
      await s3.start();
    }
    await events!.done;
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
    // One STARTED: the render that waited for the bucket is the one stored, not a second run.
    expect(events!.items.map((e) => e.jobUpdated.type).filter((t) => t !== 'PROGRESS')).toEqual(['QUEUED', 'STARTED', 'COMPLETED']);
    const { job } = await gqlData<any>(app.url, 'query($id:ID!){ job(id:$id){ images { url } } }', { id: jobId }, user.token);
    expect(job.images).toHaveLength(1);
    expect((await fetch(job.images[0].url)).status).toBe(200);
  });

  it('uploads a LoRA to the bucket and the worker runs a job with it from its verified local copy', async () => {
    const user = await signUp(app.url);
    const upload = await fetch(`${app.url}/uploads`, {
      method: 'POST', body: new Uint8Array(await factory.loraFile(app)),
      headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${user.token}` },
    });
    expect(upload.status).toBe(201);
    const { uploadId } = await upload.json() as { uploadId: string };
    const baseModelId = (await gqlData<any>(app.url, '{ models { id isDefault } }', {}, user.token)).models.find((m: any) => m.isDefault).id;
    const lora = (await gqlData<any>(app.url, 'mutation($i:LoraInput!){ registerLora(input:$i){ id sha256 } }', {
      i: { uploadId, name: 'S3 LoRA', baseModelId },
    }, user.token)).registerLora;
    const job = await generate(app.url, user.token, { seed: 7, loras: [{ loraId: lora.id, weight: 0.8 }] });
    expect(job.images).toHaveLength(1);
    const cacheDir = path.join(app.env.ATELIER_DATA_DIR, 'cache', 'artifacts');
    const cached = readdirSync(cacheDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith(`.${lora.sha256}`));
    expect(cached).toHaveLength(1);
  });
});
