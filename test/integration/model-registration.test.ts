import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { syncModels } from '../../src/database/seed';
import { AiModel } from '../../src/entities';
import { ModelRegistry } from '../../src/gpu-worker/models/registry';
import { openCredential } from '../../src/kernel/credentials';
import { EndpointHealthStore } from '../../src/redis/endpoint-health';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { gql, gqlData } from '../support/graphql';

let app: TestApp;
let admin: factory.TestUser;
let editor: factory.TestUser;
const SECRET = 'sk-never-show-me-0123456789';

const FIELDS = `id name backend description minTier enabled sha256 endpoints { url health { state inFlight lastError lastCheckedAt } }
  hasCredential workflow remoteModel path waitingForBackend`;
const REGISTER = `mutation($input: ModelInput!) { registerModel(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: ModelInput!) { updateModel(id: $id, input: $input) { ${FIELDS} } }`;

/** A txt2img workflow in ComfyUI's API format, as "Save (API)" writes it. */
const WORKFLOW = {
  3: { class_type: 'KSampler', inputs: { seed: '{{seed}}', steps: '{{steps}}', cfg: '{{cfg}}', sampler_name: '{{sampler}}', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] } },
  4: { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd_turbo.safetensors' } },
  5: { class_type: 'EmptyLatentImage', inputs: { width: '{{width}}', height: '{{height}}', batch_size: '{{batch_size}}' } },
  6: { class_type: 'CLIPTextEncode', inputs: { text: '{{prompt}}', clip: ['4', 1] } },
  7: { class_type: 'CLIPTextEncode', inputs: { text: '{{negative_prompt}}', clip: ['4', 1] } },
  8: { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
  9: { class_type: 'SaveImage', inputs: { filename_prefix: 'atelier', images: ['8', 0] } },
};

const comfy = (name: string, extra: Record<string, unknown> = {}) =>
  ({ name, backend: 'COMFYUI', endpoints: ['http://gpu-1.internal:8188/', 'https://gpu-2.internal'], workflow: WORKFLOW, ...extra });
const openai = (name: string, extra: Record<string, unknown> = {}) =>
  ({ name, backend: 'OPENAI_IMAGES', endpoints: ['https://images.example.com'], remoteModel: 'gpt-image-1', credential: SECRET, ...extra });

const rows = () => app.db.getRepository(AiModel).find({ order: { name: 'ASC' } });

beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
  admin = await factory.user(app, { role: 'ADMIN' });
  editor = await factory.user(app, { role: 'EDITOR', tier: 'ENTERPRISE' });
});
afterAll(() => app?.close());

