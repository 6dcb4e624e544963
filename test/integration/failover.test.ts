import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createScratchDatabase, testEnv } from '../support/app';
import { collect, gqlData, signUp, waitFor, wsClient, wsConnect } from '../support/graphql';
import { spawnAtelier, type AtelierProcess } from '../support/processes';

/*
 * Two API replicas on one PostgreSQL and Redis. Replica 1 is killed with
 * SIGKILL, so it closes nothing and removes nothing: its connections and
 * presence entries must stop counting once its heartbeat key expires (10 s).
 */
const serverUrl = inject('sharedDatabaseUrl');
const procs: AtelierProcess[] = [];
let doomed: AtelierProcess;
let survivor: AtelierProcess;
let drop: () => Promise<void>;

beforeAll(async () => {
  if (!serverUrl) throw new Error('No PostgreSQL server: set DATABASE_URL or install PostgreSQL (apt-get install postgresql)');
  const db = await createScratchDatabase(serverUrl);
  drop = db.drop;
  const env = testEnv({ DATABASE_URL: db.url, ATELIER_MAX_CONNECTIONS_PER_USER: '3' });
  doomed = await spawnAtelier('api', env);
  survivor = await spawnAtelier('api', env);
  procs.push(doomed, survivor);
});

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await drop?.();
});

const ONLINE = 'query($s:ID!){ session(id:$s) { onlineUserIds } }';

describe('failover between API replicas', () => {
  it('a killed replica\'s users are let in by the survivor and leave presence within seconds', async () => {
    const owner = await signUp(survivor.url!, 'owner');
    const watcher = await signUp(survivor.url!, 'watcher');
    const { createSession } = await gqlData<any>(survivor.url!, 'mutation { createSession(name: "Failover") { id } }', {}, owner.token);
    const sessionId = createSession.id as string;
    const { createSessionInvite } = await gqlData<any>(survivor.url!, 'mutation($s:ID!){ createSessionInvite(sessionId:$s, role: WATCHER) { token } }', { s: sessionId }, owner.token);
    await gqlData(survivor.url!, 'mutation($t:String!){ joinSession(token:$t) { id } }', { t: createSessionInvite.token }, watcher.token);

    // The owner's three connections (the cap) are on the doomed replica, one watching the session.
    const ownerSocket = wsClient(doomed.url!, owner.token);
    collect(ownerSocket, 'subscription($s:ID!){ sessionEvents(sessionId:$s) { type } }', { s: sessionId });
    await waitFor(async () => (await gqlData<any>(survivor.url!, ONLINE, { s: sessionId }, owner.token)).session.onlineUserIds.includes(owner.id));
    const others = await Promise.all([wsConnect(doomed.url!, owner.token), wsConnect(doomed.url!, owner.token)]);
    expect(others.map((c) => c.code)).toEqual(['open', 'open']);
    expect((await wsConnect(survivor.url!, owner.token)).code).toBe(4429); // the cap spans replicas

    // The watcher follows the session on the survivor.
    const watcherSocket = wsClient(survivor.url!, watcher.token);
    const feed = collect<any>(watcherSocket, 'subscription($s:ID!){ sessionEvents(sessionId:$s) { type onlineUserIds } }', { s: sessionId },
      (items) => items.some((i) => i.sessionEvents.type === 'PRESENCE' && !i.sessionEvents.onlineUserIds.includes(owner.id)));
    await waitFor(async () => (await gqlData<any>(survivor.url!, ONLINE, { s: sessionId }, owner.token)).session.onlineUserIds.length === 2);

    await doomed.kill('SIGKILL');
    const killedAt = Date.now();
    const reconnected = await waitFor(async () => {
      const attempt = await wsConnect(survivor.url!, owner.token);
      return attempt.code === 'open' ? attempt : null;
    }, 15_000, 250);
    const acceptedAfterMs = Date.now() - killedAt;
    reconnected.dispose();
    await waitFor(async () => !(await gqlData<any>(survivor.url!, ONLINE, { s: sessionId }, watcher.token)).session.onlineUserIds.includes(owner.id), 15_000, 250);
    const offlineAfterMs = Date.now() - killedAt;
    // Live viewers are told too, at the next presence heartbeat on the survivor (every 15 s).
    await waitFor(async () => feed.items.some((i) => i.sessionEvents.type === 'PRESENCE' && !i.sessionEvents.onlineUserIds.includes(owner.id)), 30_000, 250);
    const announcedAfterMs = Date.now() - killedAt;
    await watcherSocket.dispose();
    void ownerSocket.dispose();
    console.log(`failover: accepted after ${acceptedAfterMs} ms, offline after ${offlineAfterMs} ms, announced after ${announcedAfterMs} ms`);
    expect(acceptedAfterMs).toBeLessThan(12_000);
    expect(offlineAfterMs).toBeLessThan(12_000);
    expect(announcedAfterMs).toBeLessThan(28_000);
  }, 90_000);
});
