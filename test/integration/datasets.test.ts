import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import sharp from 'sharp';
import { Dataset, DatasetImage, TrainingRun } from '../../src/entities';
import { secondsUntilUtcMidnight } from '../../src/kernel/clock';
import { gql, gqlData } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { paletteDataset, paletteImage, uploadBytes } from '../support/training';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
});
afterAll(() => app?.close());

const CREATE = 'mutation($i:DatasetInput!){ createDataset(input:$i){ id name mine } }';
const ADD = 'mutation($d:ID!,$im:[DatasetImageInput!]!){ addDatasetImages(datasetId:$d, images:$im){ id caption format width height url } }';
const READ = 'query($id:ID!){ dataset(id:$id){ id name images { id caption format } } }';
const ADMIT = 'mutation($i:TrainingInput!){ startTraining(input:$i){ id status loraName config { samplePrompts } } }';
const REGISTER = 'mutation($input: ModelInput!) { registerModel(input: $input) { id } }';

async function storedImageKeys(datasetId: string): Promise<string[]> {
  return (await app.db.getRepository(DatasetImage).findBy({ datasetId })).map((i) => i.storageKey);
}

describe('datasets', () => {
  it('takes PNG, JPEG and WebP uploads with captions, checked by content, and serves them signed', async () => {
    const u = await factory.user(app, { tier: 'PRO' });
    const ds = (await gqlData<any>(app.url, CREATE, { i: { name: 'teal things' } }, u.token)).createDataset;
    const images = [];
    for (const format of ['png', 'jpeg', 'webp'] as const) {
      images.push({ uploadId: await uploadBytes(app.url, u.token, await paletteImage(format, [20, 160, 150])), caption: `a ${format} in teal` });
    }
    const added = (await gqlData<any>(app.url, ADD, { d: ds.id, im: images }, u.token)).addDatasetImages;
    expect(added.map((i: any) => [i.format, i.width, i.height, i.caption])).toEqual([
      ['png', 64, 64, 'a png in teal'], ['jpeg', 64, 64, 'a jpeg in teal'], ['webp', 64, 64, 'a webp in teal'],
    ]);
    const file = await fetch(added[0].url);
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');
    // The uploads were consumed: they no longer count against the pending allowance.
    expect(await app.services.uploads.pendingBytes(u.id)).toBe(0);

    const updated = await gqlData<any>(app.url, 'mutation($id:ID!){ updateDatasetImage(id:$id, caption:"  renamed  "){ caption } }', { id: added[1].id }, u.token);
    expect(updated.updateDatasetImage.caption).toBe('renamed');
    const removed = await gqlData<any>(app.url, 'mutation($d:ID!,$ids:[ID!]!){ removeDatasetImages(datasetId:$d, imageIds:$ids) }', { d: ds.id, ids: [added[2].id] }, u.token);
    expect(removed.removeDatasetImages).toBe(1);
    expect((await gqlData<any>(app.url, READ, { id: ds.id }, u.token)).dataset.images.map((i: any) => i.caption)).toEqual(['a png in teal', 'renamed']);
  });

  it('refuses a non-image, a renamed text file and a truncated PNG with the field, and stores nothing of the batch', async () => {
    const u = await factory.user(app, { tier: 'PRO' });
    const ds = (await gqlData<any>(app.url, CREATE, { i: { name: 'strict' } }, u.token)).createDataset;
    const good = await uploadBytes(app.url, u.token, await paletteImage('png', [200, 40, 40]));
    const png = await paletteImage('png', [200, 40, 40], 64, 2);
    const cases: [Buffer, RegExp][] = [
      [Buffer.from('hello, I am a text file called photo.png'), /Not a PNG, JPEG or WebP/],
      [png.subarray(0, Math.floor(png.length / 2)), /cannot be decoded/],
      [await paletteImage('png', [1, 2, 3], 16), /32 to 4096 pixels/],
      [await sharp({ create: { width: 40, height: 40, channels: 3, background: '#000' } }).gif().toBuffer(), /Not a PNG, JPEG or WebP/],
    ];
    for (const [bytes, message] of cases) {
      const bad = await uploadBytes(app.url, u.token, bytes);
      const res = await gql(app.url, ADD, { d: ds.id, im: [{ uploadId: good, caption: 'fine' }, { uploadId: bad }] }, u.token);
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'images[1].uploadId' });
      expect(res.errors?.[0].message).toMatch(message);
    }
    expect(await storedImageKeys(ds.id)).toEqual([]);
    const longCaption = await gql(app.url, ADD, { d: ds.id, im: [{ uploadId: good, caption: 'x'.repeat(1001) }] }, u.token);
    expect(longCaption.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'images[0].caption' });
  });

  it('holds the tier\'s image count per dataset, even for calls at once', async () => {
    const u = await factory.user(app, { tier: 'FREE' });
    const ds = (await gqlData<any>(app.url, CREATE, { i: { name: 'small' } }, u.token)).createDataset;
    const limit = (await app.services.quotas.policyFor('FREE' as never)).maxDatasetImages;
    const bytes = await paletteImage('png', [10, 10, 200], 32);
    const uploads = await Promise.all(Array.from({ length: limit + 2 }, () => uploadBytes(app.url, u.token, bytes)));
    const results = await Promise.all(uploads.map((uploadId) => gql(app.url, ADD, { d: ds.id, im: [{ uploadId }] }, u.token)));
    const refused = results.filter((r) => r.errors);
    expect(refused).toHaveLength(2);
    expect(refused[0].errors?.[0].extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', field: 'images', limit });
    expect(await storedImageKeys(ds.id)).toHaveLength(limit);
  });

  it('is private to its owner unless shared with a session; only the owner changes it', async () => {
    const owner = await factory.user(app, { tier: 'PRO' });
    const other = await factory.user(app);
    const mine = (await gqlData<any>(app.url, CREATE, { i: { name: 'private' } }, owner.token)).createDataset;
    const hidden = await gql(app.url, READ, { id: mine.id }, other.token);
    expect(hidden.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect((await gqlData<any>(app.url, '{ datasets { edges { node { id } } } }', {}, other.token)).datasets.edges).toEqual([]);

    const session = (await gqlData<any>(app.url, 'mutation { createSession(name:"studio"){ id } }', {}, owner.token)).createSession;
    const invite = (await gqlData<any>(app.url, 'mutation($s:ID!){ createSessionInvite(sessionId:$s, role: COLLABORATOR){ token } }', { s: session.id }, owner.token)).createSessionInvite;
    await gqlData(app.url, 'mutation($t:String!){ joinSession(token:$t){ id } }', { t: invite.token }, other.token);
    const shared = (await gqlData<any>(app.url, CREATE, { i: { name: 'shared', sessionId: session.id } }, owner.token)).createDataset;
    const seen = (await gqlData<any>(app.url, 'query($id:ID!){ dataset(id:$id){ name mine } }', { id: shared.id }, other.token)).dataset;
    expect(seen).toEqual({ name: 'shared', mine: false });
    const del = await gql(app.url, 'mutation($id:ID!){ deleteDataset(id:$id) }', { id: shared.id }, other.token);
    expect(del.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await gqlData<any>(app.url, 'mutation($id:ID!){ deleteDataset(id:$id) }', { id: shared.id }, owner.token)).deleteDataset).toBe(true);
  });

  it('pages datasets newest first with Relay cursors', async () => {
    const u = await factory.user(app, { tier: 'PRO' });
    for (const name of ['a', 'b', 'c']) await gqlData(app.url, CREATE, { i: { name } }, u.token);
    const page = 'query($after:String){ datasets(first:2, after:$after){ edges { node { name } } pageInfo { hasNextPage endCursor } } }';
    const one = (await gqlData<any>(app.url, page, {}, u.token)).datasets;
    expect(one.edges.map((e: any) => e.node.name)).toEqual(['c', 'b']);
    const two = (await gqlData<any>(app.url, page, { after: one.pageInfo.endCursor }, u.token)).datasets;
    expect(two.edges.map((e: any) => e.node.name)).toEqual(['a']);
    expect(two.pageInfo.hasNextPage).toBe(false);
  });
});

