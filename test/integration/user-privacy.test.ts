import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gqlData, signUp } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { seedImages } from '../support/library';

// docs/security.md, "Email addresses": your own and (for admins) everyone's in full; anyone else's masked.
let app: TestApp;
let admin: string;

beforeAll(async () => {
  app = await startTestApp({ ATELIER_ADMIN_EMAIL: 'privacy-root@example.com', ATELIER_ADMIN_PASSWORD: 'admin password 1' });
  admin = (await gqlData<any>(app.url, 'mutation { login(email:"privacy-root@example.com", password:"admin password 1"){ token } }')).login.token;
});
afterAll(() => app?.close());

/** `owner-123-…@example.com` as others see it. */
const masked = (email: string) => `${email[0]}…${email.slice(email.indexOf('@'))}`;

const SESSION = 'query($s:ID!){ session(id:$s){ owner { id email } members { user { id email } } } }';
const emailsIn = (session: any) => Object.fromEntries(session.members.map((m: any) => [m.user.id, m.user.email]));

describe('User.email', () => {
  it('a session member sees another member\'s email masked and their own in full; an admin sees every one in full', async () => {
    const owner = await signUp(app.url, 'owner');
    const watcher = await signUp(app.url, 'watcher');
    const { createSession } = await gqlData<any>(app.url, 'mutation { createSession(name: "Team") { id } }', {}, owner.token);
    const { createSessionInvite } = await gqlData<any>(app.url, 'mutation($s:ID!){ createSessionInvite(sessionId:$s, role: WATCHER) { token } }', { s: createSession.id }, owner.token);
    const { joinSession } = await gqlData<any>(app.url, 'mutation($t:String!){ joinSession(token:$t) { owner { email } members { user { id email } } } }', { t: createSessionInvite.token }, watcher.token);
    expect(joinSession.owner.email).toBe(masked(owner.email));
    expect(emailsIn(joinSession)).toEqual({ [owner.id]: masked(owner.email), [watcher.id]: watcher.email });

    const byWatcher = (await gqlData<any>(app.url, SESSION, { s: createSession.id }, watcher.token)).session;
    expect(emailsIn(byWatcher)).toEqual({ [owner.id]: masked(owner.email), [watcher.id]: watcher.email });
    const byOwner = (await gqlData<any>(app.url, SESSION, { s: createSession.id }, owner.token)).session;
    expect(emailsIn(byOwner)).toEqual({ [owner.id]: owner.email, [watcher.id]: masked(watcher.email) });
    const byAdmin = (await gqlData<any>(app.url, SESSION, { s: createSession.id }, admin)).session;
    expect(byAdmin.owner.email).toBe(owner.email);
    expect(emailsIn(byAdmin)).toEqual({ [owner.id]: owner.email, [watcher.id]: watcher.email });
    const listed = (await gqlData<any>(app.url, '{ users(first: 200) { id email } }', {}, admin)).users;
    expect(listed.find((u: any) => u.id === watcher.id).email).toBe(watcher.email);

    // A job of the owner's in the session, seen by the watcher.
    const [image] = await seedImages(app.db, owner.id, 1, { sessionId: createSession.id });
    const job = (await gqlData<any>(app.url, 'query($j:ID!){ job(id:$j){ owner { email } } }', { j: image.jobId }, watcher.token)).job;
    expect(job.owner.email).toBe(masked(owner.email));
  });

  it('an album sharee sees the owner\'s email masked', async () => {
    const owner = await signUp(app.url, 'album-owner');
    const sharee = await signUp(app.url, 'sharee');
    const { createAlbum } = await gqlData<any>(app.url, 'mutation { createAlbum(name: "Trip") { id } }', {}, owner.token);
    await gqlData(app.url, 'mutation($a:ID!,$u:ID!){ shareAlbum(albumId:$a, userId:$u, role:VIEWER){ id } }', { a: createAlbum.id, u: sharee.id }, owner.token);
    const ALBUM = 'query($a:ID!){ album(id:$a){ owner { email } members { user { email } } } }';
    const seen = (await gqlData<any>(app.url, ALBUM, { a: createAlbum.id }, sharee.token)).album;
    expect(seen).toEqual({ owner: { email: masked(owner.email) }, members: [] }); // members are the owner's to see
    const own = (await gqlData<any>(app.url, ALBUM, { a: createAlbum.id }, owner.token)).album;
    expect(own).toEqual({ owner: { email: owner.email }, members: [{ user: { email: masked(sharee.email) } }] });
  });

  it('signing in and `me` answer the account\'s own email in full', async () => {
    const user = await signUp(app.url, 'self');
    const login = await gqlData<any>(app.url, 'mutation($e:String!){ login(email:$e, password:"correct horse battery"){ token user { email } } }', { e: user.email });
    expect(login.login.user.email).toBe(user.email);
    expect((await gqlData<any>(app.url, '{ me { email } }', {}, user.token)).me.email).toBe(user.email);
  });
});
