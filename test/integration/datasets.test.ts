import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { DatasetImage } from '../../src/entities';
import { gql, gqlData } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { paletteImage, uploadBytes } from '../support/training';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
});
afterAll(() => app?.close());

const CREATE = 'mutation($i:DatasetInput!){ createDataset(input:$i){ id name mine } }';
const ADD = 'mutation($d:ID!,$im:[DatasetImageInput!]!){ addDatasetImages(datasetId:$d, images:$im){ id caption format width height url } }';
const READ = 'query($id:ID!){ dataset(id:$id){ id name images { id caption format } } }';

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
