import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, gqlData, signUp } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { seedImages } from '../support/library';

// Favourites follow the one rule for who sees an image (src/services/image-access.ts).
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
});
afterAll(() => app?.close());

type Member = Awaited<ReturnType<typeof signUp>>;

const FAVORITES = '{ favorites { edges { node { id url favorited } } } }';
const favorite = (imageId: string, member: Member) => gql<any>(app.url, 'mutation($i:ID!){ favoriteImage(imageId:$i) { id favorited } }', { i: imageId }, member.token);
const unfavorite = (imageId: string, member: Member) => gql<any>(app.url, 'mutation($i:ID!){ unfavoriteImage(imageId:$i) { id url } }', { i: imageId }, member.token);
const favoriteIds = async (member: Member) => (await gqlData<any>(app.url, FAVORITES, {}, member.token)).favorites.edges.map((e: any) => e.node.id);
const storedFavorites = async (member: Member) => (await app.db.query('SELECT image_id FROM favorites WHERE user_id = $1', [member.id])).length;

describe('favourites follow what the caller may see', () => {
  it('a member removed from a session no longer lists its images (nor gets their URLs), and can still unfavourite them', async () => {
    const [owner, editor] = [await signUp(app.url, 'owner'), await signUp(app.url, 'editor')];
    const { createSession } = await gqlData<any>(app.url, 'mutation { createSession(name: "Favourites") { id } }', {}, owner.token);
    const sessionId = createSession.id as string;
    const { createSessionInvite } = await gqlData<any>(app.url, 'mutation($s:ID!){ createSessionInvite(sessionId:$s, role: COLLABORATOR) { token } }', { s: sessionId }, owner.token);
    await gqlData(app.url, 'mutation($t:String!){ joinSession(token:$t) { id } }', { t: createSessionInvite.token }, editor.token);
    const [image] = await seedImages(app.db, owner.id, 1, { sessionId });

    expect((await favorite(image.id, editor)).data?.favoriteImage).toEqual({ id: image.id, favorited: true });
    expect(await favoriteIds(editor)).toEqual([image.id]);

    await gqlData(app.url, 'mutation($s:ID!, $u:ID!){ removeSessionMember(sessionId:$s, userId:$u) { id } }', { s: sessionId, u: editor.id }, owner.token);
    const listed = await gqlData<any>(app.url, FAVORITES, {}, editor.token);
    expect(listed.favorites.edges).toEqual([]);
    expect((await favorite(image.id, editor)).errors?.[0].extensions?.code).toBe('NOT_FOUND');

    // Their favourite is still theirs to remove: done, and no image (with a fresh URL) comes back.
    expect(await storedFavorites(editor)).toBe(1);
    const removed = await unfavorite(image.id, editor);
    expect(removed.errors).toBeUndefined();
    expect(removed.data?.unfavoriteImage).toBeNull();
    expect(await storedFavorites(editor)).toBe(0);
    // The owner, who still sees it, gets it back from unfavoriteImage as before.
    await favorite(image.id, owner);
    expect((await unfavorite(image.id, owner)).data?.unfavoriteImage).toMatchObject({ id: image.id });
  });

  it('an image seen through an album shared with you can be favourited, but not taken into an album or a clip of yours; an outsider\'s cannot be favourited', async () => {
    const [owner, viewer, outsider] = [await signUp(app.url, 'owner'), await signUp(app.url, 'viewer'), await signUp(app.url, 'outsider')];
    const [image] = await seedImages(app.db, owner.id, 1);
    const { createAlbum } = await gqlData<any>(app.url, 'mutation { createAlbum(name:"Shared") { id } }', {}, owner.token);
    await gqlData(app.url, 'mutation($a:ID!,$i:[ID!]!){ addImagesToAlbum(albumId:$a, imageIds:$i){ id } }', { a: createAlbum.id, i: [image.id] }, owner.token);
    await gqlData(app.url, 'mutation($a:ID!,$u:ID!){ shareAlbum(albumId:$a, userId:$u, role:VIEWER){ id } }', { a: createAlbum.id, u: viewer.id }, owner.token);

    expect((await favorite(image.id, viewer)).data?.favoriteImage).toEqual({ id: image.id, favorited: true });
    expect(await favoriteIds(viewer)).toEqual([image.id]);
    expect((await favorite(image.id, outsider)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const { createAlbum: own } = await gqlData<any>(app.url, 'mutation { createAlbum(name:"Mine") { id } }', {}, viewer.token);
    // Kept in an album of theirs, it would outlive the share (signed URLs, links, shares of their own).
    const added = await gql<any>(app.url, 'mutation($a:ID!,$i:[ID!]!){ addImagesToAlbum(albumId:$a, imageIds:$i){ imageCount } }', { a: own.id, i: [image.id] }, viewer.token);
    expect(added.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'imageIds' });
    // A clip from it would copy its job's prompt and settings onto a job of theirs.
    const clip = await gql<any>(app.url, 'mutation($i:ID!){ createVideo(input:{ fromImageId:$i, durationSeconds:0.5, fps:2 }){ id } }', { i: image.id }, viewer.token);
    expect(clip.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'fromImageId' });
    expect(await favoriteIds(outsider)).toEqual([]);
  });

  it('a favourite seen only through a shared album leaves the list with the share', async () => {
    const [owner, viewer] = [await signUp(app.url, 'owner'), await signUp(app.url, 'viewer')];
    const [image] = await seedImages(app.db, owner.id, 1);
    const { createAlbum } = await gqlData<any>(app.url, 'mutation { createAlbum(name:"Lent") { id } }', {}, owner.token);
    await gqlData(app.url, 'mutation($a:ID!,$i:[ID!]!){ addImagesToAlbum(albumId:$a, imageIds:$i){ id } }', { a: createAlbum.id, i: [image.id] }, owner.token);
    await gqlData(app.url, 'mutation($a:ID!,$u:ID!){ shareAlbum(albumId:$a, userId:$u, role:VIEWER){ id } }', { a: createAlbum.id, u: viewer.id }, owner.token);
    expect((await favorite(image.id, viewer)).errors).toBeUndefined();

    await gqlData(app.url, 'mutation($a:ID!,$u:ID!){ unshareAlbum(albumId:$a, userId:$u){ id } }', { a: createAlbum.id, u: viewer.id }, owner.token);
    expect(await favoriteIds(viewer)).toEqual([]);
    expect((await unfavorite(image.id, viewer)).data?.unfavoriteImage).toBeNull();
    expect(await storedFavorites(viewer)).toBe(0);
  });
});
