import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, gqlData, signUp, waitFor, wsClient } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.close());

const CREATE = 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id queuePosition } }';

const enterprise = (prefix: string) => factory.user(app, { tier: 'ENTERPRISE', prefix });

describe('fair scheduling', () => {
  it('A enqueues 20 jobs, then B one: B is among the next two to start; positions are pushed as the line moves', async () => {
    const [blockerUser, a, b] = [await enterprise('c'), await enterprise('a'), await enterprise('b')];
    const blocker = (await gqlData<any>(app.url, CREATE, { input: { prompt: 'hold the worker', width: 2048, height: 2048, steps: 150 } }, blockerUser.token)).createGeneration;
    await waitFor(async () => (await gqlData<any>(app.url, 'query($id:ID!){ job(id:$id){ status } }', { id: blocker.id }, blockerUser.token)).job.status === 'PROCESSING');

    const aJobs: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      aJobs.push((await gqlData<any>(app.url, CREATE, { input: { prompt: `batch ${i}`, width: 64, height: 64, steps: 2 } }, a.token)).createGeneration.id);
    }
    const bJob = (await gqlData<any>(app.url, CREATE, { input: { prompt: 'just one', width: 64, height: 64, steps: 2 } }, b.token)).createGeneration;
    expect(bJob.queuePosition).toBeLessThanOrEqual(1);

    const watcher = wsClient(app.url, b.token);
    // The QUEUED event carries the place read with the job's tag: A's last job waits behind A's other 19.
    const aWatcher = wsClient(app.url, a.token);
    const lastOfA = collect<any>(aWatcher, 'subscription($id:ID!){ jobUpdated(jobId:$id) { type queuePosition } }', { id: aJobs[19] }, (items) => items.length > 0);
    await lastOfA.done;
    await aWatcher.dispose();
    expect(lastOfA.items[0].jobUpdated).toEqual({ type: 'QUEUED', queuePosition: 19 });
    const feed = collect<any>(watcher, 'subscription($id:ID!){ jobUpdated(jobId:$id) { type queuePosition } }', { id: bJob.id });
    await gqlData(app.url, 'mutation($id:ID!){ cancelJob(id:$id){ status } }', { id: blocker.id }, blockerUser.token);
    await feed.done;
    await watcher.dispose();
    expect(feed.items.some((i) => i.jobUpdated.type === 'POSITION')).toBe(true);
    expect(feed.items[0].jobUpdated.type).toBe('QUEUED');
    expect(feed.items[0].jobUpdated.queuePosition).toBeLessThanOrEqual(1);

    await waitFor(async () => {
      const [{ count }] = await app.db.query(`SELECT count(*)::int AS count FROM jobs WHERE status = 'COMPLETED' AND owner_id IN ($1, $2)`, [a.id, b.id]);
      return count === 21;
    }, 60_000);
    const order = await app.db.query(`SELECT id FROM jobs WHERE owner_id IN ($1, $2) ORDER BY started_at`, [a.id, b.id]);
    const bPlace = order.findIndex((r: any) => r.id === bJob.id);
    expect(bPlace).toBeLessThanOrEqual(1);
  });

  it('a batch\'s jobs are its owner\'s: after a 10-job batch, a teammate\'s single job is among the next two to start', async () => {
    const [holder, owner, teammate] = [await enterprise('bh'), await enterprise('batch'), await enterprise('mate')];
    const blocker = (await gqlData<any>(app.url, CREATE, { input: { prompt: 'hold', width: 2048, height: 2048, steps: 150 } }, holder.token)).createGeneration;
    await waitFor(async () => (await gqlData<any>(app.url, 'query($id:ID!){ job(id:$id){ status } }', { id: blocker.id }, holder.token)).job.status === 'PROCESSING');
    const prompts = Array.from({ length: 10 }, (_, i) => `batch ${i}`);
    const batch = (await gqlData<any>(app.url, 'mutation($i: BatchInput!) { createBatch(input: $i) { id total } }', { i: { prompts, width: 64, height: 64, steps: 2 } }, owner.token)).createBatch;
    expect(batch.total).toBe(10);
    const single = (await gqlData<any>(app.url, CREATE, { input: { prompt: 'just one', width: 64, height: 64, steps: 2 } }, teammate.token)).createGeneration;
    expect(single.queuePosition).toBeLessThanOrEqual(1);
    await gqlData(app.url, 'mutation($id:ID!){ cancelJob(id:$id){ status } }', { id: blocker.id }, holder.token);
    await waitFor(async () => {
      const [{ count }] = await app.db.query(`SELECT count(*)::int AS count FROM jobs WHERE status = 'COMPLETED' AND owner_id IN ($1, $2)`, [owner.id, teammate.id]);
      return count === 11;
    }, 60_000);
    const order = await app.db.query(`SELECT id FROM jobs WHERE owner_id IN ($1, $2) ORDER BY started_at`, [owner.id, teammate.id]);
    expect(order.findIndex((r: any) => r.id === single.id)).toBeLessThanOrEqual(1);
  });

  it('higher tiers run first: ENTERPRISE before PRO before FREE', async () => {
    const holder = await enterprise('holder');
    const blocker = (await gqlData<any>(app.url, CREATE, { input: { prompt: 'hold', width: 2048, height: 2048, steps: 150 } }, holder.token)).createGeneration;
    await waitFor(async () => (await gqlData<any>(app.url, 'query($id:ID!){ job(id:$id){ status } }', { id: blocker.id }, holder.token)).job.status === 'PROCESSING');
    const free = await signUp(app.url, 'free');
    const pro = await factory.user(app, { tier: 'PRO', prefix: 'pro' });
    const ent = await enterprise('ent');
    const ids: Record<string, string> = {};
    ids.free = (await gqlData<any>(app.url, CREATE, { input: { prompt: 'free', width: 64, height: 64, steps: 2 } }, free.token)).createGeneration.id;
    const watcher = wsClient(app.url, free.token);
    const freeFeed = collect<any>(watcher, 'subscription($id:ID!){ jobUpdated(jobId:$id) { type queuePosition } }', { id: ids.free });
    await new Promise((r) => setTimeout(r, 200));
    for (const [name, user] of [['pro', pro], ['ent', ent]] as const) {
      ids[name] = (await gqlData<any>(app.url, CREATE, { input: { prompt: name, width: 64, height: 64, steps: 2 } }, user.token)).createGeneration.id;
    }
    // Two jobs went ahead of the FREE one: it is told its new place without asking.
    await waitFor(async () => freeFeed.items.some((i) => i.jobUpdated.type === 'POSITION' && i.jobUpdated.queuePosition === 2));
    await gqlData(app.url, 'mutation($id:ID!){ cancelJob(id:$id){ status } }', { id: blocker.id }, holder.token);
    await freeFeed.done;
    await watcher.dispose();
    await waitFor(async () => {
      const [{ count }] = await app.db.query(`SELECT count(*)::int AS count FROM jobs WHERE id = ANY($1) AND status = 'COMPLETED'`, [Object.values(ids)]);
      return count === 3;
    });
    const order = await app.db.query(`SELECT id FROM jobs WHERE id = ANY($1) ORDER BY started_at`, [Object.values(ids)]);
    expect(order.map((r: any) => r.id)).toEqual([ids.ent, ids.pro, ids.free]);
  });
});
