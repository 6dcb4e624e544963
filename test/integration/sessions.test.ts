import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, gql, gqlData, signUp, waitFor, wsClient } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';

let app: TestApp;
const SESSION_EVENTS = 'subscription($s:ID!, $after:String){ sessionEvents(sessionId:$s, after:$after) { eventId type jobId step totalSteps imageIds actorId onlineUserIds preview job { id status images { id } } user { id } } }';

beforeAll(async () => {
  app = await startTestApp({ ATELIER_PREVIEW_EVERY: '2' });
});
afterAll(() => app?.close());

async function sessionWithWatcher() {
  const a = await signUp(app.url, 'owner');
  const b = await signUp(app.url, 'watcher');
  const { createSession } = await gqlData<any>(app.url, 'mutation { createSession(name: "Moodboard") { id myRole } }', {}, a.token);
  expect(createSession.myRole).toBe('OWNER');
  const { createSessionInvite } = await gqlData<any>(app.url, 'mutation($s:ID!){ createSessionInvite(sessionId:$s, role: WATCHER) { token invite { role maxUses expiresAt } } }', { s: createSession.id }, a.token);
  const { joinSession } = await gqlData<any>(app.url, 'mutation($t:String!){ joinSession(token:$t) { id myRole } }', { t: createSessionInvite.token }, b.token);
  expect(joinSession).toEqual({ id: createSession.id, myRole: 'WATCHER' });
  return { a, b, sessionId: createSession.id as string, invite: createSessionInvite };
}

