import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startAtelier } from '../../src/app';
import { loadConfig } from '../../src/config';
import { AiModel, InferenceBackend } from '../../src/entities';
import { createLogger } from '../../src/observability/logger';
import { dataTables, digestLines, dumpTable, useUtc, type Query } from '../../src/database/installation-transfer/table-rows';
import { hashModelDir } from '../../src/gpu-worker/pipeline/model-files';
import { createScratchDatabase, startTestApp, testEnv, type TestApp } from '../support/app';
import { job, updateUser } from '../support/factories';
import { generate } from '../support/library';
import { collect, gqlData, signUp, waitFor, wsClient } from '../support/graphql';
import { paletteDataset } from '../support/training';
import { startTestS3Server, type TestS3Server } from '../support/s3-server';

// `atelier export` from an embedded PGlite installation with local files, then
// `atelier import` into PostgreSQL with S3: the API on the new installation
// serves the same users, jobs, images (bytes) and albums, and renders with a
// model `atelier models push` added.
const CLI = path.join(__dirname, '../../dist/src/cli/main.js');
const PASSWORD = 'correct horse battery';
const serverUrl = inject('sharedDatabaseUrl');
const scratchDirs: string[] = [];
const drops: (() => Promise<void>)[] = [];

let s3: TestS3Server;
let sourceEnv: Record<string, string>;
let exportDir: string;

interface Snapshot { me: unknown; jobs: unknown; albums: unknown; imageHashes: Record<string, string> }
let before: { alice: Snapshot; bob: Snapshot };

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  scratchDirs.push(dir);
  return dir;
}

/**
 * Runs the built CLI with exactly this environment (no DATABASE_URL leaking in
 * from the test runner). Asynchronously: the S3 server lives in this process.
 */
function atelier(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

const SNAPSHOT = `query Snapshot {
  me { id email displayName role tier }
  jobs(first: 10) { edges { node { id status prompt seed steps width height count createdAt completedAt images { id index seed sha256 bytes } video { mimeType bytes frames } } } }
  albums(first: 5) { edges { node { id name description imageCount images(first: 10) { edges { node { id } } } } } }
}`;

/** What a user sees through the API, plus the SHA-256 of every image's (and clip's and poster's) bytes as downloaded. */
async function snapshot(url: string, token: string): Promise<Snapshot> {
  const data = await gqlData<any>(url, SNAPSHOT, {}, token);
  const imageHashes: Record<string, string> = {};
  const { jobs: urls } = await gqlData<any>(url, 'query { jobs(first: 10) { edges { node { id images { id url } video { url posterUrl } } } } }', {}, token);
  for (const edge of urls.edges) {
    const { video } = edge.node;
    const clip = video ? [{ id: `${edge.node.id}.mp4`, url: video.url }, { id: `${edge.node.id}.poster`, url: video.posterUrl }] : [];
    for (const image of [...edge.node.images, ...clip]) {
      const res = await fetch(image.url);
      expect(res.status).toBe(200);
      imageHashes[image.id] = createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex');
    }
  }
  return { me: data.me, jobs: data.jobs, albums: data.albums, imageHashes };
}

/** Runs a PostgreSQL client tool (pg_dump, pg_restore); rejects with its stderr. */
function pgTool(tool: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(tool, args, { timeout: 120_000 }, (error, _stdout, stderr) => (error ? reject(new Error(`${tool}: ${stderr || error.message}`)) : resolve()));
  });
}

/** Row counts and checksums of a database's tables, computed the way export and import do. */
async function tableDigests(url: string): Promise<{ name: string; rows: number; sha256: string }[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  // TypeORM's query answers the rows, typed as the caller asks (table-rows.ts's Query): so does this one, on pg.
  const q: Query = { query: async <T>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as T };
  try {
    await client.query('BEGIN');
    await useUtc(q);
    const digests = [];
    for (const name of await dataTables(q)) {
      const lines = await dumpTable(q, name);
      digests.push({ name, rows: lines.length, sha256: digestLines(lines) });
    }
    return digests;
  } finally {
    await client.query('ROLLBACK');
    await client.end();
  }
}

