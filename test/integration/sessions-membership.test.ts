import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { User } from '../../src/entities';
import type { AsyncQueue } from '../../src/subscriptions/async-queue';
import { EventLog } from '../../src/subscriptions/event-log';
import { LiveEvents } from '../../src/subscriptions/live-events';
import { collect, gql, gqlData, signUp, waitFor, wsClient } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';

// Streams seen through a session membership end with it. No worker runs here, so the session's jobs stay
// queued and their streams stay open: only the membership can end them.
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
});
afterAll(() => app?.close());

type Member = Awaited<ReturnType<typeof signUp>>;
type Feed = ReturnType<typeof collect<any>>;

const SESSION_EVENTS = 'subscription($s:ID!, $after:String){ sessionEvents(sessionId:$s, after:$after) { eventId type jobId actorId } }';
const JOB_UPDATES = 'subscription($id:ID!){ jobUpdated(jobId:$id) { type jobId job { prompt } } }';
const BATCH_UPDATES = 'subscription($id:ID!){ batchUpdated(batchId:$id) { type jobId job { prompt } } }';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Whether the feed ended within `ms` (a stream that never ends must fail the test, not hang it). */
const endsWithin = (feed: Feed, ms = 5_000) => Promise.race([feed.done.then(() => true), sleep(ms).then(() => false)]);
const codesOf = (feed: Feed) => feed.errors.map((e) => JSON.stringify(e).match(/"code":"(\w+)"/)?.[1]);

async function invite(owner: Member, sessionId: string, role: 'COLLABORATOR' | 'WATCHER'): Promise<string> {
  const { createSessionInvite } = await gqlData<any>(app.url, 'mutation($s:ID!, $r:SessionRole!){ createSessionInvite(sessionId:$s, role:$r) { token } }', { s: sessionId, r: role }, owner.token);
  return createSessionInvite.token;
}

const REMOVE = 'mutation($s:ID!, $u:ID!){ removeSessionMember(sessionId:$s, userId:$u) { id } }';
const join = (member: Member, token: string) => gqlData(app.url, 'mutation($t:String!){ joinSession(token:$t) { id } }', { t: token }, member.token);

/** A session of `owner` with `editor` (COLLABORATOR) and `watcher` (WATCHER). */
async function team() {
  const [owner, editor, watcher] = [await signUp(app.url, 'owner'), await signUp(app.url, 'editor'), await signUp(app.url, 'watcher')];
  const { createSession } = await gqlData<any>(app.url, 'mutation { createSession(name: "Team") { id } }', {}, owner.token);
  const sessionId = createSession.id as string;
  await join(editor, await invite(owner, sessionId, 'COLLABORATOR'));
  await join(watcher, await invite(owner, sessionId, 'WATCHER'));
  return { owner, editor, watcher, sessionId };
}

async function sessionJob(member: Member, sessionId: string, prompt: string): Promise<string> {
  const { createGeneration } = await gqlData<any>(app.url, 'mutation($s:ID!, $p:String!){ createGeneration(input:{ prompt:$p, width:64, height:64, steps:2, sessionId:$s }) { id } }', { s: sessionId, p: prompt }, member.token);
  return createGeneration.id;
}

/** A batch of `prompts` (a FREE member has 2 open jobs in all). */
async function sessionBatch(member: Member, sessionId: string, prompts = ['batch a', 'batch b']): Promise<{ id: string; jobIds: string[] }> {
  const { createBatch } = await gqlData<any>(app.url, 'mutation($s:ID!, $p:[String!]!){ createBatch(input:{ prompts:$p, width:64, height:64, steps:2, sessionId:$s }) { id jobs(first:10) { edges { node { id } } } } }', { s: sessionId, p: prompts }, member.token);
  return { id: createBatch.id, jobIds: createBatch.jobs.edges.map((e: any) => e.node.id) };
}

/** A replica's LiveEvents of its own, on a subscriber connection the test can cut (the app's own is not reachable). */
async function replicaWithOwnSubscriber() {
  const subscriber = app.redis.duplicate({ lazyConnect: true });
  await subscriber.connect();
  const { access, presence, clock, lifecycle, trainingLifecycle } = app.services;
  const live = new LiveEvents(new EventLog(app.redis, subscriber, app.config.redisPrefix), access, presence, clock, {
    job: (job) => lifecycle.announceEnd(job), run: (run) => trainingLifecycle.announceEnd(run),
    finalJobs: (ids) => lifecycle.transitions.finalAmong(ids), finalRuns: (ids) => trainingLifecycle.finalAmong(ids),
  });
  return { live, subscriber };
}