describe('shared sessions', () => {
  it('a watcher sees queued, per-step progress and completed with images; an outsider sees nothing', async () => {
    const { a, b, sessionId } = await sessionWithWatcher();
    const c = await signUp(app.url, 'outsider');
    const watcher = wsClient(app.url, b.token);
    const feed = collect<any>(watcher, SESSION_EVENTS, { s: sessionId }, (items) => items.some((i) => i.sessionEvents.type === 'COMPLETED'));
    await waitFor(async () => (await gqlData<any>(app.url, 'query($s:ID!){ session(id:$s) { onlineUserIds } }', { s: sessionId }, a.token)).session.onlineUserIds.includes(b.id));

    const { createGeneration: job } = await gqlData<any>(app.url, 'mutation($s:ID!){ createGeneration(input:{ prompt:"team sketch", width:128, height:128, steps:8, sessionId:$s }) { id } }', { s: sessionId }, a.token);
    await feed.done;
    await watcher.dispose();
    const events = feed.items.map((i) => i.sessionEvents).filter((e) => e.jobId === job.id);
    expect(events[0].type).toBe('QUEUED');
    expect(events.filter((e) => e.type === 'PROGRESS').map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(events.some((e) => e.preview?.startsWith('data:image/png;base64,'))).toBe(true);
    const completed = events.at(-1);
    expect(completed.type).toBe('COMPLETED');
    expect(completed.imageIds).toHaveLength(1);
    // Events carry the job (as it is now) and the acting user.
    expect(completed.job).toMatchObject({ id: job.id, status: 'COMPLETED', images: [{ id: completed.imageIds[0] }] });
    expect(completed.user).toEqual({ id: a.id });
    expect(events[0].job).toMatchObject({ id: job.id });

    // The watcher can read the job and its images; the outsider cannot.
    const seen = await gqlData<any>(app.url, 'query($id:ID!){ job(id:$id) { images { id url } } }', { id: job.id }, b.token);
    expect(seen.job.images).toHaveLength(1);
    expect((await gqlData<any>(app.url, 'query($id:ID!){ job(id:$id) { id } }', { id: job.id }, c.token)).job).toBeNull();
    expect((await gqlData<any>(app.url, 'query($s:ID!){ session(id:$s) { id } }', { s: sessionId }, c.token)).session).toBeNull();
    const list = await gql(app.url, 'query($s:ID!){ jobs(sessionId:$s) { edges { node { id } } } }', { s: sessionId }, c.token);
    expect(list.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect((await gqlData<any>(app.url, '{ sessions { id } }', {}, c.token)).sessions).toEqual([]);

    // The outsider's subscribe is refused at once, NOT_FOUND as the queries answer: existence is not revealed,
    // so it reads exactly as a session or job that does not exist.
    const outsider = wsClient(app.url, c.token);
    const refused = collect<any>(outsider, SESSION_EVENTS, { s: sessionId });
    const unknownSession = collect<any>(outsider, SESSION_EVENTS, { s: '00000000-0000-4000-8000-000000000000' });
    await Promise.all([refused.done, unknownSession.done]);
    await outsider.dispose();
    expect(refused.items).toEqual([]);
    expect(refused.errors.flat()).toMatchObject([{ message: 'Session not found', extensions: { code: 'NOT_FOUND' } }]);
    expect(unknownSession.errors.flat()).toEqual(refused.errors.flat());
    const jobWatch = wsClient(app.url, c.token);
    const refusedJob = collect<any>(jobWatch, 'subscription($id:ID!){ jobUpdated(jobId:$id) { type } }', { id: job.id });
    const unknownJob = collect<any>(jobWatch, 'subscription($id:ID!){ jobUpdated(jobId:$id) { type } }', { id: '00000000-0000-4000-8000-000000000000' });
    await Promise.all([refusedJob.done, unknownJob.done]);
    await jobWatch.dispose();
    expect(refusedJob.errors.flat()).toMatchObject([{ message: 'Job not found', extensions: { code: 'NOT_FOUND' } }]);
    expect(unknownJob.errors.flat()).toEqual(refusedJob.errors.flat());

    // A watcher cannot generate into the session.
    const denied = await gql(app.url, 'mutation($s:ID!){ createGeneration(input:{ prompt:"mine", sessionId:$s }) { id } }', { s: sessionId }, b.token);
    expect(denied.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('a client that drops after the first progress event and resumes with `after` gets every later event exactly once', async () => {
    const { a, b, sessionId } = await sessionWithWatcher();
    const first = wsClient(app.url, b.token);
    const part1 = collect<any>(first, SESSION_EVENTS, { s: sessionId }, (items) => items.some((i) => i.sessionEvents.type === 'PROGRESS'));
    await new Promise((r) => setTimeout(r, 200));
    await gqlData(app.url, 'mutation($s:ID!){ createGeneration(input:{ prompt:"resume me", width:512, height:512, steps:30, sessionId:$s }) { id } }', { s: sessionId }, a.token);
    await part1.done;
    await first.dispose();
    const lastSeen = part1.items.at(-1).sessionEvents.eventId;

    const second = wsClient(app.url, b.token);
    const part2 = collect<any>(second, SESSION_EVENTS, { s: sessionId, after: lastSeen }, (items) => items.some((i) => i.sessionEvents.type === 'COMPLETED'));
    await part2.done;
    await second.dispose();

    const logged = await app.events.read('session', sessionId, lastSeen);
    const jobLogged = logged.filter((e) => e.jobId).map((e) => e.eventId);
    const received = part2.items.map((i) => i.sessionEvents).filter((e) => e.jobId).map((e) => e.eventId);
    expect(received).toEqual(jobLogged);
    expect(new Set(received).size).toBe(received.length);
    const steps = part2.items.map((i) => i.sessionEvents).filter((e) => e.type === 'PROGRESS').map((e) => e.step);
    expect(steps).toEqual(Array.from({ length: 29 }, (_, i) => i + 2));
    // Previews ride live only (the watcher test sees them): the log keeps events without their images, so it stays small.
    expect(logged.every((e) => !('preview' in e))).toBe(true);
  });

  it('Session.lastEventId says where the feed stands: "0-0" before any event, then its last; a feed after it gets what came since the read', async () => {
    const { a, b, sessionId } = await sessionWithWatcher();
    const POSITION = 'query($s: ID!) { session(id: $s) { lastEventId } }';
    const position = async () => (await gqlData<any>(app.url, POSITION, { s: sessionId }, b.token)).session.lastEventId as string;
    const joined = (await app.events.read('session', sessionId, null)).map((e) => e.eventId);
    // The watcher's MEMBER_JOINED is the stream's only event so far.
    expect(joined).toHaveLength(1);
    expect(await position()).toBe(joined[0]);
    const { createSession: empty } = await gqlData<any>(app.url, 'mutation { createSession(name: "Nothing yet") { id } }', {}, a.token);
    expect((await gqlData<any>(app.url, POSITION, { s: empty.id }, a.token)).session.lastEventId).toBe('0-0');

    // Read, then something happens, then subscribe from the read: the feed starts with it.
    const read = await position();
    const { createGeneration: job } = await gqlData<any>(app.url, 'mutation($s:ID!){ createGeneration(input:{ prompt:"between read and subscribe", width:64, height:64, steps:2, sessionId:$s }) { id } }', { s: sessionId }, a.token);
    const watcher = wsClient(app.url, b.token);
    const feed = collect<any>(watcher, SESSION_EVENTS, { s: sessionId, after: read }, (items) => items.some((i) => i.sessionEvents.type === 'COMPLETED'));
    await feed.done;
    await watcher.dispose();
    const types = feed.items.map((i) => i.sessionEvents).filter((e) => e.jobId === job.id).map((e) => e.type);
    expect(types[0]).toBe('QUEUED');
    expect(types.at(-1)).toBe('COMPLETED');
    expect(feed.errors).toEqual([]);
  });

  it('jobUpdated replays the whole story to a late subscriber and then completes', async () => {
    const a = await signUp(app.url);
    const { createGeneration: job } = await gqlData<any>(app.url, 'mutation { createGeneration(input:{ prompt:"late", width:64, height:64, steps:4 }) { id } }', {}, a.token);
    await waitFor(async () => (await gqlData<any>(app.url, 'query($id:ID!){ job(id:$id) { status } }', { id: job.id }, a.token)).job.status === 'COMPLETED');
    const client = wsClient(app.url, a.token);
    const story = collect<any>(client, 'subscription($id:ID!){ jobUpdated(jobId:$id) { type step } }', { id: job.id });
    await story.done;
    await client.dispose();
    expect(story.items.map((i) => i.jobUpdated.type)).toEqual(['QUEUED', 'STARTED', 'PROGRESS', 'PROGRESS', 'PROGRESS', 'PROGRESS', 'COMPLETED']);
  });

  it('presence counts several tabs of one person once; a removed member\'s stream ends at once', async () => {
    const { a, b, sessionId } = await sessionWithWatcher();
    const owner = wsClient(app.url, a.token);
    const ownerFeed = collect<any>(owner, SESSION_EVENTS, { s: sessionId });
    const tab1 = wsClient(app.url, b.token);
    const tab2 = wsClient(app.url, b.token);
    const feed1 = collect<any>(tab1, SESSION_EVENTS, { s: sessionId });
    const feed2 = collect<any>(tab2, SESSION_EVENTS, { s: sessionId });
    const online = await waitFor(async () => {
      const ids = (await gqlData<any>(app.url, 'query($s:ID!){ session(id:$s) { onlineUserIds } }', { s: sessionId }, a.token)).session.onlineUserIds;
      return ids.length === 2 ? ids : null;
    });
    expect(online.sort()).toEqual([a.id, b.id].sort());
    await new Promise((r) => setTimeout(r, 200));
    const presence = ownerFeed.items.map((i) => i.sessionEvents).filter((e) => e.type === 'PRESENCE');
    expect(presence.at(-1).onlineUserIds.sort()).toEqual([a.id, b.id].sort());
    // The second tab of b did not change who is online: no extra PRESENCE for it.
    expect(presence.filter((e) => e.onlineUserIds.length === 2)).toHaveLength(1);

    await gqlData(app.url, 'mutation($s:ID!, $u:ID!){ removeSessionMember(sessionId:$s, userId:$u) { id } }', { s: sessionId, u: b.id }, a.token);
    await Promise.all([feed1.done, feed2.done]);
    expect(feed1.items.at(-1).sessionEvents).toMatchObject({ type: 'MEMBER_LEFT', actorId: b.id });
    expect((await gqlData<any>(app.url, 'query($s:ID!){ session(id:$s) { id } }', { s: sessionId }, b.token)).session).toBeNull();
    ownerFeed.dispose();
    await Promise.all([owner.dispose(), tab1.dispose(), tab2.dispose()]);
  });

  it('invites are single-purpose, expiring, revocable, and members are capped by the owner\'s tier', async () => {
    const owner = await signUp(app.url);
    const { createSession } = await gqlData<any>(app.url, 'mutation { createSession(name: "Cap") { id } }', {}, owner.token);
    const invite = async (maxUses = 1) => (await gqlData<any>(app.url, 'mutation($s:ID!, $m:Int){ createSessionInvite(sessionId:$s, role: COLLABORATOR, maxUses:$m) { token invite { id } } }', { s: createSession.id, m: maxUses }, owner.token)).createSessionInvite;
    const join = (token: string, userToken: string) => gql<any>(app.url, 'mutation($t:String!){ joinSession(token:$t) { id } }', { t: token }, userToken);

    const single = await invite(1);
    const u1 = await signUp(app.url);
    const u2 = await signUp(app.url);
    expect((await join(single.token, u1.token)).errors).toBeUndefined();
    expect((await join(single.token, u2.token)).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'token' });

    const revoked = await invite(5);
    await gqlData(app.url, 'mutation($id:ID!){ revokeSessionInvite(id:$id) { revokedAt } }', { id: revoked.invite.id }, owner.token);
    expect((await join(revoked.token, u2.token)).errors?.[0].extensions?.field).toBe('token');
    const notOwner = await gql(app.url, 'mutation($s:ID!){ createSessionInvite(sessionId:$s, role: WATCHER) { token } }', { s: createSession.id }, u1.token);
    expect(notOwner.errors?.[0].extensions?.code).toBe('FORBIDDEN');

    // FREE owner: 3 members in all (owner + 2).
    const many = await invite(10);
    expect((await join(many.token, u2.token)).errors).toBeUndefined();
    const u3 = await signUp(app.url);
    expect((await join(many.token, u3.token)).errors?.[0].extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: 3 });

    await app.db.query(`UPDATE session_invites SET expires_at = now() - interval '1 minute' WHERE id = $1`, [many.invite.id]);
    await factory.updateUser(app, owner.id, { tier: 'PRO' });
    expect((await join(many.token, u3.token)).errors?.[0].message).toMatch(/expired/);
  });
});