async function login(url: string, email: string): Promise<string> {
  const { login: session } = await gqlData<any>(url, 'mutation($e:String!,$p:String!){ login(email:$e, password:$p) { token } }', { e: email, p: PASSWORD });
  return session.token;
}

async function postgresTarget(): Promise<{ url: string; env: Record<string, string> }> {
  if (!serverUrl) throw new Error('No PostgreSQL server: set DATABASE_URL or install PostgreSQL (apt-get install postgresql)');
  const scratch = await createScratchDatabase(serverUrl);
  drops.push(scratch.drop);
  const env = testEnv({
    DATABASE_URL: scratch.url, ATELIER_STORAGE: 's3', ATELIER_S3_ENDPOINT: s3.endpoint, ATELIER_S3_BUCKET: s3.bucket,
    ATELIER_S3_ACCESS_KEY_ID: s3.accessKeyId, ATELIER_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
  });
  scratchDirs.push(env.ATELIER_DATA_DIR);
  return { url: scratch.url, env };
}

let emails: { alice: string; bob: string };
let trainingRunId: string;
let checkpointBefore: { step: number; sha256: string };
/** The run page's comparison gallery before the move: each save point's prompts and the SHA-256 of each image. */
let galleryBefore: Gallery;
/** A copy of the tiny model that `atelier models push` put into the source's artifact store. */
let pushedFolder: string;

