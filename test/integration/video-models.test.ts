/**
 * Which model makes a clip (docs/video.md, "Which model makes a clip"): a
 * remote model named for a clip (by the caller or a VIDEO preset) is refused
 * on `modelId`, and one nobody named (the default's, an animated image's) is
 * replaced by an ONNX model, so the seeded VIDEO presets and Animate keep
 * working when an admin makes a ComfyUI model the default.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { remoteModel } from '../support/backend-models';
import * as factory from '../support/factories';
import { gql, gqlData } from '../support/graphql';

let app: TestApp;
let admin: factory.TestUser;
let comfy: string;
let onnx: { id: string; name: string; backend: string };

beforeAll(async () => {
  app = await startTestApp();
  admin = await factory.user(app, { role: 'ADMIN' });
  comfy = await remoteModel(app, { backend: 'COMFYUI', endpoints: ['http://127.0.0.1:9'] });
  const { models } = await gqlData<any>(app.url, 'query { models { id name isDefault backend } }', {}, admin.token);
  onnx = models.find((m: { isDefault: boolean }) => m.isDefault);
  expect(onnx.backend).toBe('ONNX');
});
afterAll(() => app?.close());

const setDefault = (id: string) => gqlData(app.url, 'mutation($id:ID!){ setDefaultModel(id:$id){ id } }', { id }, admin.token);
const jobCount = async (ownerId: string) => Number((await app.db.query('SELECT count(*)::int AS n FROM jobs WHERE owner_id = $1', [ownerId]))[0].n);

describe('the model of a clip', () => {
  it('refuses a VIDEO preset on a remote model at createPreset and updatePreset, on modelId', async () => {
    const create = await gql(app.url, 'mutation($m:ID!){ createPreset(input:{ name:"Comfy clip", template:"{prompt}", category:VIDEO, durationSeconds:1, fps:2, modelId:$m }){ id } }',
      { m: comfy }, admin.token);
    expect(create.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'modelId' });
    expect(create.errors?.[0].message).toMatch(/runs on COMFYUI; video presets need an ONNX model/);
    // An IMAGE preset may name it.
    const image = await gqlData<any>(app.url, 'mutation($m:ID!){ createPreset(input:{ name:"Comfy still", template:"{prompt}", modelId:$m }){ id } }', { m: comfy }, admin.token);
    const update = await gql(app.url, 'mutation($id:ID!,$m:ID!){ updatePreset(id:$id, input:{ name:"Comfy still", template:"{prompt}", category:VIDEO, modelId:$m }){ id } }',
      { id: image.createPreset.id, m: comfy }, admin.token);
    expect(update.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'modelId' });
  });

  it('with a ComfyUI model as the default: a clip nobody named a model for is made by an ONNX model; one naming the remote model is refused', async () => {
    const user = await factory.user(app, { tier: 'ENTERPRISE' });
    await setDefault(comfy);
    try {
      const clip = await gqlData<any>(app.url, 'mutation { createVideo(input:{ prompt:"a fox", durationSeconds:0.5, fps:2, width:64, height:64, steps:1 }){ id kind model { id } } }', {}, user.token);
      expect(clip.createVideo).toMatchObject({ kind: 'VIDEO', model: { id: onnx.id } });
      // A seeded VIDEO preset through createGeneration.
      const { presets } = await gqlData<any>(app.url, 'query { presets(category: VIDEO) { id name } }', {}, user.token);
      const viaPreset = await gqlData<any>(app.url, 'mutation($p:ID!){ createGeneration(input:{ prompt:"a fox", presetId:$p, width:64, height:64, steps:1 }){ id kind model { id } } }',
        { p: presets[0].id }, user.token);
      expect(viaPreset.createGeneration).toMatchObject({ kind: 'VIDEO', model: { id: onnx.id } });
      // Images still go to the default.
      const still = await gqlData<any>(app.url, 'mutation { createGeneration(input:{ prompt:"a fox", width:64, height:64, steps:1 }){ model { id } } }', {}, user.token);
      expect(still.createGeneration.model.id).toBe(comfy);

      const before = await jobCount(user.id);
      const named = await gql(app.url, 'mutation($m:ID!){ createVideo(input:{ prompt:"a fox", durationSeconds:0.5, fps:2, modelId:$m }){ id } }', { m: comfy }, user.token);
      expect(named.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'modelId' });
      expect(named.errors?.[0].message).toMatch(/videos need an ONNX model/);
      expect(await jobCount(user.id)).toBe(before);
    } finally {
      await setDefault(onnx.id);
    }
  });

  it('with no ONNX model open to the caller, a clip on a remote default is refused on modelId and makes nothing', async () => {
    const user = await factory.user(app);
    await setDefault(comfy);
    await app.db.query("UPDATE models SET min_tier = 'ENTERPRISE' WHERE backend = 'ONNX'");
    try {
      const refused = await gql(app.url, 'mutation { createVideo(input:{ prompt:"a fox", durationSeconds:0.5, fps:2, width:64, height:64 }){ id } }', {}, user.token);
      expect(refused.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'modelId' });
      expect(refused.errors?.[0].message).toMatch(/no enabled ONNX model is open to your tier/);
      expect(await jobCount(user.id)).toBe(0);
    } finally {
      await app.db.query("UPDATE models SET min_tier = 'FREE' WHERE backend = 'ONNX'");
      await setDefault(onnx.id);
    }
  });
});
