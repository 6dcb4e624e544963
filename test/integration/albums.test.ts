import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, gqlData, signUp } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { generate, seedImages } from '../support/library';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.close());

const ALBUM = `query($id:ID!,$first:Int,$after:String){ album(id:$id){ id name description viewerRole imageCount
  cover { id } images(first:$first, after:$after){ edges { cursor position node { id url } } pageInfo { hasNextPage endCursor } } } }`;

async function newAlbum(token: string, name = 'Trip'): Promise<string> {
  const res = await gqlData<any>(app.url, 'mutation($n:String!){ createAlbum(name:$n, description:"d"){ id name } }', { n: name }, token);
  return res.createAlbum.id;
}

const add = (token: string, albumId: string, imageIds: string[]) =>
  gql<any>(app.url, 'mutation($a:ID!,$i:[ID!]!){ addImagesToAlbum(albumId:$a, imageIds:$i){ id imageCount } }', { a: albumId, i: imageIds }, token);

describe('albums', () => {
  it('holds the images added to it, in order; another user can neither read nor change it', async () => {
    const a = await signUp(app.url);
    const b = await signUp(app.url);
    const images = await seedImages(app.db, a.id, 3);
    const albumId = await newAlbum(a.token);
    const added = await add(a.token, albumId, images.map((i) => i.id));
    expect(added.data?.addImagesToAlbum.imageCount).toBe(3);
    await add(a.token, albumId, [images[0].id]); // already there: stays put
    const read = await gqlData<any>(app.url, ALBUM, { id: albumId }, a.token);
    expect(read.album.viewerRole).toBe('OWNER');
    expect(read.album.images.edges.map((e: any) => e.node.id)).toEqual(images.map((i) => i.id));
    expect(read.album.cover.id).toBe(images[0].id);
    expect(read.album.images.edges[0].node.url).toMatch(/\/files\/images\//);

    expect((await gqlData<any>(app.url, ALBUM, { id: albumId }, b.token)).album).toBeNull();
    const bImages = await seedImages(app.db, b.id, 1);
    expect((await add(b.token, albumId, [bImages[0].id])).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const del = await gql<any>(app.url, 'mutation($id:ID!){ deleteAlbum(id:$id) }', { id: albumId }, b.token);
    expect(del.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const list = await gqlData<any>(app.url, '{ albums { edges { node { id } } } }', {}, b.token);
    expect(list.albums.edges).toEqual([]);
  });

  it('refuses images the caller cannot see and changes nothing', async () => {
    const a = await signUp(app.url);
    const b = await signUp(app.url);
    const mine = await seedImages(app.db, a.id, 1);
    const theirs = await seedImages(app.db, b.id, 1);
    const albumId = await newAlbum(a.token);
    const res = await add(a.token, albumId, [mine[0].id, theirs[0].id]);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'imageIds' });
    const read = await gqlData<any>(app.url, ALBUM, { id: albumId }, a.token);
    expect(read.album.imageCount).toBe(0);
    const bad = await add(a.token, albumId, ['not-a-uuid']);
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'imageIds[0]' });
  });

  it('renames, sets the cover, reorders, paginates and removes', async () => {
    const a = await signUp(app.url);
    const imgs = await seedImages(app.db, a.id, 4);
    const albumId = await newAlbum(a.token);
    await add(a.token, albumId, imgs.map((i) => i.id));
    const renamed = await gqlData<any>(app.url, 'mutation($id:ID!){ renameAlbum(id:$id, name:" Summer "){ name description } }', { id: albumId }, a.token);
    expect(renamed.renameAlbum).toEqual({ name: 'Summer', description: 'd' });
    const blank = await gql<any>(app.url, 'mutation($id:ID!){ renameAlbum(id:$id, name:"  "){ name } }', { id: albumId }, a.token);
    expect(blank.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });

    await gqlData(app.url, 'mutation($a:ID!,$i:ID){ setAlbumCover(albumId:$a, imageId:$i){ id } }', { a: albumId, i: imgs[2].id }, a.token);
    const order = [imgs[3], imgs[1], imgs[2], imgs[0]].map((i) => i.id);
    await gqlData(app.url, 'mutation($a:ID!,$i:[ID!]!){ reorderAlbumImages(albumId:$a, imageIds:$i){ id } }', { a: albumId, i: order }, a.token);
    const partial = await gql<any>(app.url, 'mutation($a:ID!,$i:[ID!]!){ reorderAlbumImages(albumId:$a, imageIds:$i){ id } }', { a: albumId, i: order.slice(1) }, a.token);
    expect(partial.errors?.[0].extensions?.field).toBe('imageIds');

    const page1 = await gqlData<any>(app.url, ALBUM, { id: albumId, first: 3 }, a.token);
    expect(page1.album.cover.id).toBe(imgs[2].id);
    expect(page1.album.images.pageInfo.hasNextPage).toBe(true);
    const page2 = await gqlData<any>(app.url, ALBUM, { id: albumId, first: 3, after: page1.album.images.pageInfo.endCursor }, a.token);
    expect([...page1.album.images.edges, ...page2.album.images.edges].map((e: any) => e.node.id)).toEqual(order);
    expect(page2.album.images.pageInfo.hasNextPage).toBe(false);

    const removed = await gqlData<any>(app.url, 'mutation($a:ID!,$i:[ID!]!){ removeImagesFromAlbum(albumId:$a, imageIds:$i){ imageCount cover { id } } }',
      { a: albumId, i: [imgs[2].id] }, a.token);
    expect(removed.removeImagesFromAlbum).toEqual({ imageCount: 3, cover: { id: imgs[3].id } });
  });

  it('a cover deleted from the library (deleteImage, deleteJob, deleteAccount) gives way to the first image', async () => {
    const a = await signUp(app.url);
    const editor = await signUp(app.url);
    const imgs = await seedImages(app.db, a.id, 3);
    const [theirs] = await seedImages(app.db, editor.id, 1);
    const albumId = await newAlbum(a.token);
    await add(a.token, albumId, imgs.map((i) => i.id));
    const setCover = (token: string, imageId: string) =>
      gqlData(app.url, 'mutation($a:ID!,$i:ID){ setAlbumCover(albumId:$a, imageId:$i){ id } }', { a: albumId, i: imageId }, token);
    const COVER = 'query($id:ID!){ album(id:$id){ imageCount cover { id } } }';
    const storedCover = async () => (await app.db.query('SELECT cover_image_id FROM albums WHERE id = $1', [albumId]))[0].cover_image_id;

    await setCover(a.token, imgs[1].id);
    await gqlData(app.url, 'mutation($id:ID!){ deleteImage(id:$id) }', { id: imgs[1].id }, a.token);
    expect((await gqlData<any>(app.url, COVER, { id: albumId }, a.token)).album).toEqual({ imageCount: 2, cover: { id: imgs[0].id } });
    expect(await storedCover()).toBeNull();

    await setCover(a.token, imgs[2].id);
    await gqlData(app.url, 'mutation($id:ID!){ deleteJob(id:$id) }', { id: imgs[2].jobId }, a.token);
    expect((await gqlData<any>(app.url, COVER, { id: albumId }, a.token)).album).toEqual({ imageCount: 1, cover: { id: imgs[0].id } });
    expect(await storedCover()).toBeNull();

    // An editor's image as the cover, then the editor's account goes with its images.
    await gqlData(app.url, 'mutation($a:ID!,$u:ID!){ shareAlbum(albumId:$a, userId:$u, role:EDITOR){ id } }', { a: albumId, u: editor.id }, a.token);
    await add(editor.token, albumId, [theirs.id]);
    await setCover(editor.token, theirs.id);
    await gqlData(app.url, 'mutation($e:String!){ deleteAccount(confirmEmail:$e) }', { e: editor.email }, editor.token);
    expect((await gqlData<any>(app.url, COVER, { id: albumId }, a.token)).album).toEqual({ imageCount: 1, cover: { id: imgs[0].id } });
    expect(await storedCover()).toBeNull();

    // A row left pointing at a gone image (before deletions cleared it) reads the same.
    await app.db.query('UPDATE albums SET cover_image_id = $1 WHERE id = $2', [imgs[1].id, albumId]);
    expect((await gqlData<any>(app.url, COVER, { id: albumId }, a.token)).album).toEqual({ imageCount: 1, cover: { id: imgs[0].id } });
  });

  it('shares with users as VIEWER or EDITOR; a viewer cannot change it; unsharing ends access', async () => {
    const a = await signUp(app.url);
    const b = await signUp(app.url);
    const albumId = await newAlbum(a.token, 'Shared');
    const [img] = await seedImages(app.db, a.id, 1);
    await add(a.token, albumId, [img.id]);
    const share = (role: string) => gqlData<any>(app.url, 'mutation($a:ID!,$u:ID!,$r:AlbumRole!){ shareAlbum(albumId:$a, userId:$u, role:$r){ members { user { id } role } } }',
      { a: albumId, u: b.id, r: role }, a.token);
    expect((await share('VIEWER')).shareAlbum.members).toEqual([{ user: { id: b.id }, role: 'VIEWER' }]);
    const seen = await gqlData<any>(app.url, `query($id:ID!){ album(id:$id){ viewerRole members { role } images { edges { node { id job { id } } } } } albums { edges { node { id } } } }`, { id: albumId }, b.token);
    expect(seen.album.viewerRole).toBe('VIEWER');
    expect(seen.album.members).toEqual([]);
    expect(seen.album.images.edges).toEqual([{ node: { id: img.id, job: null } }]); // the job stays private
    expect(seen.albums.edges.map((e: any) => e.node.id)).toEqual([albumId]);
    const [bImg] = await seedImages(app.db, b.id, 1);
    expect((await add(b.token, albumId, [bImg.id])).errors?.[0].extensions?.code).toBe('FORBIDDEN');

    await share('EDITOR');
    expect((await add(b.token, albumId, [bImg.id])).data?.addImagesToAlbum.imageCount).toBe(2);
    const delByEditor = await gql<any>(app.url, 'mutation($id:ID!){ deleteAlbum(id:$id) }', { id: albumId }, b.token);
    expect(delByEditor.errors?.[0].extensions?.code).toBe('FORBIDDEN');

    await gqlData(app.url, 'mutation($a:ID!,$u:ID!){ unshareAlbum(albumId:$a, userId:$u){ id } }', { a: albumId, u: b.id }, a.token);
    expect((await gqlData<any>(app.url, ALBUM, { id: albumId }, b.token)).album).toBeNull();
    expect((await gqlData<any>(app.url, 'mutation($id:ID!){ deleteAlbum(id:$id) }', { id: albumId }, a.token)).deleteAlbum).toBe(true);
    expect((await gqlData<any>(app.url, ALBUM, { id: albumId }, a.token)).album).toBeNull();
  });

  it('an editor adds back an image of the owner\'s they removed; not one another removed last, one the owner cannot see, nor into another album', async () => {
    const owner = await signUp(app.url);
    const [editor, coEditor] = [await signUp(app.url), await signUp(app.url)];
    const albumId = await newAlbum(owner.token, 'Together');
    const [first, second, third] = await seedImages(app.db, owner.id, 3);
    const [coEditors] = await seedImages(app.db, coEditor.id, 1);
    await add(owner.token, albumId, [first.id, second.id, third.id]);
    for (const u of [editor, coEditor]) {
      await gqlData(app.url, 'mutation($a:ID!,$u:ID!){ shareAlbum(albumId:$a, userId:$u, role:EDITOR){ id } }', { a: albumId, u: u.id }, owner.token);
    }
    await add(coEditor.token, albumId, [coEditors.id]);
    const remove = (token: string, imageIds: string[]) =>
      gqlData(app.url, 'mutation($a:ID!,$i:[ID!]!){ removeImagesFromAlbum(albumId:$a, imageIds:$i){ id } }', { a: albumId, i: imageIds }, token);
    const inAlbum = async () => (await gqlData<any>(app.url, ALBUM, { id: albumId }, owner.token)).album.images.edges.map((e: any) => e.node.id);
    const refusedFor = async (token: string, target: string, imageId: string) => {
      const before = await inAlbum();
      expect((await add(token, target, [imageId])).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'imageIds' });
      expect(await inAlbum()).toEqual(before);
    };

    // Their own removal, undone: the image is back, at the end.
    await remove(editor.token, [first.id, coEditors.id]);
    expect((await add(editor.token, albumId, [first.id])).data?.addImagesToAlbum.imageCount).toBe(3);
    expect(await inAlbum()).toEqual([second.id, third.id, first.id]);

    // Removed by someone else last: theirs to undo (the owner's, or the other editor's), not this editor's.
    await remove(owner.token, [first.id]);
    await refusedFor(editor.token, albumId, first.id);
    await remove(coEditor.token, [second.id]);
    await refusedFor(editor.token, albumId, second.id);
    expect((await add(coEditor.token, albumId, [second.id])).errors).toBeUndefined();

    // The other editor's own image: the owner may not see it by the first rule, so neither may this editor add it back.
    await refusedFor(editor.token, albumId, coEditors.id);
    expect((await add(coEditor.token, albumId, [coEditors.id])).errors).toBeUndefined();

    // What they removed goes back into this album only: not into one of their own.
    await remove(editor.token, [third.id]);
    await refusedFor(editor.token, await newAlbum(editor.token, 'Mine'), third.id);
    // An editor no more (VIEWER) cannot add anything; EDITOR again, their removal still stands to undo.
    await gqlData(app.url, 'mutation($a:ID!,$u:ID!){ shareAlbum(albumId:$a, userId:$u, role:VIEWER){ id } }', { a: albumId, u: editor.id }, owner.token);
    expect((await add(editor.token, albumId, [third.id])).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    await gqlData(app.url, 'mutation($a:ID!,$u:ID!){ shareAlbum(albumId:$a, userId:$u, role:EDITOR){ id } }', { a: albumId, u: editor.id }, owner.token);
    expect((await add(editor.token, albumId, [third.id])).errors).toBeUndefined();
    expect(await inAlbum()).toEqual([second.id, coEditors.id, third.id]);
  });

  it('opens through an expiring link without signing in, until revoked or expired', async () => {
    const a = await signUp(app.url);
    const albumId = await newAlbum(a.token, 'Linked');
    const [img] = await seedImages(app.db, a.id, 1);
    await add(a.token, albumId, [img.id]);
    const created = await gqlData<any>(app.url, 'mutation($a:ID!){ createAlbumLink(albumId:$a, expiresInHours:24){ token link { id expiresAt } } }', { a: albumId }, a.token);
    const { token, link } = created.createAlbumLink;
    const SHARED = 'query($t:String!){ sharedAlbum(token:$t){ name owner { id } viewerRole images { edges { node { id url job { id } } } } } }';
    const anon = await gqlData<any>(app.url, SHARED, { t: token });
    expect(anon.sharedAlbum).toMatchObject({ name: 'Linked', owner: null, viewerRole: null });
    expect(anon.sharedAlbum.images.edges[0].node).toMatchObject({ id: img.id, job: null });
    const stored = await app.db.query('SELECT token_hash FROM album_links WHERE id = $1', [link.id]);
    expect(stored[0].token_hash).not.toContain(token);

    await app.db.query(`UPDATE album_links SET expires_at = now() - interval '1 minute' WHERE id = $1`, [link.id]);
    expect((await gqlData<any>(app.url, SHARED, { t: token })).sharedAlbum).toBeNull();
    await app.db.query(`UPDATE album_links SET expires_at = now() + interval '1 hour' WHERE id = $1`, [link.id]);
    await gqlData(app.url, 'mutation($id:ID!){ revokeAlbumLink(id:$id){ revokedAt } }', { id: link.id }, a.token);
    expect((await gqlData<any>(app.url, SHARED, { t: token })).sharedAlbum).toBeNull();
    expect((await gqlData<any>(app.url, SHARED, { t: 'alb_nonsense' })).sharedAlbum).toBeNull();
  });

  it('shows a signed-in visitor through a link the owner\'s display name, never their email', async () => {
    const owner = await signUp(app.url);
    await app.db.query(`UPDATE users SET display_name = 'Owner Olga' WHERE id = $1`, [owner.id]);
    const albumId = await newAlbum(owner.token, 'Public-ish');
    const { token } = (await gqlData<any>(app.url, 'mutation($a:ID!){ createAlbumLink(albumId:$a){ token } }', { a: albumId }, owner.token)).createAlbumLink;
    const visitor = await signUp(app.url);
    const SHARED = 'query($t:String!){ sharedAlbum(token:$t){ ownerName owner { id email displayName } } }';
    const seen = await gqlData<any>(app.url, SHARED, { t: token }, visitor.token);
    expect(seen.sharedAlbum).toEqual({ ownerName: 'Owner Olga', owner: null });
    expect(JSON.stringify(seen)).not.toContain(owner.email);
    // The owner (and those it is shared with, and admins) still see who owns it.
    const mine = await gqlData<any>(app.url, SHARED, { t: token }, owner.token);
    expect(mine.sharedAlbum.owner).toMatchObject({ id: owner.id, email: owner.email });
  });

  it('a job with albumId puts its images into that album when it completes', async () => {
    const a = await signUp(app.url);
    const albumId = await newAlbum(a.token, 'Generated');
    const job = await generate(app.url, a.token, { albumId, count: 2 });
    const read = await gqlData<any>(app.url, ALBUM, { id: albumId }, a.token);
    expect(read.album.images.edges.map((e: any) => e.node.id).sort()).toEqual(job.images.map((i) => i.id).sort());
    const b = await signUp(app.url);
    const refused = await gql<any>(app.url, 'mutation($i:GenerationInput!){ createGeneration(input:$i){ id } }',
      { i: { prompt: 'x', width: 64, height: 64, steps: 1, albumId } }, b.token);
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'albumId' });
  });

  it('favourites: mark, list newest first, unmark; only images one can see', async () => {
    const a = await signUp(app.url);
    const b = await signUp(app.url);
    const imgs = await seedImages(app.db, a.id, 2);
    const fav = (id: string, token = a.token) => gql<any>(app.url, 'mutation($i:ID!){ favoriteImage(imageId:$i){ id favorited } }', { i: id }, token);
    expect((await fav(imgs[0].id)).data?.favoriteImage).toEqual({ id: imgs[0].id, favorited: true });
    await fav(imgs[1].id);
    await fav(imgs[1].id);
    const list = await gqlData<any>(app.url, '{ favorites(first:10){ edges { node { id favorited } } pageInfo { hasNextPage } } }', {}, a.token);
    expect(list.favorites.edges.map((e: any) => e.node.id)).toEqual([imgs[1].id, imgs[0].id]);
    expect((await fav(imgs[0].id, b.token)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    await gqlData(app.url, 'mutation($i:ID!){ unfavoriteImage(imageId:$i){ id } }', { i: imgs[1].id }, a.token);
    const after = await gqlData<any>(app.url, '{ favorites { edges { node { id } } } }', {}, a.token);
    expect(after.favorites.edges.map((e: any) => e.node.id)).toEqual([imgs[0].id]);
  });
});