/** The training run's last checkpoint as its owner downloads it (`checkpointUrl`). */
async function checkpointOf(url: string, token: string): Promise<{ step: number; sha256: string }> {
  const { trainingRun } = await gqlData<any>(url, 'query($r:ID!){ trainingRun(id:$r){ checkpointStep checkpointUrl } }', { r: trainingRunId }, token);
  const res = await fetch(trainingRun.checkpointUrl);
  expect(res.status).toBe(200);
  return { step: trainingRun.checkpointStep, sha256: createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex') };
}

type Gallery = { step: number; samples: { prompt: string; sha256: string }[] }[];

/** What the run page's comparison gallery shows (`TrainingRun.samples`), each image as its owner downloads it. */
async function galleryOf(url: string, token: string): Promise<Gallery> {
  const { trainingRun } = await gqlData<any>(url, 'query($r:ID!){ trainingRun(id:$r){ samples { step samples { prompt url } } } }', { r: trainingRunId }, token);
  const gallery: Gallery = [];
  for (const point of trainingRun.samples) {
    const samples = [];
    for (const sample of point.samples) {
      const res = await fetch(sample.url);
      expect(res.status).toBe(200);
      samples.push({ prompt: sample.prompt, sha256: createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex') });
    }
    gallery.push({ step: point.step, samples });
  }
  return gallery;
}

/** The step of each SAMPLE event `trainingUpdated` replays for the run. */
async function sampleEventSteps(url: string, token: string): Promise<number[]> {
  const socket = wsClient(url, token);
  try {
    const run = collect<any>(socket, 'subscription($r:ID!){ trainingUpdated(runId:$r){ type step } }', { r: trainingRunId }, () => false);
    await run.done;
    return run.items.filter((e) => e.trainingUpdated.type === 'SAMPLE').map((e) => e.trainingUpdated.step);
  } finally {
    await socket.dispose();
  }
}

beforeAll(async () => {
  s3 = await startTestS3Server();
  // Few encoding iterations: the training run here is about its files, not its fit.
  sourceEnv = testEnv({ ATELIER_TRAINER_ENCODING_ITERATIONS: '10' });
  scratchDirs.push(sourceEnv.ATELIER_DATA_DIR);
  const source = await startAtelier(loadConfig(sourceEnv), { logger: createLogger({ level: 'warn' }) });
  try {
    const url = source.url;
    const alice = await signUp(url, 'alice');
    const bob = await signUp(url, 'bob');
    emails = { alice: alice.email, bob: bob.email };
    const first = await job({ url }, alice, { prompt: 'a lighthouse at dusk', count: 2 }, { wait: true });
    await job({ url }, alice, { prompt: 'a fox in snow' }, { wait: true });
    await job({ url }, bob, { prompt: 'a storm over the sea' }, { wait: true });
    // A clip: its MP4 and poster live in jobs.video, not in a storage_key column.
    const { createVideo: clip } = await gqlData<any>(url, 'mutation { createVideo(input: { prompt: "waves", durationSeconds: 0.5, fps: 2, steps: 1, width: 64, height: 64 }) { id } }', {}, bob.token);
    await waitFor(async () => (await gqlData<any>(url, 'query($id:ID!){ job(id:$id){ status } }', { id: clip.id }, bob.token)).job.status === 'COMPLETED', 60_000);
    const { createAlbum } = await gqlData<any>(url, 'mutation { createAlbum(name: "Keepers", description: "best") { id } }', {}, alice.token);
    await gqlData(url, 'mutation($a:ID!,$i:[ID!]!){ addImagesToAlbum(albumId:$a, imageIds:$i) { id } }', { a: createAlbum.id, i: first.images.map((i) => i.id) }, alice.token);
    await gqlData(url, 'mutation($i:ID!){ favoriteImage(imageId:$i) { id } }', { i: first.images[0].id }, alice.token);
    await gqlData(url, 'mutation { createSession(name: "Moodboard") { id } }', {}, bob.token);
    await gqlData(url, 'mutation { createApiKey(name: "ci") { secret } }', {}, bob.token);
    // A finished training run: its dataset's images, its LoRA, and the last checkpoint with its optimizer state.
    await updateUser(source, bob.id, { tier: 'PRO' });
    const datasetId = await paletteDataset(url, bob.token, { name: 'teal', rgb: [20, 160, 150], caption: 'a teal texture', count: 2 });
    const { startTraining } = await gqlData<any>(url, 'mutation($d:ID!){ startTraining(input:{ datasetId:$d, loraName:"teal", steps:4, saveEvery:2, batchSize:1, samplePrompts:["a teal texture","a teal stone"] }){ id } }', { d: datasetId }, bob.token);
    trainingRunId = startTraining.id;
    await waitFor(async () => (await gqlData<any>(url, 'query($r:ID!){ trainingRun(id:$r){ status } }', { r: trainingRunId }, bob.token)).trainingRun.status === 'COMPLETED', 120_000);
    // Models under names no push could have (a space), so no store key: one registered with a path, and a folder
    // model (no path). The export leaves their files with the models folder instead of failing on
    // `models/My Model/…`, and the new installation starts with them (its folder scan asks the store too).
    const tinyFiles = await hashModelDir(path.join(inject('modelsDir'), 'atelier-tiny'));
    const models = source.db.getRepository(AiModel);
    await models.save(models.create([
      { name: 'My Model', backend: InferenceBackend.ONNX, path: 'atelier-tiny', description: 'by path', ...tinyFiles },
      { name: 'Spaced Folder', backend: InferenceBackend.ONNX, path: null, description: 'a folder elsewhere', ...tinyFiles },
    ]));
    before = { alice: await snapshot(url, alice.token), bob: await snapshot(url, bob.token) };
    checkpointBefore = await checkpointOf(url, bob.token);
    galleryBefore = await galleryOf(url, bob.token);
    // Samples at step 0 (the base model), the save point and the end, two prompts each.
    expect(galleryBefore.map((p) => [p.step, p.samples.map((s) => s.prompt)])).toEqual([0, 2, 4].map((step) => [step, ['a teal texture', 'a teal stone']]));
    expect(await sampleEventSteps(url, bob.token)).toEqual([0, 2, 4]);
  } finally {
    await source.stop();
  }
  // A model only in the artifact store (models/pushed-tiny/…), not in any models folder.
  pushedFolder = path.join(tempDir('atelier-push-'), 'pushed-tiny');
  cpSync(path.join(inject('modelsDir'), 'atelier-tiny'), pushedFolder, { recursive: true });
  const pushed = await atelier(['models', 'push', pushedFolder], sourceEnv);
  expect(pushed.status, pushed.stderr).toBe(0);
  exportDir = path.join(tempDir('atelier-export-'), 'export');
  const exported = await atelier(['export', exportDir, '--json'], sourceEnv);
  expect(exported.status, exported.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  for (const drop of drops) await drop().catch(() => undefined);
  await s3?.close();
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

describe('atelier export / import', () => {
  it('moves PGlite + local files into PostgreSQL + S3; the API there serves the same users, jobs, images and albums', async () => {
    const manifest = JSON.parse(readFileSync(path.join(exportDir, 'manifest.json'), 'utf8'));
    const rows = Object.fromEntries(manifest.tables.map((t: { name: string; rows: number }) => [t.name, t.rows]));
    expect(rows).toMatchObject({ users: 2, jobs: 4, images: 4, albums: 1, album_images: 2, favorites: 1, sessions: 1, api_keys: 1 });
    expect(rows.audit_events).toBeGreaterThan(0);
    expect(rows).toMatchObject({ datasets: 1, dataset_images: 2, training_runs: 1, loras: 1, training_samples: 6 });
    // 4 images, 1 clip and its poster; 2 dataset images, the LoRA, the last checkpoint and its optimizer state,
    // the run's 6 sample images; every file of the pushed model (the bundled one lives in the models folder, not the store).
    const modelFiles = (await hashModelDir(pushedFolder)).files;
    expect(manifest.files.count).toBe(17 + modelFiles.length);
    const sampleKeys = manifest.files.entries.map((e: { key: string }) => e.key).filter((key: string) => /\/sample-\d+-\d+-a\d+\.png$/.test(key));
    expect(sampleKeys).toEqual([0, 1, 2, 3, 4, 5].map((i) => `training/${trainingRunId}/sample-${[0, 2, 4][i >> 1]}-${i % 2}-a1.png`).sort());
    const modelKeys = manifest.files.entries.map((e: { key: string }) => e.key).filter((key: string) => key.startsWith('models/'));
    expect(modelKeys.sort()).toEqual(modelFiles.map((f) => `models/pushed-tiny/${f.path}`).sort());

    const target = await postgresTarget();
    const imported = await atelier(['import', exportDir], target.env);
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stdout).toContain('verified: counts and SHA-256 match');
    expect(imported.stdout).toMatch(new RegExp(`images\\s+4\\s+${manifest.tables.find((t: { name: string }) => t.name === 'images').sha256}`));
    expect(imported.stdout).toContain(manifest.files.sha256);
    console.log(`export/import counts and checksums:\n${imported.stdout}`);

    const app: TestApp = await startTestApp(target.env);
    try {
      for (const name of ['alice', 'bob'] as const) {
        const token = await login(app.url, emails[name]);
        expect(await snapshot(app.url, token)).toEqual(before[name]);
        if (name === 'bob') {
          expect(await checkpointOf(app.url, token)).toEqual(checkpointBefore);
          // The gallery survives the move: its record came in the tables, its images in the files, byte for byte,
          // though the run's events stayed in the old Redis (none is replayed here).
          expect(await sampleEventSteps(app.url, token)).toEqual([]);
          expect(await galleryOf(app.url, token)).toEqual(galleryBefore);
        }
      }
      // The models under names with a space came along as rows (their files stay with the models folder).
      expect(await app.db.getRepository(AiModel).findOneBy({ name: 'My Model' })).toMatchObject({ backend: 'ONNX', path: 'atelier-tiny', enabled: true });
      expect(await app.db.getRepository(AiModel).findOneBy({ name: 'Spaced Folder' })).toMatchObject({ path: null, enabled: false }); // not in this models folder
      // The sign-ins above were audited: identity ids continue after the imported ones instead of colliding.
      const [{ n }] = await app.db.query('SELECT count(*)::int AS n FROM audit_events');
      expect(n).toBe(rows.audit_events + 2);
    } finally {
      await app.close();
    }
  }, 180_000);

  it('carries the files of a model `atelier models push` added: the new installation renders with it', async () => {
    const target = await postgresTarget();
    expect((await atelier(['import', exportDir], target.env)).status).toBe(0);
    // A worker whose models folder holds only the bundled model: the pushed one can only come from the imported store.
    const models = tempDir('atelier-import-models-');
    cpSync(path.join(inject('modelsDir'), 'atelier-tiny'), path.join(models, 'atelier-tiny'), { recursive: true });
    const app = await startTestApp({ ...target.env, ATELIER_MODELS_DIR: models });
    try {
      const { token } = await signUp(app.url, 'importer');
      const { models: listed } = await gqlData<any>(app.url, '{ models { id name enabled usable } }', {}, token);
      const model = listed.find((m: { name: string }) => m.name === 'pushed-tiny');
      expect(model).toMatchObject({ enabled: true, usable: true });
      const done = await generate(app.url, token, { prompt: 'a moved model', modelId: model.id, steps: 2, width: 64, height: 64 });
      expect(done.images).toHaveLength(1);
      // Fetched from the store into the models folder, file for file as pushed.
      expect((await hashModelDir(path.join(models, 'pushed-tiny'))).sha256).toBe((await hashModelDir(pushedFolder)).sha256);
    } finally {
      await app.close();
    }

    // Into an embedded installation with local files, they land where its store keeps pushed models.
    const local = testEnv({ REDIS_URL: '' });
    scratchDirs.push(local.ATELIER_DATA_DIR);
    const intoLocal = await atelier(['import', exportDir], local);
    expect(intoLocal.status, intoLocal.stderr).toBe(0);
    const stored = path.join(local.ATELIER_DATA_DIR, 'artifacts', 'models', 'pushed-tiny');
    expect((await hashModelDir(stored)).sha256).toBe((await hashModelDir(pushedFolder)).sha256);
  }, 180_000);

  it('refuses a tampered export, a non-empty target and a second import, changing nothing', async () => {
    const tampered = path.join(tempDir('atelier-tampered-'), 'export');
    cpSync(exportDir, tampered, { recursive: true });
    const albums = path.join(tampered, 'tables', 'albums.jsonl');
    writeFileSync(albums, readFileSync(albums, 'utf8').replace('Keepers', 'Keeperz'));
    const target = await postgresTarget();
    const refused = await atelier(['import', tampered, '--json'], target.env);
    expect(refused.status).toBe(1);
    expect(JSON.parse(refused.stdout).error).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('albums.jsonl') });

    const db = new Client({ connectionString: target.url });
    await db.connect();
    try {
      expect((await db.query('SELECT count(*)::int AS n FROM users')).rows).toEqual([{ n: 0 }]);
      expect((await atelier(['import', exportDir], target.env)).status).toBe(0);
      const again = await atelier(['import', exportDir, '--json'], target.env);
      expect(again.status).toBe(1);
      expect(JSON.parse(again.stdout).error.message).toMatch(/not empty/);
      expect((await db.query('SELECT count(*)::int AS n FROM users')).rows).toEqual([{ n: 2 }]);
    } finally {
      await db.end();
    }
  }, 180_000);

  it('restores a pg_dump backup with pg_restore to the same rows (the procedure in docs/operations.md)', async () => {
    const manifest = JSON.parse(readFileSync(path.join(exportDir, 'manifest.json'), 'utf8'));
    const live = await postgresTarget();
    expect((await atelier(['import', exportDir], live.env)).status).toBe(0);
    const dumpFile = path.join(tempDir('atelier-pg-dump-'), 'atelier.dump');
    await pgTool('pg_dump', ['--format=custom', '--no-owner', '--file', dumpFile, live.url]);

    const restored = await createScratchDatabase(serverUrl);
    drops.push(restored.drop);
    await pgTool('pg_restore', ['--no-owner', '--exit-on-error', '--dbname', restored.url, dumpFile]);
    expect(await tableDigests(restored.url)).toEqual(manifest.tables);
  }, 180_000);
});