describe('a dataset while a training run on it is open', () => {
  const UPDATE = 'mutation($id:ID!,$c:String!){ updateDatasetImage(id:$id, caption:$c){ caption } }';
  const REMOVE = 'mutation($d:ID!,$ids:[ID!]!){ removeDatasetImages(datasetId:$d, imageIds:$ids) }';
  const DELETE = 'mutation($id:ID!){ deleteDataset(id:$id) }';

  it('refuses every change with CONFLICT naming the run, changes nothing, and takes them again once the run ended', async () => {
    const u = await factory.user(app, { tier: 'PRO' });
    const datasetId = await paletteDataset(app.url, u.token, { name: 'in use', rgb: [20, 160, 150], caption: 'teal', count: 2 });
    const before = await app.db.getRepository(DatasetImage).find({ where: { datasetId }, order: { createdAt: 'ASC' } });
    // This app has no worker: the run stays QUEUED (a RUNNING one is refused the same way: both are open).
    const run = (await gqlData<any>(app.url, ADMIT, { i: { datasetId, loraName: 'busy', steps: 10, saveEvery: 5 } }, u.token)).startTraining;
    const upload = await uploadBytes(app.url, u.token, await paletteImage('png', [200, 40, 40]));
    const attempts = [
      await gql(app.url, ADD, { d: datasetId, im: [{ uploadId: upload, caption: 'added mid-run' }] }, u.token),
      await gql(app.url, UPDATE, { id: before[0].id, c: 'edited mid-run' }, u.token),
      await gql(app.url, REMOVE, { d: datasetId, ids: [before[1].id] }, u.token),
      await gql(app.url, DELETE, { id: datasetId }, u.token),
    ];
    for (const res of attempts) {
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', runId: run.id });
      expect(res.errors?.[0].message).toContain(`Training run ${run.id} ("busy") is QUEUED on this dataset`);
      expect(res.errors?.[0].message).toMatch(/cancel it \(cancelTraining\)/);
    }
    const after = await app.db.getRepository(DatasetImage).find({ where: { datasetId }, order: { createdAt: 'ASC' } });
    expect(after.map((i) => [i.id, i.caption])).toEqual(before.map((i) => [i.id, i.caption]));
    // The refused add's file, stored before its rows would have been, is gone again.
    expect(await storedImageKeys(datasetId)).toHaveLength(2);
    expect(await app.db.getRepository(Dataset).existsBy({ id: datasetId })).toBe(true);
    // The refused upload is still the user's to use.
    expect(await app.services.uploads.pendingBytes(u.id)).toBeGreaterThan(0);

    await gqlData(app.url, 'mutation($id:ID!){ cancelTraining(id:$id){ status } }', { id: run.id }, u.token);
    expect((await app.db.getRepository(TrainingRun).findOneByOrFail({ id: run.id })).status).toBe('CANCELLED');
    expect((await gqlData<any>(app.url, ADD, { d: datasetId, im: [{ uploadId: upload, caption: 'added after' }] }, u.token)).addDatasetImages).toHaveLength(1);
    expect((await gqlData<any>(app.url, UPDATE, { id: before[0].id, c: 'edited after' }, u.token)).updateDatasetImage.caption).toBe('edited after');
    expect((await gqlData<any>(app.url, REMOVE, { d: datasetId, ids: [before[1].id] }, u.token)).removeDatasetImages).toBe(1);
    expect((await gqlData<any>(app.url, DELETE, { id: datasetId }, u.token)).deleteDataset).toBe(true);
  });

  it('tells a session member\'s dataset owner that another member\'s run holds it, without naming that run', async () => {
    const owner = await factory.user(app, { tier: 'PRO' });
    const member = await factory.user(app, { tier: 'PRO' });
    const session = (await gqlData<any>(app.url, 'mutation { createSession(name:"shared training"){ id } }', {}, owner.token)).createSession;
    const invite = (await gqlData<any>(app.url, 'mutation($s:ID!){ createSessionInvite(sessionId:$s, role: COLLABORATOR){ token } }', { s: session.id }, owner.token)).createSessionInvite;
    await gqlData(app.url, 'mutation($t:String!){ joinSession(token:$t){ id } }', { t: invite.token }, member.token);
    const shared = (await gqlData<any>(app.url, CREATE, { i: { name: 'shared set', sessionId: session.id } }, owner.token)).createDataset;
    await gqlData(app.url, ADD, { d: shared.id, im: [{ uploadId: await uploadBytes(app.url, owner.token, await paletteImage('png', [9, 9, 9])) }] }, owner.token);
    const run = (await gqlData<any>(app.url, ADMIT, { i: { datasetId: shared.id, loraName: 'theirs', steps: 10, saveEvery: 5 } }, member.token)).startTraining;
    const res = await gql(app.url, DELETE, { id: shared.id }, owner.token);
    expect(res.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(res.errors?.[0].message).toMatch(/^A session member's training run is QUEUED on this dataset/);
    expect(JSON.stringify(res.errors)).not.toContain(run.id);
  });
});

describe('dataset text and uploads', () => {
  it('counts names and captions in characters (an emoji is one) and refuses half of a surrogate pair', async () => {
    const u = await factory.user(app, { tier: 'PRO' });
    const emoji = '\u{1F600}';
    const named = (await gqlData<any>(app.url, CREATE, { i: { name: emoji.repeat(80) } }, u.token)).createDataset;
    expect(named.name).toBe(emoji.repeat(80));
    for (const name of [emoji.repeat(81), 'half \ud83d a pair']) {
      const res = await gql(app.url, CREATE, { i: { name } }, u.token);
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    }
    const upload = await uploadBytes(app.url, u.token, await paletteImage('png', [30, 30, 200]));
    const added = (await gqlData<any>(app.url, ADD, { d: named.id, im: [{ uploadId: upload, caption: emoji.repeat(1000) }] }, u.token)).addDatasetImages;
    expect(added[0].caption).toBe(emoji.repeat(1000));
    const bad: Array<[string, string]> = [[emoji.repeat(1001), 'must be at most 1000 characters'], ['a \udc00 b', 'half of a surrogate pair']];
    for (const [caption, message] of bad) {
      const other = await uploadBytes(app.url, u.token, await paletteImage('png', [30, 30, 200]));
      const res = await gql(app.url, ADD, { d: named.id, im: [{ uploadId: other, caption }] }, u.token);
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'images[0].caption' });
      expect(res.errors?.[0].message).toContain(message);
      const update = await gql(app.url, 'mutation($id:ID!,$c:String!){ updateDatasetImage(id:$id, caption:$c){ caption } }', { id: added[0].id, c: caption }, u.token);
      expect(update.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'caption' });
    }
  });

  it('refuses one upload sent twice in a call on the second entry, and adds nothing', async () => {
    const u = await factory.user(app, { tier: 'PRO' });
    const ds = (await gqlData<any>(app.url, CREATE, { i: { name: 'twice' } }, u.token)).createDataset;
    const a = await uploadBytes(app.url, u.token, await paletteImage('png', [200, 200, 20]));
    const b = await uploadBytes(app.url, u.token, await paletteImage('png', [20, 200, 200]));
    const res = await gql(app.url, ADD, { d: ds.id, im: [{ uploadId: a }, { uploadId: b }, { uploadId: a }] }, u.token);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'images[2].uploadId' });
    expect(res.errors?.[0].message).toContain('already images[0]');
    expect(await storedImageKeys(ds.id)).toEqual([]);
    expect((await gqlData<any>(app.url, ADD, { d: ds.id, im: [{ uploadId: a }, { uploadId: b }] }, u.token)).addDatasetImages).toHaveLength(2);
  });
});

