import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Album, Image, Job, JobStatus, Tier, UsageRecord, User } from '../../src/entities';
import { HOUSEKEEPING_QUEUE } from '../../src/services/housekeeping';
import { gql, gqlData, waitFor } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { job, updateUser, user, type TestUser } from '../support/factories';
import { paletteDataset } from '../support/training';
import { jobClipKeys } from '../../src/storage/job-files';
import { trainingCheckpointKey, trainingOptimizerKey } from '../../src/services/training-lifecycle';

// Deleting what users own, and tier retention, on real PostgreSQL/Redis and the local artifact store.
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
}, 60_000);

afterAll(async () => {
  await app?.close();
});

async function imagesOf(jobId: string): Promise<Image[]> {
  return app.db.getRepository(Image).findBy({ jobId });
}

async function filesExist(images: Image[]): Promise<boolean[]> {
  return Promise.all(images.map((image) => app.services.store.exists(image.storageKey)));
}

async function finishedJob(owner: TestUser, count = 1): Promise<{ id: string; images: Image[] }> {
  const done = await job(app, owner, { count }, { wait: true });
  expect(done.status).toBe('COMPLETED');
  const images = await imagesOf(done.id);
  expect(await filesExist(images)).toEqual(images.map(() => true));
  return { id: done.id, images };
}