describe('registerModel and updateModel', () => {
  it('registers a model of each backend, with a sealed credential that no response shows', async () => {
    const c = (await gqlData<any>(app.url, REGISTER, { input: comfy('Comfy Turbo', { description: 'SD-Turbo on two boxes', minTier: 'PRO' }) }, admin.token)).registerModel;
    expect(c).toMatchObject({
      backend: 'COMFYUI', minTier: 'PRO', enabled: true, hasCredential: false, workflow: WORKFLOW, waitingForBackend: false,
      endpoints: [{ url: 'http://gpu-1.internal:8188', health: null }, { url: 'https://gpu-2.internal', health: null }],
    });
    const o = await gql<any>(app.url, REGISTER, { input: openai('Hosted') }, admin.token);
    expect(o.data?.registerModel).toMatchObject({ backend: 'OPENAI_IMAGES', remoteModel: 'gpt-image-1', hasCredential: true, workflow: null });
    const onnx = (await gqlData<any>(app.url, REGISTER, { input: { name: 'tiny-again', backend: 'ONNX', path: 'atelier-tiny' } }, admin.token)).registerModel;
    expect(onnx).toMatchObject({ backend: 'ONNX', path: 'atelier-tiny', endpoints: [] });
    expect(onnx.sha256).toMatch(/^[0-9a-f]{64}$/);

    const stored = await app.db.getRepository(AiModel).findOneByOrFail({ name: 'Hosted' });
    expect(stored.credentialCiphertext).not.toContain(SECRET);
    expect(openCredential(stored.credentialCiphertext!, app.config.credentialKey)).toBe(SECRET);
    const listed = await gql<any>(app.url, `{ models { ${FIELDS} } }`, {}, admin.token);
    const auditLine = await readFile(app.env.ATELIER_AUDIT_LOG, 'utf8');
    const auditRows = JSON.stringify(await app.db.query(`SELECT details FROM audit_events WHERE kind = 'ADMIN_ACTION'`));
    for (const text of [JSON.stringify(o), JSON.stringify(listed), auditLine, auditRows]) expect(text).not.toContain(SECRET);
    expect(auditRows).toContain('registerModel');
    expect(auditRows).toContain('(given, stored sealed)');
  });

  it('refuses an ONNX path that is only in the artifact store, pointing at atelier models push (a row without its file list could never run)', async () => {
    await app.services.store.put('models/remote-tiny/model_index.json', Buffer.from('{}'), 'application/json');
    const refused = await gql<any>(app.url, REGISTER, { input: { name: 'remote-tiny', backend: 'ONNX', path: 'models/remote-tiny' } }, admin.token);
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'path' });
    expect(refused.errors?.[0].message).toContain('atelier models push');
    expect(await app.db.getRepository(AiModel).existsBy({ name: 'remote-tiny' })).toBe(false);
  });

  it('updates a model, keeping the credential unless one is given', async () => {
    const { id } = (await gqlData<any>(app.url, REGISTER, { input: openai('To Edit') }, admin.token)).registerModel;
    const kept = (await gqlData<any>(app.url, UPDATE, { id, input: openai('Edited', { credential: null, endpoints: ['https://a.example', 'https://b.example'] }) }, admin.token)).updateModel;
    expect(kept).toMatchObject({ id, name: 'Edited', hasCredential: true, endpoints: [{ url: 'https://a.example' }, { url: 'https://b.example' }] });
    const before = (await app.db.getRepository(AiModel).findOneByOrFail({ id })).credentialCiphertext!;
    expect(openCredential(before, app.config.credentialKey)).toBe(SECRET);
    const removed = (await gqlData<any>(app.url, UPDATE, { id, input: openai('Edited', { credential: '' }) }, admin.token)).updateModel;
    expect(removed.hasCredential).toBe(false);
    const comfyNow = (await gqlData<any>(app.url, UPDATE, { id, input: comfy('Edited') }, admin.token)).updateModel;
    expect(comfyNow).toMatchObject({ backend: 'COMFYUI', remoteModel: null, workflow: WORKFLOW });
  });

  const noPrompt = { ...WORKFLOW, 6: { class_type: 'CLIPTextEncode', inputs: { text: 'a cat', clip: ['4', 1] } } };
  const noOutput = Object.fromEntries(Object.entries(WORKFLOW).filter(([id]) => id !== '9'));
  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['ftp endpoint', comfy('x', { endpoints: ['ftp://gpu-1.internal'] }), 'endpoints'],
    ['file endpoint', openai('x', { endpoints: ['file:///etc/passwd'] }), 'endpoints'],
    ['endpoint with a password', openai('x', { endpoints: ['https://user:pw@images.example.com'] }), 'endpoints'],
    ['not a URL', comfy('x', { endpoints: ['gpu-1:8188'] }), 'endpoints'],
    ['no endpoints (COMFYUI)', comfy('x', { endpoints: [] }), 'endpoints'],
    ['no endpoints (OPENAI_IMAGES)', openai('x', { endpoints: null }), 'endpoints'],
    ['the same endpoint twice', comfy('x', { endpoints: ['http://a.internal', 'http://a.internal/'] }), 'endpoints'],
    ['endpoints on ONNX', { name: 'x', backend: 'ONNX', endpoints: ['http://a.internal'] }, 'endpoints'],
    ['no workflow', comfy('x', { workflow: null }), 'workflow'],
    ['a workflow in UI format', comfy('x', { workflow: { nodes: [], links: [], version: 0.4 } }), 'workflow'],
    ['a workflow with no output node', comfy('x', { workflow: noOutput }), 'workflow'],
    ['a workflow without {{prompt}}', comfy('x', { workflow: noPrompt }), 'workflow'],
    ['an unknown placeholder', comfy('x', { workflow: { ...WORKFLOW, 4: { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: '{{checkpoint}}' } } } }), 'workflow'],
    ['a workflow that is not an object', comfy('x', { workflow: ['SaveImage'] }), 'workflow'],
    ['a workflow on OPENAI_IMAGES', openai('x', { workflow: WORKFLOW }), 'workflow'],
    ['no remoteModel', openai('x', { remoteModel: '  ' }), 'remoteModel'],
    ['an unknown backend', { name: 'x', backend: 'STABLE_HORDE' }, 'backend'],
    ['a duplicate name', comfy('Comfy Turbo'), 'name'],
    ['a name taken in another case', comfy('comfy TURBO'), 'name'],
    ['an empty name', comfy('  '), 'name'],
    ['an ONNX folder that does not exist', { name: 'x', backend: 'ONNX', path: 'no-such-model' }, 'path'],
    ['an ONNX path escaping the folder', { name: 'x', backend: 'ONNX', path: '../atelier-tiny' }, 'path'],
    ['an ONNX folder named with a space, in neither the models folder nor the store', { name: 'x', backend: 'ONNX', path: 'my model' }, 'path'],
    ['an ONNX model without folder', { name: 'nowhere', backend: 'ONNX' }, 'path'],
    ['a credential on ONNX', { name: 'x', backend: 'ONNX', path: 'atelier-tiny', credential: 'k' }, 'credential'],
  ];

  it.each(bad)('refuses %s with BAD_USER_INPUT on its field and changes nothing', async (_case, input, field) => {
    const before = await rows();
    const registered = await gql<any>(app.url, REGISTER, { input }, admin.token);
    expect(registered.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    const target = before.find((m) => m.name === 'Edited')!;
    const updated = await gql<any>(app.url, UPDATE, { id: target.id, input }, admin.token);
    // Renaming "Edited" to its own name is not a duplicate; every other case is refused on update too.
    if (!(field === 'name' && input.name === 'Edited')) expect(updated.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await rows()).toEqual(before);
  });

  it('settles two registrations of one name at once: one wins, the other is BAD_USER_INPUT on name', async () => {
    // Straight to the service on a warm pool, so the five name checks run before any insert and only the unique index can decide.
    await Promise.all(Array.from({ length: 8 }, () => app.db.query('SELECT pg_sleep(0.05)')));
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map(() => app.services.models.register(comfy('Raced') as never)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) {
      expect(r.reason).toMatchObject({ code: 'BAD_USER_INPUT', extensions: { field: 'name' } });
    }
    expect((await rows()).filter((m) => m.name === 'Raced')).toHaveLength(1);
  });

  it('holds names unique regardless of case on register and rename, naming the model that has it; a model may change its own name\'s case', async () => {
    const first = (await gqlData<any>(app.url, REGISTER, { input: comfy('case one') }, admin.token)).registerModel;
    const second = (await gqlData<any>(app.url, REGISTER, { input: comfy('case two') }, admin.token)).registerModel;
    const before = await rows();
    const registered = await gql<any>(app.url, REGISTER, { input: comfy('CASE One') }, admin.token);
    expect(registered.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    expect(registered.errors?.[0].message).toBe('A model named "case one" exists already (model names are unique regardless of case)');
    const renamed = await gql<any>(app.url, UPDATE, { id: second.id, input: comfy('Case ONE') }, admin.token);
    expect(renamed.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    expect(renamed.errors?.[0].message).toBe('A model named "case one" exists already (model names are unique regardless of case)');
    expect(await rows()).toEqual(before);
    expect((await gqlData<any>(app.url, UPDATE, { id: first.id, input: comfy('Case One') }, admin.token)).updateModel.name).toBe('Case One');
  });

  it('settles registrations of one name in different cases at once: one wins, the others are BAD_USER_INPUT on name', async () => {
    await Promise.all(Array.from({ length: 8 }, () => app.db.query('SELECT pg_sleep(0.05)')));
    const names = ['Raced Case', 'raced case', 'RACED CASE', 'Raced case', 'raced Case'];
    const results = await Promise.allSettled(names.map((name) => app.services.models.register(comfy(name) as never)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) {
      expect(r.reason).toMatchObject({ code: 'BAD_USER_INPUT', extensions: { field: 'name' } });
      expect(r.reason.message).toMatch(/^A model named "raced case" exists already/i);
    }
    expect((await rows()).filter((m) => m.name.toLowerCase() === 'raced case')).toHaveLength(1);
  });

  it('leaves a registered model alone when a folder of the same name in another case appears (a restart does not fail)', async () => {
    const registered = (await gqlData<any>(app.url, REGISTER, { input: comfy('Folder Twin') }, admin.token)).registerModel;
    const before = await rows();
    const scanned = await new ModelRegistry(app.config.modelsDir).scan();
    const twin = { ...scanned[0], name: 'folder twin' };
    await syncModels(app.db, [...scanned, twin], app.config.defaultModel);
    expect(await rows()).toEqual(before);
    expect((await rows()).find((m) => m.id === registered.id)).toMatchObject({ name: 'Folder Twin', backend: 'COMFYUI' });
  });

  it('is for admins only; others see no endpoints, workflow or credential flag', async () => {
    const before = await rows();
    const refused = await gql<any>(app.url, REGISTER, { input: comfy('Sneaky') }, editor.token);
    expect(refused.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const target = before.find((m) => m.name === 'Comfy Turbo')!;
    expect((await gql<any>(app.url, UPDATE, { id: target.id, input: comfy('Sneaky') }, editor.token)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await gql<any>(app.url, REGISTER, { input: comfy('Anon') })).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(await rows()).toEqual(before);
    const { models } = await gqlData<any>(app.url, `{ models { name backend endpoints { url } hasCredential workflow remoteModel path waitingForBackend } }`, {}, editor.token);
    const hosted = models.find((m: any) => m.name === 'Hosted');
    expect(hosted).toEqual({ name: 'Hosted', backend: 'OPENAI_IMAGES', endpoints: null, hasCredential: null, workflow: null, remoteModel: null, path: null, waitingForBackend: false });
  });

  it('shows admins each endpoint\'s health from the store, and everyone when all breakers are open', async () => {
    const model = (await rows()).find((m) => m.name === 'Comfy Turbo')!;
    const health = new EndpointHealthStore(app.redis, app.config.redisPrefix);
    const at = new Date().toISOString();
    await health.write(model.id, 'worker-a', [
      { url: 'http://gpu-1.internal:8188', state: 'OPEN', inFlight: 0, lastError: 'connect ECONNREFUSED', lastCheckedAt: at },
      { url: 'https://gpu-2.internal', state: 'CLOSED', inFlight: 2, lastError: null, lastCheckedAt: at },
    ]);
    const query = `{ models { name waitingForBackend endpoints { url health { state inFlight lastError lastCheckedAt } } } }`;
    const seen = (await gqlData<any>(app.url, query, {}, admin.token)).models.find((m: any) => m.name === 'Comfy Turbo');
    expect(seen).toEqual({
      name: 'Comfy Turbo', waitingForBackend: false,
      endpoints: [
        { url: 'http://gpu-1.internal:8188', health: { state: 'OPEN', inFlight: 0, lastError: 'connect ECONNREFUSED', lastCheckedAt: at } },
        { url: 'https://gpu-2.internal', health: { state: 'CLOSED', inFlight: 2, lastError: null, lastCheckedAt: at } },
      ],
    });
    await health.write(model.id, 'worker-a', [{ url: 'https://gpu-2.internal', state: 'OPEN', inFlight: 0, lastError: 'HTTP 502', lastCheckedAt: at }]);
    const user = (await gqlData<any>(app.url, `{ models { name waitingForBackend } }`, {}, editor.token)).models.find((m: any) => m.name === 'Comfy Turbo');
    expect(user).toEqual({ name: 'Comfy Turbo', waitingForBackend: true });
    // A worker holding jobs back says so too, whatever the breakers last reported.
    const hosted = (await rows()).find((m) => m.name === 'Hosted')!;
    await health.markWaiting(hosted.id, 'OPENAI_IMAGES', 5000);
    const marked = (await gqlData<any>(app.url, `{ models { name waitingForBackend } }`, {}, editor.token)).models.find((m: any) => m.name === 'Hosted');
    expect(marked).toEqual({ name: 'Hosted', waitingForBackend: true });
  });

  it('keeps registered models enabled when the folder scan runs again (a restart)', async () => {
    const before = await rows();
    await syncModels(app.db, await new ModelRegistry(app.config.modelsDir).scan(), app.config.defaultModel);
    const after = await rows();
    expect(after.map((m) => [m.name, m.enabled, m.isDefault])).toEqual(before.map((m) => [m.name, m.enabled, m.isDefault]));
    expect(after.filter((m) => m.backend !== 'ONNX').every((m) => m.enabled)).toBe(true);
  });
});

describe('submissions keep the model in memory', () => {
  it('read it once for many jobs, and an admin\'s change applies to the next submission', async () => {
    const { registerModel: model } = await gqlData<any>(app.url, REGISTER, { input: comfy('kept-in-memory') }, admin.token);
    const reads: unknown[] = [];
    const query = app.db.query.bind(app.db);
    const spy = vi.spyOn(app.db, 'query').mockImplementation((sql: string, ...rest: any[]) => {
      if (/FROM "models" WHERE "id" = \$1/.test(sql) && rest[0]?.[0] === model.id) reads.push(sql);
      return query(sql, ...rest);
    });
    const submit = () => gql<any>(app.url, 'mutation($m:ID!){ createGeneration(input:{ prompt:"cached", width:64, height:64, steps:1, modelId:$m }) { id } }', { m: model.id }, editor.token);
    try {
      for (let i = 0; i < 3; i += 1) expect((await submit()).errors).toBeUndefined();
      expect(reads).toHaveLength(1);
      await gqlData(app.url, 'mutation($id:ID!){ setModelEnabled(id:$id, enabled:false){ id } }', { id: model.id }, admin.token);
      expect((await submit()).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'modelId' });
    } finally {
      spy.mockRestore();
    }
  });
});