describe('a stream seen through a session membership ends with the membership', () => {
  it('a removed member\'s batchUpdated and jobUpdated on another member\'s batch end at once with FORBIDDEN; the owner\'s go on', async () => {
    const { owner, editor, watcher, sessionId } = await team();
    const batch = await sessionBatch(editor, sessionId);
    const watcherSocket = wsClient(app.url, watcher.token);
    const editorSocket = wsClient(app.url, editor.token);
    const watcherBatch = collect<any>(watcherSocket, BATCH_UPDATES, { id: batch.id });
    const watcherJob = collect<any>(watcherSocket, JOB_UPDATES, { id: batch.jobIds[0] });
    const editorBatch = collect<any>(editorSocket, BATCH_UPDATES, { id: batch.id });
    // Each replayed the batch's (and the job's) QUEUED: the streams are open.
    await waitFor(async () => [watcherBatch, watcherJob, editorBatch].every((f) => f.items.length > 0));

    await gqlData(app.url, REMOVE, { s: sessionId, u: watcher.id }, owner.token);
    expect(await endsWithin(watcherBatch)).toBe(true);
    expect(await endsWithin(watcherJob)).toBe(true);
    expect(codesOf(watcherBatch)).toEqual(['FORBIDDEN']);
    expect(codesOf(watcherJob)).toEqual(['FORBIDDEN']);
    const seen = watcherBatch.items.length;

    // What comes after the removal reaches the batch's owner only.
    await gqlData(app.url, 'mutation($id:ID!){ cancelBatch(id:$id) { status } }', { id: batch.id }, editor.token);
    expect(await endsWithin(editorBatch)).toBe(true);
    expect(editorBatch.items.at(-1).batchUpdated.type).toBe('BATCH_PROGRESS');
    expect(editorBatch.items.map((i) => i.batchUpdated.type)).toContain('CANCELLED');
    expect(watcherBatch.items).toHaveLength(seen);
    await Promise.all([watcherSocket.dispose(), editorSocket.dispose()]);
  });

  it('a member who left and joined again resumes with `after` from before leaving: the old MEMBER_LEFT is replayed and the feed goes on live', async () => {
    const { owner, editor, watcher, sessionId } = await team();
    const first = wsClient(app.url, watcher.token);
    const before = collect<any>(first, SESSION_EVENTS, { s: sessionId });
    // The watcher's own PRESENCE is the first event of its feed: the point to resume from.
    await waitFor(async () => before.items.length > 0);
    const resumeFrom = before.items[0].sessionEvents.eventId;

    await gqlData(app.url, 'mutation($s:ID!){ leaveSession(sessionId:$s) }', { s: sessionId }, watcher.token);
    expect(await endsWithin(before)).toBe(true);
    expect(before.items.at(-1).sessionEvents).toMatchObject({ type: 'MEMBER_LEFT', actorId: watcher.id });
    await first.dispose();
    await join(watcher, await invite(owner, sessionId, 'WATCHER'));

    const second = wsClient(app.url, watcher.token);
    const resumed = collect<any>(second, SESSION_EVENTS, { s: sessionId, after: resumeFrom }, (items) => items.some((i) => i.sessionEvents.type === 'QUEUED'));
    await waitFor(async () => resumed.items.some((i) => i.sessionEvents.type === 'MEMBER_JOINED'));
    const jobId = await sessionJob(editor, sessionId, 'after the rejoin');
    expect(await endsWithin(resumed)).toBe(true);
    const events = resumed.items.map((i) => i.sessionEvents);
    expect(events.filter((e) => e.actorId === watcher.id && e.type.startsWith('MEMBER_')).map((e) => e.type)).toEqual(['MEMBER_LEFT', 'MEMBER_JOINED']);
    expect(events.at(-1)).toMatchObject({ type: 'QUEUED', jobId });
    expect(resumed.errors).toEqual([]);
    await second.dispose();
  });

  it('deleting the owner\'s account ends the members\' streams of its sessions: sessionEvents with their MEMBER_LEFT, jobUpdated and batchUpdated with FORBIDDEN', async () => {
    const { owner, editor, watcher, sessionId } = await team();
    const jobId = await sessionJob(editor, sessionId, 'editor clip while the owner leaves');
    const batch = await sessionBatch(editor, sessionId, ['batch while the owner leaves']);
    const watcherSocket = wsClient(app.url, watcher.token);
    const editorSocket = wsClient(app.url, editor.token);
    const watcherFeed = collect<any>(watcherSocket, SESSION_EVENTS, { s: sessionId });
    const watcherJob = collect<any>(watcherSocket, JOB_UPDATES, { id: jobId });
    const watcherBatch = collect<any>(watcherSocket, BATCH_UPDATES, { id: batch.id });
    const editorFeed = collect<any>(editorSocket, SESSION_EVENTS, { s: sessionId });
    const editorJob = collect<any>(editorSocket, JOB_UPDATES, { id: jobId });
    await waitFor(async () => (await app.services.presence.online(sessionId)).length === 2);
    await waitFor(async () => [watcherJob, watcherBatch, editorJob].every((f) => f.items.length > 0));

    await gqlData(app.url, 'mutation($e:String!){ deleteAccount(confirmEmail:$e) }', { e: owner.email }, owner.token);
    for (const feed of [watcherFeed, editorFeed, watcherJob, watcherBatch]) expect(await endsWithin(feed)).toBe(true);
    expect(watcherFeed.items.at(-1).sessionEvents).toMatchObject({ type: 'MEMBER_LEFT', actorId: watcher.id });
    expect(editorFeed.items.at(-1).sessionEvents).toMatchObject({ type: 'MEMBER_LEFT', actorId: editor.id });
    expect([...watcherFeed.errors, ...editorFeed.errors]).toEqual([]);
    expect(codesOf(watcherJob)).toEqual(['FORBIDDEN']);
    expect(codesOf(watcherBatch)).toEqual(['FORBIDDEN']);

    // The editor's own job outlives the session, and its stream goes on: the editor cancels it and hears the end.
    expect(editorJob.errors).toEqual([]);
    await gqlData(app.url, 'mutation($id:ID!){ cancelJob(id:$id) { status } }', { id: jobId }, editor.token);
    expect(await endsWithin(editorJob)).toBe(true);
    expect(editorJob.items.at(-1).jobUpdated.type).toBe('CANCELLED');
    expect((await gqlData<any>(app.url, 'query($id:ID!){ job(id:$id) { id } }', { id: jobId }, watcher.token)).job).toBeNull();
    await Promise.all([watcherSocket.dispose(), editorSocket.dispose()]);
  });
  it('deleting the owner\'s account ends an admin\'s feed of the session too: every member\'s MEMBER_LEFT, then the owner\'s as its last event', async () => {
    const { owner, editor, watcher, sessionId } = await team();
    const admin = await factory.user(app, { role: 'ADMIN', prefix: 'admin' });
    const adminSocket = wsClient(app.url, admin.token);
    const adminFeed = collect<any>(adminSocket, SESSION_EVENTS, { s: sessionId });
    // The admin's own PRESENCE: the feed is open.
    await waitFor(async () => adminFeed.items.some((i) => i.sessionEvents.type === 'PRESENCE'));
    // A member leaving ends nothing of theirs: admins see every session.
    await gqlData(app.url, 'mutation($s:ID!){ leaveSession(sessionId:$s) }', { s: sessionId }, watcher.token);
    await waitFor(async () => adminFeed.items.some((i) => i.sessionEvents.type === 'MEMBER_LEFT'));
    expect(await endsWithin(adminFeed, 300)).toBe(false);

    await gqlData(app.url, 'mutation($e:String!){ deleteAccount(confirmEmail:$e) }', { e: owner.email }, owner.token);
    expect(await endsWithin(adminFeed)).toBe(true);
    const left = adminFeed.items.map((i) => i.sessionEvents).filter((e) => e.type === 'MEMBER_LEFT').map((e) => e.actorId);
    expect(left).toEqual([watcher.id, editor.id, owner.id]);
    expect(adminFeed.items.at(-1).sessionEvents).toMatchObject({ type: 'MEMBER_LEFT', actorId: owner.id });
    expect(adminFeed.errors).toEqual([]);
    // Gone: subscribing again is NOT_FOUND, as for an id that never existed.
    const again = collect<any>(adminSocket, SESSION_EVENTS, { s: sessionId });
    expect(await endsWithin(again)).toBe(true);
    expect(codesOf(again)).toEqual(['NOT_FOUND']);
    await adminSocket.dispose();
  });

  it('an admin\'s feed opened while the session goes ends at once: the owner\'s membership is read once it is open', async () => {
    const { owner, sessionId } = await team();
    const admin = await factory.user(app, { role: 'ADMIN', prefix: 'admin' });
    const viewer = await app.db.getRepository(User).findOneByOrFail({ id: admin.id });
    const { live, subscriber } = await replicaWithOwnSubscriber();
    // The account goes between the check that lets the admin in and the feed's opening: the owner's MEMBER_LEFT is
    // published before the feed listens, so only the read after opening can end it.
    const { access } = app.services;
    const check = access.assertSessionMember.bind(access);
    const spy = vi.spyOn(access, 'assertSessionMember').mockImplementationOnce(async (...args) => {
      const allowed = await check(...args);
      await gqlData(app.url, 'mutation($e:String!){ deleteAccount(confirmEmail:$e) }', { e: owner.email }, owner.token);
      return allowed;
    });
    try {
      const feed = (await live.sessionFeed(viewer, sessionId, null)) as AsyncQueue<unknown>;
      expect(spy).toHaveBeenCalledTimes(1);
      await waitFor(async () => feed.ended, 5000, 10);
    } finally {
      spy.mockRestore();
      subscriber.disconnect();
    }
  });

  it('a MEMBER_LEFT published while the event log\'s connection was away still ends the stream: memberships are read again once it is back', async () => {
    const { owner, editor, watcher, sessionId } = await team();
    const jobId = await sessionJob(editor, sessionId, 'watched across a blip');
    const { live, subscriber } = await replicaWithOwnSubscriber();
    const viewer = await app.db.getRepository(User).findOneByOrFail({ id: watcher.id });
    const queue = (await live.jobUpdates(viewer, jobId)) as AsyncQueue<unknown>;
    expect(queue.size).toBeGreaterThan(0);

    subscriber.disconnect();
    await waitFor(async () => subscriber.status === 'end', 5000, 10);
    await gqlData(app.url, REMOVE, { s: sessionId, u: watcher.id }, owner.token);
    await subscriber.connect();
    await waitFor(async () => queue.ended, 5000, 10);
    await expect(queue.next()).rejects.toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    subscriber.disconnect();
  });
});