describe('deleting your own things', () => {
  it('deleteImage removes the row and the file; someone else\'s image is NOT_FOUND like a missing one', async () => {
    const [alice, bob] = [await user(app), await user(app)];
    const mine = await finishedJob(alice, 2);
    const theirs = await finishedJob(bob);
    const [first, second] = mine.images;

    const foreign = await gql(app.url, 'mutation($id:ID!){ deleteImage(id:$id) }', { id: theirs.images[0].id }, alice.token);
    const missing = await gql(app.url, 'mutation($id:ID!){ deleteImage(id:$id) }', { id: randomUUID() }, alice.token);
    expect(foreign.errors?.[0]).toMatchObject({ message: missing.errors?.[0].message, extensions: { code: 'NOT_FOUND' } });
    expect(await filesExist(theirs.images)).toEqual([true]);

    expect(await gqlData(app.url, 'mutation($id:ID!){ deleteImage(id:$id) }', { id: first.id }, alice.token)).toEqual({ deleteImage: true });
    expect(await filesExist([first, second])).toEqual([false, true]);
    const { job: after } = await gqlData<any>(app.url, 'query($id:ID!){ job(id:$id) { images { id } } }', { id: mine.id }, alice.token);
    expect(after.images).toEqual([{ id: second.id }]);
  });

  it('deleteJob removes the job, its images and their files; a running job is CONFLICT, another\'s NOT_FOUND', async () => {
    const [alice, bob] = [await user(app), await user(app)];
    const mine = await finishedJob(alice, 2);
    const theirs = await finishedJob(bob);

    const foreign = await gql(app.url, 'mutation($id:ID!){ deleteJob(id:$id) }', { id: theirs.id }, alice.token);
    expect(foreign.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const bad = await gql(app.url, 'mutation { deleteJob(id:"nope") }', {}, alice.token);
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    // A job still running (the row as a worker holds it): refused, nothing deleted.
    await app.db.getRepository(Job).update({ id: mine.id }, { status: JobStatus.PROCESSING });
    const refused = await gql(app.url, 'mutation($id:ID!){ deleteJob(id:$id) }', { id: mine.id }, alice.token);
    expect(refused.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(await filesExist(mine.images)).toEqual([true, true]);
    await app.db.getRepository(Job).update({ id: mine.id }, { status: JobStatus.COMPLETED });

    expect(await gqlData(app.url, 'mutation($id:ID!){ deleteJob(id:$id) }', { id: mine.id }, alice.token)).toEqual({ deleteJob: true });
    expect(await app.db.getRepository(Job).findOneBy({ id: mine.id })).toBeNull();
    expect(await imagesOf(mine.id)).toEqual([]);
    expect(await filesExist(mine.images)).toEqual([false, false]);
    expect(await filesExist(theirs.images)).toEqual([true]);
  });

  it('deleteAccount removes everything the user owns and their files, keeps usage anonymised, leaves others alone', async () => {
    const [alice, bob] = [await user(app), await user(app)];
    const mine = await finishedJob(alice);
    const theirs = await finishedJob(bob);
    const { createAlbum } = await gqlData<any>(app.url, 'mutation { createAlbum(name:"mine") { id } }', {}, alice.token);
    const { createSession } = await gqlData<any>(app.url, 'mutation { createSession(name:"mine") { id } }', {}, alice.token);
    const { createAlbum: bobsAlbum } = await gqlData<any>(app.url, 'mutation { createAlbum(name:"bob") { id } }', {}, bob.token);
    await gqlData(app.url, 'mutation($a:ID!,$i:[ID!]!){ addImagesToAlbum(albumId:$a, imageIds:$i) { id } }', { a: bobsAlbum.id, i: [theirs.images[0].id] }, bob.token);
    const usageBefore = await app.db.getRepository(UsageRecord).countBy({ jobId: mine.id });
    expect(usageBefore).toBe(1);

    const wrong = await gql(app.url, 'mutation { deleteAccount(confirmEmail:"someone@else.example") }', {}, alice.token);
    expect(wrong.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'confirmEmail' });
    const { createApiKey } = await gqlData<any>(app.url, 'mutation { createApiKey(name:"k") { secret } }', {}, alice.token);
    const viaKey = await gql(app.url, 'mutation($e:String!){ deleteAccount(confirmEmail:$e) }', { e: alice.email }, createApiKey.secret);
    expect(viaKey.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(await app.db.getRepository(User).countBy({ id: alice.id })).toBe(1);

    const done = await gqlData(app.url, 'mutation($e:String!){ deleteAccount(confirmEmail:$e) }', { e: alice.email.toUpperCase() }, alice.token);
    expect(done).toEqual({ deleteAccount: true });
    expect(await app.db.getRepository(User).countBy({ id: alice.id })).toBe(0);
    expect(await app.db.getRepository(Job).countBy({ ownerId: alice.id })).toBe(0);
    expect(await app.db.getRepository(Image).countBy({ ownerId: alice.id })).toBe(0);
    expect(await app.db.getRepository(Album).countBy({ id: createAlbum.id })).toBe(0);
    expect(await app.db.query('SELECT count(*)::int AS n FROM sessions WHERE id = $1', [createSession.id])).toEqual([{ n: 0 }]);
    expect(await filesExist(mine.images)).toEqual([false]);
    // Admins' statistics keep the usage, without the person.
    expect(await app.db.getRepository(UsageRecord).findBy({ jobId: mine.id })).toMatchObject([{ userId: null, images: 1 }]);
    const admin = await user(app, { role: 'ADMIN' });
    const { systemStats } = await gqlData<any>(app.url, 'query { systemStats { usage { imagesRecorded imagesOfDeletedAccounts } } }', {}, admin.token);
    expect(systemStats.usage.imagesOfDeletedAccounts).toBeGreaterThanOrEqual(1);
    expect(systemStats.usage.imagesRecorded).toBeGreaterThan(systemStats.usage.imagesOfDeletedAccounts);
    // The token of a deleted account no longer works.
    expect((await gql(app.url, 'query { usage { imagesToday } }', {}, alice.token)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');

    expect(await filesExist(theirs.images)).toEqual([true]);
    const { album } = await gqlData<any>(app.url, 'query($id:ID!){ album(id:$id) { imageCount } }', { id: bobsAlbum.id }, bob.token);
    expect(album.imageCount).toBe(1);
    expect(await app.db.getRepository(UsageRecord).findBy({ jobId: theirs.id })).toMatchObject([{ userId: bob.id }]);
  });
});

describe('files that have no image row', () => {
  const exists = (keys: string[]) => Promise.all(keys.map((key) => app.services.store.exists(key)));

  it('deleteJob removes a clip\'s MP4 and poster; deleteAccount removes dataset images, checkpoints and samples; a superseded checkpoint goes once the next is recorded', async () => {
    const alice = await user(app);
    await updateUser(app, alice.id, { tier: Tier.PRO });
    const { createVideo } = await gqlData<any>(app.url, 'mutation { createVideo(input: { prompt: "waves", durationSeconds: 0.5, fps: 2, steps: 1, width: 64, height: 64 }) { id } }', {}, alice.token);
    await waitFor(async () => (await app.db.getRepository(Job).findOneBy({ id: createVideo.id }))?.status === JobStatus.COMPLETED, 60_000, 100);
    const clip = Object.values(jobClipKeys(createVideo.id));
    expect(await exists(clip)).toEqual([true, true]);
    expect(await gqlData(app.url, 'mutation($id:ID!){ deleteJob(id:$id) }', { id: createVideo.id }, alice.token)).toEqual({ deleteJob: true });
    expect(await exists(clip)).toEqual([false, false]);

    const datasetId = await paletteDataset(app.url, alice.token, { name: 'teal', rgb: [0, 128, 128], caption: 'a teal texture', count: 2 });
    const { startTraining } = await gqlData<any>(app.url, 'mutation($d:ID!){ startTraining(input:{ datasetId:$d, loraName:"teal", steps:4, saveEvery:2, batchSize:1, samplePrompts:["a teal texture"] }){ id } }', { d: datasetId }, alice.token);
    const runId: string = startTraining.id;
    await waitFor(async () => (await app.db.query('SELECT status FROM training_runs WHERE id = $1', [runId]))[0]?.status === 'COMPLETED', 120_000, 200);
    // The last save point's files stay (resume, checkpointUrl); the one before went when it was recorded.
    const filesOf = (step: number) => [trainingCheckpointKey(runId, step, 1), trainingOptimizerKey(trainingCheckpointKey(runId, step, 1))];
    expect(await exists(filesOf(2))).toEqual([false, false]);
    const last = filesOf(4);
    expect(await exists(last)).toEqual([true, true]);
    const datasetFiles: string[] = (await app.db.query('SELECT storage_key FROM dataset_images WHERE dataset_id = $1', [datasetId])).map((r: any) => r.storage_key);
    const samples: string[] = (await app.db.query('SELECT storage_key FROM training_samples WHERE run_id = $1', [runId])).map((r: any) => r.storage_key);
    expect(datasetFiles).toHaveLength(2);
    expect(samples.length).toBeGreaterThanOrEqual(2);
    const files = [...datasetFiles, ...samples, ...last];
    expect(await exists(files)).toEqual(files.map(() => true));

    expect(await gqlData(app.url, 'mutation($e:String!){ deleteAccount(confirmEmail:$e) }', { e: alice.email }, alice.token)).toEqual({ deleteAccount: true });
    expect(await exists(files)).toEqual(files.map(() => false));
  }, 180_000);
});

describe('retention by tier', () => {
  it('is a task of the scheduled housekeeping job (run once per cluster; its first run is at start)', async () => {
    const queue = new Queue(HOUSEKEEPING_QUEUE, { connection: { url: app.env.REDIS_URL }, prefix: `${app.config.redisPrefix}:bull` });
    try {
      const [run] = await waitFor(async () => (await queue.getCompleted()).filter((entry) => entry.returnvalue), 30_000);
      expect(run.returnvalue).toMatchObject({ expiredJobs: expect.any(Number), expiredAuditEvents: expect.any(Number) });
    } finally {
      await queue.close();
    }
  });

  it('an admin edits it (-1 is unlimited, 0 refused); housekeeping expires old finished jobs of that tier with their files', async () => {
    const admin = await user(app, { role: 'ADMIN' });
    const policy = 'mutation($d:Int!){ updateTierPolicy(tier: FREE, input: { retentionDays: $d }) { retentionDays } }';
    expect((await gql(app.url, policy, { d: 0 }, admin.token)).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'retentionDays' });
    expect(await gqlData(app.url, policy, { d: -1 }, admin.token)).toEqual({ updateTierPolicy: { retentionDays: null } });
    expect(await gqlData(app.url, policy, { d: 7 }, admin.token)).toEqual({ updateTierPolicy: { retentionDays: 7 } });
    const { tierPolicies } = await gqlData<any>(app.url, 'query { tierPolicies { tier retentionDays } }', {}, admin.token);
    expect(tierPolicies).toEqual(expect.arrayContaining([{ tier: 'PRO', retentionDays: 365 }, { tier: 'ENTERPRISE', retentionDays: null }]));

    const [free, pro, enterprise] = [await user(app), await user(app), await user(app)];
    const old = await finishedJob(free);
    const recent = await finishedJob(free);
    const proOld = await finishedJob(pro);
    const enterpriseAncient = await finishedJob(enterprise);
    await updateUser(app, pro.id, { tier: 'PRO' });
    await updateUser(app, enterprise.id, { tier: 'ENTERPRISE' });
    const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);
    await app.db.getRepository(Job).update({ id: old.id }, { completedAt: daysAgo(8) });
    await app.db.getRepository(Job).update({ id: proOld.id }, { completedAt: daysAgo(30) });
    await app.db.getRepository(Job).update({ id: enterpriseAncient.id }, { completedAt: daysAgo(5000) });

    expect(await app.services.dataLifecycle.expireByRetention()).toBeGreaterThanOrEqual(1);
    expect(await app.db.getRepository(Job).findOneBy({ id: old.id })).toBeNull();
    expect(await filesExist(old.images)).toEqual([false]);
    for (const kept of [recent, proOld, enterpriseAncient]) {
      expect(await app.db.getRepository(Job).countBy({ id: kept.id })).toBe(1);
      expect(await filesExist(kept.images)).toEqual([true]);
    }
    expect(await app.db.getRepository(UsageRecord).countBy({ jobId: old.id })).toBe(1);
    await gqlData(app.url, policy, { d: 30 }, admin.token);
  });
});
