import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, gqlData, signUp, waitFor, wsClient } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { seedImages, seedLora } from '../support/library';
import { updateUser } from '../support/factories';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.close());

type Member = Awaited<ReturnType<typeof signUp>>;

/** A session owned by `a`, with `b` joined in `role`. */
async function sessionWith(role: 'WATCHER' | 'COLLABORATOR') {
  const a = await signUp(app.url, 'owner');
  const b = await signUp(app.url, role.toLowerCase());
  const { createSession } = await gqlData<any>(app.url, 'mutation { createSession(name: "Isolation") { id } }', {}, a.token);
  const { createSessionInvite } = await gqlData<any>(app.url, 'mutation($s:ID!, $r:SessionRole!){ createSessionInvite(sessionId:$s, role:$r) { token } }', { s: createSession.id, r: role }, a.token);
  await gqlData(app.url, 'mutation($t:String!){ joinSession(token:$t) { id } }', { t: createSessionInvite.token }, b.token);
  return { a, b, sessionId: createSession.id as string };
}

/** Waits until every user's session subscription is live (presence is entered once the stream is attached). */
function online(sessionId: string, users: Member[]) {
  return waitFor(async () => {
    const ids = await app.services.presence.online(sessionId);
    return users.every((u) => ids.includes(u.id));
  });
}

/** Each member subscribes with `query` until a COMPLETED event arrives; returns the job of each one's events. */
async function watchUntilCompleted(members: Member[], sessionId: string, query: string, act: () => Promise<unknown>) {
  const clients = members.map((m) => wsClient(app.url, m.token));
  const feeds = clients.map((c) => collect<any>(c, query, { s: sessionId }, (items) => items.some((i) => i.sessionEvents.type === 'COMPLETED')));
  await online(sessionId, members);
  await act();
  await Promise.all(feeds.map((f) => f.done));
  await Promise.all(clients.map((c) => c.dispose()));
  for (const feed of feeds) expect(feed.errors).toEqual([]);
  return feeds.map((f) => f.items.map((i) => i.sessionEvents).filter((e) => e.job).map((e) => e.job));
}

describe('subscription results are computed for each viewer', () => {
  it('the owner and a watcher each read their own role on every event of a job', async () => {
    const { a, b, sessionId } = await sessionWith('WATCHER');
    const [ownerJobs, watcherJobs] = await watchUntilCompleted(
      [a, b], sessionId, 'subscription($s:ID!){ sessionEvents(sessionId:$s){ type job { session { myRole } } } }',
      () => gqlData(app.url, 'mutation($s:ID!){ createGeneration(input:{ prompt:"roles", width:64, height:64, steps:2, sessionId:$s }) { id } }', { s: sessionId }, a.token),
    );
    expect(ownerJobs.length).toBeGreaterThanOrEqual(3); // QUEUED, STARTED, PROGRESS…, COMPLETED
    expect(ownerJobs.map((j) => j.session.myRole)).toEqual(ownerJobs.map(() => 'OWNER'));
    expect(watcherJobs.map((j) => j.session.myRole)).toEqual(watcherJobs.map(() => 'WATCHER'));
  });

  it('a PRO-only LoRA of the owner and the owner\'s favourite read on the socket exactly as over HTTP, for each member', async () => {
    const { a, b, sessionId } = await sessionWith('WATCHER');
    await updateUser(app, a.id, { tier: 'PRO' });
    const lora = await seedLora(app.db, a.id, `private-${Date.now()}`);
    await app.db.query(`UPDATE loras SET min_tier = 'PRO' WHERE id = $1`, [lora.id]);
    const [image] = await seedImages(app.db, a.id, 1, { sessionId, loras: [{ loraId: lora.id, weight: 0.7 }] });
    await gqlData(app.url, 'mutation($i:ID!){ favoriteImage(imageId:$i){ id } }', { i: image.id }, a.token);

    const fields = 'id loras { weight lora { id mine usable } } images { id favorited job { id } } model { usable } session { myRole }';
    const [ownerJobs, watcherJobs] = await watchUntilCompleted(
      [a, b], sessionId, `subscription($s:ID!){ sessionEvents(sessionId:$s){ type job { ${fields} } } }`,
      // The event the worker publishes when a job completes.
      () => app.services.events.publish({ type: 'COMPLETED', at: new Date().toISOString(), jobId: image.jobId, sessionId, actorId: a.id, step: 2, totalSteps: 2, imageIds: [image.id] }),
    );
    const overHttp = async (member: Member) => (await gqlData<any>(app.url, `query($id:ID!){ job(id:$id){ ${fields} } }`, { id: image.jobId }, member.token)).job;
    expect(ownerJobs).toEqual([await overHttp(a)]);
    expect(watcherJobs).toEqual([await overHttp(b)]);
    expect(ownerJobs[0]).toMatchObject({ loras: [{ lora: { mine: true, usable: true } }], images: [{ favorited: true }], session: { myRole: 'OWNER' } });
    expect(watcherJobs[0]).toMatchObject({ loras: [{ lora: { mine: false, usable: false } }], images: [{ favorited: false }], session: { myRole: 'WATCHER' } });
  });
});

const REMOVE = 'mutation($s:ID!, $u:ID!){ removeSessionMember(sessionId:$s, userId:$u) { id } }';