describe('a session feed across a reconnection', () => {
  it('a removed member\'s feed ends at their MEMBER_LEFT among the events caught up after the blip: nothing published after it reaches them', async () => {
    const { owner, editor, watcher, sessionId } = await team();
    const { live, subscriber } = await replicaWithOwnSubscriber();
    const viewer = await app.db.getRepository(User).findOneByOrFail({ id: watcher.id });
    const feed = (await live.sessionFeed(viewer, sessionId, null)) as AsyncQueue<{ type: string; actorId: string; jobId: string | null }>;

    subscriber.disconnect();
    await waitFor(async () => subscriber.status === 'end', 5000, 10);
    // While the replica's connection is away: the removal, then a job the removed member must not hear of.
    await gqlData(app.url, REMOVE, { s: sessionId, u: watcher.id }, owner.token);
    const secret = await sessionJob(editor, sessionId, 'after the removal');
    await subscriber.connect();
    await waitFor(async () => feed.ended, 5000, 10);
    const heard: { type: string; actorId: string; jobId: string | null }[] = [];
    for (;;) {
      const next = await feed.next();
      if (next.done) break;
      heard.push(next.value);
    }
    expect(heard.at(-1)).toMatchObject({ type: 'MEMBER_LEFT', actorId: watcher.id });
    expect(heard.some((event) => event.jobId === secret)).toBe(false);
    subscriber.disconnect();
  });
});

