import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { ConfigError } from '../../src/config';
import { AiModel } from '../../src/entities';
import { hashModelDir } from '../../src/gpu-worker/pipeline/model-files';
import { pushModel } from '../../src/roles';
import { LocalArtifactStore } from '../../src/storage/local-store';
import { createArtifactStorage } from '../../src/storage/create-store';
import { ModelFetchError, ModelFolders, isModelInStore, modelFileKey, pushModelFolder } from '../../src/storage/model-folders';
import { createScratchDatabase, startTestApp, testEnv, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { gqlData, signUp } from '../support/graphql';
import { generate } from '../support/library';
import { startTestS3Server, type TestS3Server } from '../support/s3-server';

/*
 * ONNX model folders in the artifact store (docs/operations.md, "Models in
 * the artifact store"). One machine has
 * the model folder and pushes it; a worker whose models folder is empty
 * fetches every file, checks each SHA-256 against the model row, keeps the
 * folder, and refuses bytes that do not match.
 */

const tmp = (name: string) => mkdtempSync(path.join(os.tmpdir(), `atelier-${name}-`));

/** A copy of the tiny model named `name`, with the row a scan would record. */
async function modelFolder(name: string): Promise<{ dir: string; spec: { name: string; files: Awaited<ReturnType<typeof hashModelDir>>['files'] } }> {
  const dir = path.join(tmp('models-a'), name);
  cpSync(path.join(inject('modelsDir'), 'atelier-tiny'), dir, { recursive: true });
  return { dir, spec: { name, files: (await hashModelDir(dir)).files } };
}

describe('model folders from the artifact store', () => {
  it('fetches a pushed model into an empty models folder, checks it, and keeps it', async () => {
    const store = new LocalArtifactStore(tmp('store'));
    const { dir, spec } = await modelFolder('shared-tiny');
    await pushModelFolder(store, dir, spec);
    const emptyFolder = tmp('models-b');
    const folders = new ModelFolders(store, emptyFolder);
    const [fetched, again] = await Promise.all([folders.folderOf(spec), folders.folderOf(spec)]);
    expect(fetched).toBe(path.join(emptyFolder, 'shared-tiny'));
    expect(again).toBe(fetched);
    expect((await hashModelDir(fetched)).sha256).toBe((await hashModelDir(dir)).sha256);
    expect(readdirSync(emptyFolder)).toEqual(['shared-tiny']);
    // Cached: the store is not read again.
    for (const file of spec.files) await store.delete(modelFileKey('shared-tiny', file.path));
    expect(await new ModelFolders(store, emptyFolder).folderOf(spec)).toBe(fetched);
  });

  it('refuses a file whose SHA-256 differs from the row, leaving nothing behind', async () => {
    const store = new LocalArtifactStore(tmp('store'));
    const { dir, spec } = await modelFolder('tampered-tiny');
    await pushModelFolder(store, dir, spec);
    const unet = spec.files.find((f) => f.path.startsWith('unet/'))!;
    await store.put(modelFileKey('tampered-tiny', unet.path), Buffer.from('not the unet'));
    const emptyFolder = tmp('models-c');
    const error = await new ModelFolders(store, emptyFolder).folderOf(spec).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelFetchError);
    expect((error as ModelFetchError).kind).toBe('checksum');
    expect((error as Error).message).toContain(`Model tampered-tiny: ${unet.path} from the artifact store has SHA-256`);
    expect((error as Error).message).toContain(`but the model row records ${unet.sha256}`);
    expect(readdirSync(emptyFolder)).toEqual([]);
  });

  it('says which file is missing when the store lacks one', async () => {
    const store = new LocalArtifactStore(tmp('store'));
    const { spec } = await modelFolder('never-pushed');
    const error = await new ModelFolders(store, tmp('models-d')).folderOf(spec).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'missing', message: expect.stringMatching(/^Model never-pushed: .+ is missing from the artifact store \(key models\/never-pushed\//) });
  });
});

describe('a worker on another machine (S3, separate API and worker processes)', () => {
  let s3: TestS3Server;
  let api: TestApp;
  let worker: TestApp;
  let env: Record<string, string>;
  let dropDatabase: (() => Promise<void>) | undefined;
  const workerModels = tmp('worker-models');

  beforeAll(async () => {
    s3 = await startTestS3Server();
    const db = await createScratchDatabase(inject('sharedDatabaseUrl'));
    dropDatabase = db.drop;
    env = {
      DATABASE_URL: db.url, ATELIER_REDIS_PREFIX: `t${randomBytes(5).toString('hex')}`, ATELIER_STORAGE: 's3', ATELIER_S3_ENDPOINT: s3.endpoint, ATELIER_S3_BUCKET: s3.bucket,
      ATELIER_S3_ACCESS_KEY_ID: s3.accessKeyId, ATELIER_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    };
    api = await startTestApp({ ...env, ATELIER_ROLE: 'api' });
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await s3?.close();
    await dropDatabase?.();
  });

  it('runs a job on a worker whose models folder was empty, with the folder `atelier models push` uploaded', async () => {
    const { dir } = await modelFolder('pushed-tiny');
    const pushed = await pushModel(dir, 'pushed-tiny', testEnv(env));
    expect(pushed).toMatchObject({ name: 'pushed-tiny', sha256: (await hashModelDir(dir)).sha256 });
    expect(readdirSync(workerModels)).toEqual([]);
    worker = await startTestApp({ ...env, ATELIER_ROLE: 'worker', ATELIER_MODELS_DIR: workerModels });
    const model = await api.db.getRepository(AiModel).findOneByOrFail({ name: 'pushed-tiny' });
    expect(model.enabled).toBe(true); // the worker's scan of its empty folder did not disable it
    const { token } = await signUp(api.url);
    const job = await generate(api.url, token, { modelId: model.id, steps: 2, width: 64, height: 64 });
    expect(job.status).toBe('COMPLETED');
    expect(existsSync(path.join(workerModels, 'pushed-tiny', 'model_index.json'))).toBe(true);
    expect((await hashModelDir(path.join(workerModels, 'pushed-tiny'))).sha256).toBe(model.sha256);
  });

  it('refuses a push under a name another model has in another case, before any file goes to the store', async () => {
    const { dir } = await modelFolder('case-tiny');
    await pushModel(dir, 'case-tiny', testEnv(env));
    const rows = () => api.db.getRepository(AiModel).find({ order: { name: 'ASC' } });
    const before = await rows();
    const refused = await pushModel(dir, 'Case-Tiny', testEnv(env)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toBe('A model named "case-tiny" exists already (model names are unique regardless of case): push with --name case-tiny to replace its files');
    expect(await rows()).toEqual(before);
    const { store } = createArtifactStorage(api.config.storage, api.config.dataDir);
    expect(await isModelInStore(store, 'Case-Tiny')).toBe(false);
    expect(await isModelInStore(store, 'case-tiny')).toBe(true);
  });

  it('refuses a push under the name of a model that is no model folder (another backend, or ONNX with a path), naming it', async () => {
    const admin = await factory.user(api, { role: 'ADMIN' });
    const register = (input: Record<string, unknown>) => gqlData<any>(api.url, 'mutation($i: ModelInput!) { registerModel(input: $i) { id } }', { i: input }, admin.token);
    await register({ name: 'hosted-tiny', backend: 'OPENAI_IMAGES', endpoints: ['https://images.example.com'], remoteModel: 'gpt-image-1', credential: 'sk-test-0123456789' });
    await register({ name: 'tiny-at-path', backend: 'ONNX', path: 'atelier-tiny' });
    const { dir } = await modelFolder('pushed-over');
    const rows = () => api.db.getRepository(AiModel).find({ order: { name: 'ASC' } });
    const before = await rows();
    const { store } = createArtifactStorage(api.config.storage, api.config.dataDir);
    for (const [name, what] of [
      ['hosted-tiny', 'a model on the OPENAI_IMAGES backend'],
      ['Hosted-Tiny', 'a model on the OPENAI_IMAGES backend'],
      ['tiny-at-path', 'an ONNX model registered with the path "atelier-tiny"'],
    ]) {
      const refused = await pushModel(dir, name, testEnv(env)).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ConfigError);
      const taken = name.toLowerCase();
      expect((refused as Error).message).toBe(`A model named "${taken}" exists already as ${what}, not a model folder (model names are unique regardless of case): push under another name (--name)`);
      expect(await isModelInStore(store, name)).toBe(false);
    }
    expect(await rows()).toEqual(before); // files, hashes, description and enabled as registered
  });
});

describe('isModelInStore', () => {
  it('answers false, without asking the store, for a name no push could have (registerModel allows spaces)', async () => {
    const store = new LocalArtifactStore(tmp('store'));
    const exists = vi.spyOn(store, 'exists');
    expect(await isModelInStore(store, 'My Model')).toBe(false);
    expect(await isModelInStore(store, '../escape')).toBe(false);
    expect(exists).not.toHaveBeenCalled();
  });
});

describe('an ONNX model registered with a path', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app?.close());

  it('renders from that folder of the models folder, wherever the worker runs from', async () => {
    const admin = await factory.user(app, { role: 'ADMIN' });
    const { registerModel } = await gqlData<any>(app.url, 'mutation { registerModel(input: { name: "tiny-by-path", backend: ONNX, path: "atelier-tiny" }) { id path } }', {}, admin.token);
    expect(registerModel.path).toBe('atelier-tiny');
    const job = await generate(app.url, admin.token, { modelId: registerModel.id, steps: 2, width: 64, height: 64 });
    expect(job.status).toBe('COMPLETED');
  });
});
