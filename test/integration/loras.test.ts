import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, gqlData, signUp } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { generate } from '../support/library';

let app: TestApp;
let admin: string;
let baseModelId: string;

beforeAll(async () => {
  app = await startTestApp({ ATELIER_MAX_UPLOAD_MB: '1', ATELIER_ADMIN_EMAIL: 'root@example.com', ATELIER_ADMIN_PASSWORD: 'admin password 1' });
  admin = (await gqlData<any>(app.url, 'mutation { login(email:"root@example.com", password:"admin password 1"){ token } }')).login.token;
  baseModelId = (await gqlData<any>(app.url, '{ models { id isDefault } }', {}, admin)).models.find((m: any) => m.isDefault).id;
});
afterAll(() => app?.close());

async function upload(body: Buffer, token?: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${app.url}/uploads`, {
    method: 'POST', body, headers: { 'content-type': 'application/octet-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

const REGISTER = 'mutation($i:LoraInput!){ registerLora(input:$i){ id name version active sha256 triggerWords defaultWeight minTier usable mine baseModel { id } } }';

describe('POST /uploads', () => {
  it('stores an authenticated upload and returns its sha256 and size', async () => {
    const u = await signUp(app.url);
    const body = Buffer.from('hello upload');
    const res = await upload(body, u.token);
    expect(res.status).toBe(201);
    expect(res.json).toEqual({ uploadId: expect.any(String), sha256: createHash('sha256').update(body).digest('hex'), bytes: body.length });
  });

  it('refuses anonymous callers (401) and bodies over the limit (413)', async () => {
    expect((await upload(Buffer.from('x'))).status).toBe(401);
    const u = await signUp(app.url);
    const big = await upload(Buffer.alloc(1024 * 1024 + 1), u.token);
    expect(big.status).toBe(413);
    expect(big.json.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('uploads not yet registered count against the tier\'s allowance and are refused beyond it', async () => {
    const setAllowance = (mb: number) => gqlData(app.url, 'mutation($mb:Int!){ updateTierPolicy(tier: FREE, input: { pendingUploadMb: $mb }) { pendingUploadMb } }', { mb }, admin);
    await setAllowance(2);
    try {
      const u = await signUp(app.url);
      const part = Buffer.alloc(900 * 1024, 7);
      // Five at once against 2 MB: exactly two fit, whichever replica or order.
      const results = await Promise.all(Array.from({ length: 5 }, () => upload(part, u.token)));
      expect(results.map((r) => r.status).sort()).toEqual([201, 201, 429, 429, 429]);
      const refused = results.find((r) => r.status === 429)!.json;
      expect(refused).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: 2 * 1024 * 1024 });
      expect(refused.error).toMatch(/at most 2 MB on your FREE tier/);
      expect(await app.services.uploads.pendingBytes(u.id)).toBe(2 * part.length);

      // A body without a declared length is cut off once it passes the room left.
      const chunked = await fetch(`${app.url}/uploads`, {
        method: 'POST', duplex: 'half', headers: { authorization: `Bearer ${u.token}` },
        body: new ReadableStream({ start(c) { c.enqueue(new Uint8Array(300 * 1024)); c.enqueue(new Uint8Array(300 * 1024)); c.close(); } }),
      } as RequestInit);
      expect(chunked.status).toBe(429);
      expect(((await chunked.json()) as any).code).toBe('QUOTA_EXCEEDED');

      // Registering (or the sweep) gives the room back.
      const kept = results.find((r) => r.status === 201)!.json.uploadId;
      await app.services.uploads.discard(u.id, kept);
      expect((await upload(part, u.token)).status).toBe(201);
      // Another user has an allowance of their own.
      expect((await upload(part, (await signUp(app.url)).token)).status).toBe(201);
    } finally {
      await setAllowance(64);
    }
  });

  it('uploads never registered are swept after a day; fresh ones are kept', async () => {
    const u = await signUp(app.url);
    const old = (await upload(Buffer.from('abandoned'), u.token)).json.uploadId;
    const fresh = (await upload(Buffer.from('just now'), u.token)).json.uploadId;
    const key = `${app.config.redisPrefix}:uploads:pending`;
    await app.redis.zadd(key, Date.now() - 25 * 3600 * 1000, `uploads/${u.id}/${old}.bin`);
    expect(await app.services.uploads.sweepAbandoned()).toBe(1);
    expect(await app.services.uploads.read(u.id, old)).toBeNull();
    expect(await app.services.uploads.read(u.id, fresh)).not.toBeNull();
    expect(await app.services.uploads.pendingBytes(u.id)).toBe('just now'.length);
  });
});

describe('LoRAs', () => {
  it('registers a LoRA checked against the base model; versions; a job can use it', async () => {
    const u = await signUp(app.url);
    const bytes = await factory.loraFile(app);
    const { json } = await upload(bytes, u.token);
    const input = { uploadId: json.uploadId, name: 'Watercolor', baseModelId, triggerWords: [' wc ', 'wc'], defaultWeight: 0.8 };
    const lora = (await gqlData<any>(app.url, REGISTER, { i: input }, u.token)).registerLora;
    expect(lora).toMatchObject({
      name: 'Watercolor', version: 1, active: true, triggerWords: ['wc'], defaultWeight: 0.8, minTier: 'FREE', usable: true, mine: true,
      sha256: createHash('sha256').update(bytes).digest('hex'), baseModel: { id: baseModelId },
    });
    const reused = await gql<any>(app.url, REGISTER, { i: input }, u.token);
    expect(reused.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'uploadId' }); // the upload was consumed

    const again = await upload(bytes, u.token);
    const v2 = (await gqlData<any>(app.url, REGISTER, { i: { ...input, uploadId: again.json.uploadId } }, u.token)).registerLora;
    expect(v2.version).toBe(2);

    const job = await generate(app.url, u.token, { loras: [{ loraId: lora.id, weight: 0.8 }] });
    const done = await gqlData<any>(app.url, 'query($id:ID!){ job(id:$id){ loras { weight lora { name version } } } }', { id: job.id }, u.token);
    expect(done.job.loras).toEqual([{ weight: 0.8, lora: { name: 'Watercolor', version: 1 } }]);
  });

  it('refuses files that are not LoRAs or do not fit the base model, with the field', async () => {
    const u = await signUp(app.url);
    const garbage = await upload(Buffer.from('definitely not safetensors'), u.token);
    const res1 = await gql<any>(app.url, REGISTER, { i: { uploadId: garbage.json.uploadId, name: 'x', baseModelId } }, u.token);
    expect(res1.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'uploadId' });
    const bad = await upload(await factory.loraFile(app, { badShape: true }), u.token);
    const res2 = await gql<any>(app.url, REGISTER, { i: { uploadId: bad.json.uploadId, name: 'x', baseModelId } }, u.token);
    expect(res2.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'uploadId' });
    expect(res2.errors?.[0].message).toMatch(/cond_proj/);
    const other = await signUp(app.url);
    const res3 = await gql<any>(app.url, REGISTER, { i: { uploadId: bad.json.uploadId, name: 'x', baseModelId } }, other.token);
    expect(res3.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'uploadId' }); // not their upload
    const rows = await app.db.query('SELECT count(*)::int AS n FROM loras WHERE owner_id = $1', [u.id]);
    expect(rows[0].n).toBe(0);
  });

  it('tiers and the active flag decide who may use a LoRA', async () => {
    const u = await signUp(app.url);
    const { json } = await upload(await factory.loraFile(app), u.token);
    const lora = (await gqlData<any>(app.url, REGISTER, { i: { uploadId: json.uploadId, name: 'Tiered', baseModelId } }, u.token)).registerLora;
    const notAdmin = await gql<any>(app.url, 'mutation($id:ID!){ setLoraMinTier(id:$id, minTier:PRO){ id } }', { id: lora.id }, u.token);
    expect(notAdmin.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    await gqlData(app.url, 'mutation($id:ID!){ setLoraMinTier(id:$id, minTier:PRO){ id } }', { id: lora.id }, admin);
    const seen = (await gqlData<any>(app.url, '{ loras { id usable minTier } }', {}, u.token)).loras.find((l: any) => l.id === lora.id);
    expect(seen).toEqual({ id: lora.id, usable: false, minTier: 'PRO' });
    const refused = await gql<any>(app.url, 'mutation($l:ID!){ createGeneration(input:{ prompt:"x", width:64, height:64, steps:1, loras:[{ loraId:$l, weight:1 }] }){ id } }', { l: lora.id }, u.token);
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', field: 'loras[0].loraId', limit: 0 });

    await gqlData(app.url, 'mutation($id:ID!){ setLoraActive(id:$id, active:false){ active } }', { id: lora.id }, u.token);
    const other = await signUp(app.url);
    const list = await gqlData<any>(app.url, '{ loras { id } }', {}, other.token);
    expect(list.loras.map((l: any) => l.id)).not.toContain(lora.id);
    const byOther = await gql<any>(app.url, 'mutation($id:ID!){ setLoraActive(id:$id, active:true){ active } }', { id: lora.id }, other.token);
    expect(byOther.errors?.[0].extensions?.code).toBe('NOT_FOUND'); // not theirs to list: as an unknown id
  });
});

describe('models', () => {
  it('lists models with hashes and the default; admins enable, disable and choose the default', async () => {
    const u = await signUp(app.url);
    const models = (await gqlData<any>(app.url, '{ models { id name sha256 isDefault enabled usable files { path sha256 } } }', {}, u.token)).models;
    expect(models[0]).toMatchObject({ name: 'atelier-tiny', isDefault: true, enabled: true, usable: true });
    expect(models[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(models[0].files.length).toBeGreaterThan(2);

    const denied = await gql<any>(app.url, 'mutation($id:ID!){ setModelEnabled(id:$id, enabled:false){ id } }', { id: baseModelId }, u.token);
    expect(denied.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const defaultOff = await gql<any>(app.url, 'mutation($id:ID!){ setModelEnabled(id:$id, enabled:false){ id } }', { id: baseModelId }, admin);
    expect(defaultOff.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    const def = await gqlData<any>(app.url, 'mutation($id:ID!){ setDefaultModel(id:$id){ isDefault } }', { id: baseModelId }, admin);
    expect(def.setDefaultModel.isDefault).toBe(true);
    const tier = await gqlData<any>(app.url, 'mutation($id:ID!){ setModelMinTier(id:$id, minTier:ENTERPRISE){ minTier usable } }', { id: baseModelId }, admin);
    expect(tier.setModelMinTier).toEqual({ minTier: 'ENTERPRISE', usable: true }); // the configured admin starts on ENTERPRISE
    expect((await gqlData<any>(app.url, '{ models { usable } }', {}, u.token)).models[0].usable).toBe(false);
    await gqlData(app.url, 'mutation($id:ID!){ setModelMinTier(id:$id, minTier:FREE){ id } }', { id: baseModelId }, admin);
  });
});