describe('invites', () => {
  it('a used-up invite is refused on `token` even when the session is full, and a refusal for capacity uses no invite', async () => {
    const owner = await signUp(app.url, 'owner');
    const { createSession } = await gqlData<any>(app.url, 'mutation { createSession(name: "Full") { id } }', {}, owner.token);
    const sessionId = createSession.id as string;
    const single = await invite(owner, sessionId, 'WATCHER');
    await join(await signUp(app.url), single);
    await join(await signUp(app.url), await invite(owner, sessionId, 'WATCHER'));
    // FREE owner: 3 members in all, the session is full now.
    const late = await signUp(app.url);
    const usedUp = await gql<any>(app.url, 'mutation($t:String!){ joinSession(token:$t) { id } }', { t: single }, late.token);
    expect(usedUp.errors?.[0]).toMatchObject({ message: 'This invite has been used up', extensions: { code: 'BAD_USER_INPUT', field: 'token' } });

    const spare = await invite(owner, sessionId, 'WATCHER');
    const full = await gql<any>(app.url, 'mutation($t:String!){ joinSession(token:$t) { id } }', { t: spare }, late.token);
    expect(full.errors?.[0].extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: 3 });
    const [{ uses }] = await app.db.query('SELECT uses FROM session_invites WHERE session_id = $1 ORDER BY created_at DESC LIMIT 1', [sessionId]);
    expect(uses).toBe(0);
  });
});