describe('DELETE /uploads/:id', () => {
  const withdraw = (uploadId: string, credential?: string) =>
    fetch(`${app.url}/uploads/${uploadId}`, { method: 'DELETE', headers: credential ? { authorization: `Bearer ${credential}` } : {} });
  const upload = (token: string, body: Buffer) =>
    fetch(`${app.url}/uploads`, { method: 'POST', body, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' } });
  const setAllowance = (admin: string, mb: number) =>
    gqlData(app.url, 'mutation($mb:Int!){ updateTierPolicy(tier: PRO, input: { pendingUploadMb: $mb }) { pendingUploadMb } }', { mb }, admin);

  it('gives the owner\'s allowance back at once; the upload is gone; anyone else gets 404 and changes nothing', async () => {
    const admin = await factory.user(app, { role: 'ADMIN' });
    const u = await factory.user(app, { tier: 'PRO' });
    const other = await factory.user(app, { tier: 'PRO' });
    const ds = (await gqlData<any>(app.url, CREATE, { i: { name: 'withdrawn uploads' } }, u.token)).createDataset;
    const big = Buffer.alloc(700 * 1024, 7);
    const before = (await gqlData<any>(app.url, '{ tierPolicies { tier pendingUploadMb } }', {}, admin.token)).tierPolicies.find((p: any) => p.tier === 'PRO');
    await setAllowance(admin.token, 1);
    try {
      const held = await uploadBytes(app.url, u.token, big);
      expect((await upload(u.token, big)).status).toBe(429); // the first one holds the allowance

      // Not theirs: 404 with the REST error shape, and the upload and the allowance stay as they were.
      const refused = await withdraw(held, other.token);
      expect(refused.status).toBe(404);
      expect(await refused.json()).toEqual({ code: 'NOT_FOUND', field: 'uploadId', error: expect.stringMatching(/^Upload not found/) });
      expect(await app.services.uploads.pendingBytes(u.id)).toBe(big.length);
      expect((await upload(u.token, big)).status).toBe(429);
      expect((await withdraw(held)).status).toBe(401);

      const key = (await gqlData<any>(app.url, 'mutation { createApiKey(name:"uploader") { secret } }', {}, u.token)).createApiKey.secret;
      const done = await withdraw(held, key);
      expect(done.status).toBe(204);
      expect(await done.text()).toBe('');
      expect(await app.services.uploads.pendingBytes(u.id)).toBe(0);
      expect(await app.services.uploads.read(u.id, held)).toBeNull();
      const next = await upload(u.token, big);
      expect(next.status).toBe(201); // the allowance is free again
      expect((await withdraw(((await next.json()) as { uploadId: string }).uploadId, u.token)).status).toBe(204);

      // Withdrawn is gone: not usable, not withdrawable twice; an id that is no upload is the same 404.
      const reused = await gql(app.url, ADD, { d: ds.id, im: [{ uploadId: held }] }, u.token);
      expect(reused.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'images[0].uploadId' });
      expect(reused.errors?.[0].message).toMatch(/^Upload not found/);
      for (const id of [held, randomUUID(), 'not-an-id']) expect((await withdraw(id, u.token)).status).toBe(404);
    } finally {
      await setAllowance(admin.token, before.pendingUploadMb);
    }

    // Another user's attempt leaves the upload usable; once used, it is gone (404) like a withdrawn one.
    const image = await uploadBytes(app.url, u.token, await paletteImage('png', [90, 20, 90]));
    expect((await withdraw(image, other.token)).status).toBe(404);
    expect((await gqlData<any>(app.url, ADD, { d: ds.id, im: [{ uploadId: image }] }, u.token)).addDatasetImages).toHaveLength(1);
    expect((await withdraw(image, u.token)).status).toBe(404);
  });

  it('keeps the upload in the allowance when the store fails to delete it; a retried DELETE withdraws it', async () => {
    const u = await factory.user(app, { tier: 'PRO' });
    const bytes = Buffer.alloc(64 * 1024, 3);
    const held = await uploadBytes(app.url, u.token, bytes);
    // An S3 5xx on the first delete: the file is still stored, so it still counts and can still be withdrawn.
    const outage = vi.spyOn(app.services.store, 'delete').mockRejectedValueOnce(new Error('S3 DELETE: 503 Slow Down'));
    try {
      const failed = await withdraw(held, u.token);
      expect(failed.status).toBe(500);
      expect(outage).toHaveBeenCalledTimes(1);
      expect(await app.services.uploads.pendingBytes(u.id)).toBe(bytes.length);
      expect(await app.services.uploads.read(u.id, held)).toEqual(bytes);

      const retried = await withdraw(held, u.token);
      expect(retried.status).toBe(204);
      expect(await app.services.uploads.pendingBytes(u.id)).toBe(0);
      expect(await app.services.uploads.read(u.id, held)).toBeNull();
      expect((await withdraw(held, u.token)).status).toBe(404);
    } finally {
      outage.mockRestore();
    }
  });
});

/** A PRO user with a one-image dataset. */
async function proWithDataset() {
  const u = await factory.user(app, { tier: 'PRO' });
  return { u, datasetId: await paletteDataset(app.url, u.token, { name: 'admission', rgb: [20, 160, 150], caption: 'teal', count: 1 }) };
}

/*
 * startTraining's admission, on this API without workers (runs stay QUEUED): what it refuses before any quota is
 * used, how its quota refusals answer, and how it counts text (docs/training.md, "Limits").
 */
describe('startTraining admission', () => {
  it('refuses a base model on a remote backend on baseModelId, before any run of the day is used', async () => {
    const admin = await factory.user(app, { role: 'ADMIN' });
    const remote = (await gqlData<any>(app.url, REGISTER, {
      input: { name: `remote-${Date.now()}`, backend: 'OPENAI_IMAGES', endpoints: ['http://127.0.0.1:9'], remoteModel: 'x' },
    }, admin.token)).registerModel;
    const { u, datasetId } = await proWithDataset();
    const res = await gql(app.url, ADMIT, { i: { datasetId, loraName: 'other', steps: 5, baseModelId: remote.id } }, u.token);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'baseModelId' });
    expect(res.errors?.[0].message).toMatch(/runs on OPENAI_IMAGES and cannot be trained here/);
    expect(await app.db.getRepository(TrainingRun).countBy({ ownerId: u.id })).toBe(0);
  });

  it('counts loraName and sample prompts in characters (an emoji is one) and refuses half of a surrogate pair', async () => {
    const emoji = '\u{1F3A8}';
    const { u, datasetId } = await proWithDataset();
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ loraName: emoji.repeat(81) }, 'loraName'], [{ loraName: 'half \ud83c' }, 'loraName'],
      [{ samplePrompts: ['fine', emoji.repeat(501)] }, 'samplePrompts[1]'], [{ samplePrompts: ['\udfa8 alone'] }, 'samplePrompts[0]'],
    ];
    for (const [change, field] of bad) {
      const res = await gql(app.url, ADMIT, { i: { datasetId, loraName: 'x', steps: 10, saveEvery: 5, ...change } }, u.token);
      expect(res.errors?.[0].extensions, JSON.stringify(change)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    const run = (await gqlData<any>(app.url, ADMIT, { i: { datasetId, loraName: emoji.repeat(80), steps: 10, saveEvery: 5, samplePrompts: [emoji.repeat(500)] } }, u.token)).startTraining;
    expect(run).toMatchObject({ status: 'QUEUED', loraName: emoji.repeat(80), config: { samplePrompts: [emoji.repeat(500)] } });
  });

  it('answers runs at once with HTTP 429, Retry-After and retryAfterSeconds: the open run\'s steps left at 0.1 s a step', async () => {
    const { u, datasetId } = await proWithDataset();
    await gqlData(app.url, ADMIT, { i: { datasetId, loraName: 'first', steps: 300, saveEvery: 100 } }, u.token);
    const res = await gql(app.url, ADMIT, { i: { datasetId, loraName: 'second', steps: 10, saveEvery: 5 } }, u.token);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: 1, retryAfterSeconds: 30 });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('30');
    expect(await app.db.getRepository(TrainingRun).countBy({ ownerId: u.id })).toBe(1);
  });

  it('answers runs per day with HTTP 429 and a Retry-After at the end of the UTC day', async () => {
    const { u, datasetId } = await proWithDataset();
    const { trainingRunsPerDay } = await app.services.quotas.policyFor('PRO' as never);
    const run = (await gqlData<any>(app.url, ADMIT, { i: { datasetId, loraName: 'today', steps: 10, saveEvery: 5 } }, u.token)).startTraining;
    await gqlData(app.url, 'mutation($id:ID!){ cancelTraining(id:$id){ status } }', { id: run.id }, u.token);
    // The rest of today's runs, ended (cancelled): only the day's count is left to refuse the next one.
    const template = await app.db.getRepository(TrainingRun).findOneByOrFail({ id: run.id });
    for (let i = 1; i < trainingRunsPerDay; i += 1) {
      await app.db.getRepository(TrainingRun).insert({ ...template, id: randomUUID(), loraName: `today-${i}` });
    }
    const res = await gql(app.url, ADMIT, { i: { datasetId, loraName: 'one too many', steps: 10, saveEvery: 5 } }, u.token);
    const expected = secondsUntilUtcMidnight(new Date());
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: trainingRunsPerDay });
    const retryAfter = res.errors?.[0].extensions?.retryAfterSeconds as number;
    expect(Math.abs(retryAfter - expected)).toBeLessThanOrEqual(5);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe(String(retryAfter));
  });
});