describe('a removed session member sees nothing more of the session', () => {
  it('their jobUpdated on another member\'s job ends at once with FORBIDDEN, while the job runs on', async () => {
    const { a, b, sessionId } = await sessionWith('COLLABORATOR');
    await updateUser(app, a.id, { tier: 'ENTERPRISE' });
    const { createGeneration: job } = await gqlData<any>(app.url, 'mutation($s:ID!){ createGeneration(input:{ prompt:"long", width:768, height:768, steps:120, sessionId:$s }) { id } }', { s: sessionId }, a.token);
    const client = wsClient(app.url, b.token);
    const watch = collect<any>(client, 'subscription($id:ID!){ jobUpdated(jobId:$id) { type step } }', { id: job.id });
    let ended = false;
    void watch.done.then(() => { ended = true; });
    await waitFor(async () => watch.items.some((i) => i.jobUpdated.type === 'PROGRESS'));

    await gqlData(app.url, REMOVE, { s: sessionId, u: b.id }, a.token);
    const removedAt = Date.now();
    await Promise.race([watch.done, new Promise((r) => setTimeout(r, 3000))]);
    const endedAfterMs = Date.now() - removedAt;
    const status = (await gqlData<any>(app.url, 'query($id:ID!){ job(id:$id) { status } }', { id: job.id }, a.token)).job.status;
    const received = watch.items.length;
    await new Promise((r) => setTimeout(r, 300));
    await gqlData(app.url, 'mutation($id:ID!){ cancelJob(id:$id) { id } }', { id: job.id }, a.token);
    await client.dispose();

    expect(ended).toBe(true);
    expect(endedAfterMs).toBeLessThan(1000);
    expect(status).toBe('PROCESSING');
    expect(JSON.stringify(watch.errors)).toContain('FORBIDDEN');
    expect(watch.items).toHaveLength(received);
    // Subscribing again is refused as job(id) is: NOT_FOUND (no longer theirs to see, as if it did not exist).
    const again = wsClient(app.url, b.token);
    const refused = collect<any>(again, 'subscription($id:ID!){ jobUpdated(jobId:$id) { type } }', { id: job.id });
    await refused.done;
    await again.dispose();
    expect(refused.errors.flat()).toMatchObject([{ message: 'Job not found', extensions: { code: 'NOT_FOUND' } }]);
  });

  it('they read nothing of it through their own old job', async () => {
    const { a, b, sessionId } = await sessionWith('COLLABORATOR');
    const [image] = await seedImages(app.db, b.id, 1, { sessionId });
    const read = async (member: Member) => (await gqlData<any>(
      app.url, 'query($j:ID!){ job(id:$j) { id session { id name members { user { id email } } } } }', { j: image.jobId }, member.token,
    )).job;
    expect((await read(b)).session.members.map((m: any) => m.user.id).sort()).toEqual([a.id, b.id].sort());

    await gqlData(app.url, REMOVE, { s: sessionId, u: b.id }, a.token);
    expect(await read(b)).toEqual({ id: image.jobId, session: null });
    expect((await read(a)).session.id).toBe(sessionId); // members still see it
  });

  it('they read nothing of it through a preset they shared with it', async () => {
    const { a, b, sessionId } = await sessionWith('COLLABORATOR');
    const { createPreset: preset } = await gqlData<any>(app.url, 'mutation($s:ID!){ createPreset(input:{ name:"Team look", template:"{prompt}, team", sessionId:$s }) { id } }', { s: sessionId }, b.token);
    const read = async (member: Member) => (await gqlData<any>(
      app.url, '{ presets { id session { id members { user { email } } } } }', {}, member.token,
    )).presets.find((p: any) => p.id === preset.id);
    expect((await read(b)).session.id).toBe(sessionId);

    await gqlData(app.url, REMOVE, { s: sessionId, u: b.id }, a.token);
    const after = await read(b);
    expect(after).toEqual({ id: preset.id, session: null });
    expect(JSON.stringify(after)).not.toContain(a.email);
    expect((await read(a)).session.id).toBe(sessionId);
  });
});

describe('subscriptions end with their sockets', () => {
  it('20 closed sockets leave no presence and no event-log listener behind within two seconds', async () => {
    const { a, b, sessionId } = await sessionWith('WATCHER');
    const clients = Array.from({ length: 20 }, (_, i) => wsClient(app.url, (i % 2 === 0 ? a : b).token));
    for (const client of clients) collect(client, 'subscription($s:ID!){ sessionEvents(sessionId:$s) { type } }', { s: sessionId });
    const presenceKey = `${app.config.redisPrefix}:presence:${sessionId}`;
    await waitFor(async () => (await app.redis.hlen(presenceKey)) === 20);
    // One per feed: the feed ends itself at its viewer's MEMBER_LEFT, with no watch of its own.
    expect(app.events.listenerCount('session', sessionId)).toBe(20);

    await Promise.all(clients.map((c) => c.dispose()));
    await waitFor(async () => (await app.redis.hlen(presenceKey)) === 0 && app.events.listenerCount('session', sessionId) === 0, 2000);
    expect(await app.services.presence.online(sessionId)).toEqual([]);
    const seen = await gqlData<any>(app.url, 'query($s:ID!){ session(id:$s) { onlineUserIds } }', { s: sessionId }, a.token);
    expect(seen.session.onlineUserIds).toEqual([]);
  });
});
