import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ApolloClient, InMemoryCache, HttpLink, split, gql as apolloGql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createScratchDatabase, testEnv } from '../support/app';
import { collect, gql, gqlData, signUp, waitFor, wsClient } from '../support/graphql';
import { spawnAtelier, type AtelierProcess } from '../support/processes';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

/* Two API replicas and one worker on one PostgreSQL and Redis (see crash-recovery.test.ts on the server). */
const serverUrl = inject('sharedDatabaseUrl');
const procs: AtelierProcess[] = [];
let replica1: AtelierProcess;
let replica2: AtelierProcess;
let drop: () => Promise<void>;

beforeAll(async () => {
  if (!serverUrl) throw new Error('No PostgreSQL server: set DATABASE_URL or install PostgreSQL (apt-get install postgresql)');
  const db = await createScratchDatabase(serverUrl);
  drop = db.drop;
  const env = testEnv({ DATABASE_URL: db.url, ATELIER_ADMIN_EMAIL: 'scale-root@example.com', ATELIER_ADMIN_PASSWORD: 'admin password 1' });
  // The first process migrates; the others start on the migrated database.
  replica1 = await spawnAtelier('api', env);
  [replica2] = await Promise.all([spawnAtelier('api', env), spawnAtelier('worker', env).then((w) => procs.push(w))]) as [AtelierProcess, number];
  procs.push(replica1, replica2);
});

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await drop?.();
});

describe('scale-out', () => {
  it('a client on replica 1 receives the progress of a job submitted through replica 2', async () => {
    const user = await signUp(replica2.url!);
    const { createSession } = await gqlData<any>(replica2.url!, 'mutation { createSession(name: "Across replicas") { id } }', {}, user.token);
    const client = wsClient(replica1.url!, user.token);
    const feed = collect<any>(client, 'subscription($s:ID!){ sessionEvents(sessionId:$s) { type step jobId } }', { s: createSession.id },
      (items) => items.some((i) => i.sessionEvents.type === 'COMPLETED'));
    await new Promise((r) => setTimeout(r, 300));
    const { createGeneration: job } = await gqlData<any>(replica2.url!, 'mutation($s:ID!){ createGeneration(input:{ prompt:"relay", width:128, height:128, steps:6, sessionId:$s }) { id } }', { s: createSession.id }, user.token);
    await feed.done;
    await client.dispose();
    const events = feed.items.map((i) => i.sessionEvents).filter((e) => e.jobId === job.id);
    expect(events.map((e) => e.type)).toEqual(['QUEUED', 'STARTED', 'PROGRESS', 'PROGRESS', 'PROGRESS', 'PROGRESS', 'PROGRESS', 'PROGRESS', 'COMPLETED']);
  });

  it('an SPA on Apollo Client (HTTP + GraphQLWsLink split) generates and watches a job', async () => {
    const user = await signUp(replica1.url!);
    const wsLink = new GraphQLWsLink(createClient({
      url: `${replica1.url!.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${user.token}` },
    }));
    const httpLink = new HttpLink({ uri: `${replica1.url}/graphql`, headers: { authorization: `Bearer ${user.token}` } });
    const link = split(({ query }) => {
      const def = getMainDefinition(query);
      return def.kind === 'OperationDefinition' && def.operation === 'subscription';
    }, wsLink, httpLink);
    const apollo = new ApolloClient({ link, cache: new InMemoryCache() });
    const me = await apollo.query<any>({ query: apolloGql`{ me { id email } }` });
    expect(me.data.me.id).toBe(user.id);
    const created = await apollo.mutate<any>({ mutation: apolloGql`mutation { createGeneration(input: { prompt: "apollo", width: 64, height: 64, steps: 5 }) { id status } }` });
    const jobId = created.data.createGeneration.id;
    const types: string[] = await new Promise((resolve, reject) => {
      const seen: string[] = [];
      apollo.subscribe<any>({ query: apolloGql`subscription($id: ID!) { jobUpdated(jobId: $id) { type step totalSteps progress } }`, variables: { id: jobId } })
        .subscribe({ next: (r) => seen.push(r.data.jobUpdated.type), error: reject, complete: () => resolve(seen) });
    });
    expect(types[0]).toBe('QUEUED');
    expect(types.at(-1)).toBe('COMPLETED');
    expect(types.filter((t) => t === 'PROGRESS')).toHaveLength(5);
    const job = await apollo.query<any>({ query: apolloGql`query($id: ID!) { job(id: $id) { status images { url } } }`, variables: { id: jobId }, fetchPolicy: 'network-only' });
    expect(job.data.job.status).toBe('COMPLETED');
    expect(job.data.job.images).toHaveLength(1);
    await apollo.stop();
    (wsLink as any).client.dispose();
  });

  it('a tier change and an account deletion made on replica 1 reach replica 2, which keeps the user in memory, within a second', async () => {
    const root = (await gqlData<any>(replica1.url!, 'mutation { login(email:"scale-root@example.com", password:"admin password 1"){ token } }')).login.token;
    const user = await signUp(replica1.url!);
    const me = () => gql(replica2.url!, '{ me { tier email } }', {}, user.token);
    expect((await me()).data?.me.tier).toBe('FREE');
    await gqlData(replica1.url!, 'mutation($u:ID!){ setUserTier(userId:$u, tier: PRO) { tier } }', { u: user.id }, root);
    // Well inside the cache's 10 s lifetime: only the announcement can make replica 2 read the user again this soon.
    await waitFor(async () => (await me()).data?.me.tier === 'PRO', 1000);
    await gqlData(replica1.url!, 'mutation($e:String!){ deleteAccount(confirmEmail:$e) }', { e: user.email }, user.token);
    await waitFor(async () => (await me()).errors?.[0].extensions?.code === 'UNAUTHENTICATED', 1000);
  });

  it('an API key revoked on replica 1 is refused by replica 2, which keeps the key in memory, within a second', async () => {
    const user = await signUp(replica1.url!);
    const { createApiKey } = await gqlData<any>(replica1.url!, 'mutation { createApiKey(name: "replicas") { secret apiKey { id } } }', {}, user.token);
    const me = () => gql(replica2.url!, '{ me { id } }', {}, createApiKey.secret);
    expect((await me()).data?.me.id).toBe(user.id);
    await gqlData(replica1.url!, 'mutation($id:ID!){ revokeApiKey(id:$id) { revokedAt } }', { id: createApiKey.apiKey.id }, user.token);
    // Well inside the copy's 10 s lifetime: only the announcement can make replica 2 read the key again this soon.
    await waitFor(async () => (await me()).errors?.[0].extensions?.code === 'UNAUTHENTICATED', 1000);
  });
});
