import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainingRun, TrainingStatus } from '../../src/entities';
import type { LoggedTrainingEvent } from '../../src/kernel/events';
import { trainingCancelKey } from '../../src/kernel/queues';
import { collect, gql, gqlData, wsClient } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { paletteImage, uploadBytes } from '../support/training';
import { createTrainingQueue } from '../../src/gpu-worker/queue';
import { storedKeys } from '../../src/database/installation-transfer/table-rows';
import { trainingCheckpointFiles, trainingCheckpointKey, trainingOptimizerKey, trainingSampleKey } from '../../src/services/training-lifecycle';

// API only: entries wait in the training queue, so their order and a cancel while queued can be seen.
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
});
afterAll(() => app?.close());

const START = 'mutation($i:TrainingInput!){ startTraining(input:$i){ id status } }';

async function datasetOf(token: string): Promise<string> {
  const ds = (await gqlData<any>(app.url, 'mutation { createDataset(input:{ name:"q" }){ id } }', {}, token)).createDataset;
  const uploadId = await uploadBytes(app.url, token, await paletteImage('png', [90, 90, 90]));
  await gqlData(app.url, 'mutation($d:ID!,$im:[DatasetImageInput!]!){ addDatasetImages(datasetId:$d, images:$im){ id } }', { d: ds.id, im: [{ uploadId }] }, token);
  return ds.id;
}

describe('the training queue', () => {
  it('is fair between users: a user\'s second run waits behind another user\'s first', async () => {
    const a = await factory.user(app, { tier: 'ENTERPRISE' });
    const b = await factory.user(app, { tier: 'ENTERPRISE' });
    const [dsA, dsB] = [await datasetOf(a.token), await datasetOf(b.token)];
    const start = async (token: string, datasetId: string) => (await gqlData<any>(app.url, START, { i: { datasetId, loraName: 'q', steps: 10 } }, token)).startTraining.id;
    const a1 = await start(a.token, dsA);
    const a2 = await start(a.token, dsA);
    const a3 = await start(a.token, dsA);
    const b1 = await start(b.token, dsB);
    const queue = createTrainingQueue({ url: app.config.redisUrl!, maxRetriesPerRequest: null }, app.config.redisPrefix);
    const waiting = (await queue.getJobs(['prioritized', 'waiting'])).sort((x, y) => (x.opts.priority ?? 0) - (y.opts.priority ?? 0) || x.timestamp - y.timestamp);
    const order = waiting.map((j) => j.id);
    expect(order.indexOf(b1)).toBeLessThan(order.indexOf(a2));
    expect(order.indexOf(a1)).toBeLessThan(order.indexOf(a2));
    expect(order.indexOf(a2)).toBeLessThan(order.indexOf(a3));
    await queue.close();
  });

  it('cancels a queued run at once, with its CANCELLED event, and lists runs by status', async () => {
    const u = await factory.user(app, { tier: 'PRO' });
    const run = (await gqlData<any>(app.url, START, { i: { datasetId: await datasetOf(u.token), loraName: 'never', steps: 10 } }, u.token)).startTraining;
    expect(run.status).toBe('QUEUED');
    const cancelled = (await gqlData<any>(app.url, 'mutation($id:ID!){ cancelTraining(id:$id){ status } }', { id: run.id }, u.token)).cancelTraining;
    expect(cancelled.status).toBe('CANCELLED');
    const events = collect<any>(wsClient(app.url, u.token), 'subscription($r:ID!){ trainingUpdated(runId:$r){ type checkpointStep } }', { r: run.id });
    await events.done;
    expect(events.items.map((i) => i.trainingUpdated)).toEqual([{ type: 'QUEUED', checkpointStep: null }, { type: 'CANCELLED', checkpointStep: null }]);
    const byStatus = (s: string) => gqlData<any>(app.url, 'query($s:TrainingStatus){ trainingRuns(status:$s){ edges { node { id } } } }', { s }, u.token);
    expect((await byStatus('CANCELLED')).trainingRuns.edges.map((e: any) => e.node.id)).toEqual([run.id]);
    expect((await byStatus('QUEUED')).trainingRuns.edges).toEqual([]);
    // The same person can now start another: the cancelled run no longer counts as running.
    expect((await gqlData<any>(app.url, START, { i: { datasetId: await datasetOf(u.token), loraName: 'next', steps: 10 } }, u.token)).startTraining.status).toBe('QUEUED');
  });

  it('refuses to cancel a completed or failed run (CONFLICT on id, like cancelJob) and changes nothing', async () => {
    const u = await factory.user(app, { tier: 'PRO' });
    const run = (await gqlData<any>(app.url, START, { i: { datasetId: await datasetOf(u.token), loraName: 'ended', steps: 10 } }, u.token)).startTraining;
    for (const status of [TrainingStatus.COMPLETED, TrainingStatus.FAILED]) {
      // Ended as a worker would leave it (nothing runs in this app).
      await app.db.getRepository(TrainingRun).update({ id: run.id }, { status, finishedAt: new Date() });
      const res = await gql(app.url, 'mutation($id:ID!){ cancelTraining(id:$id){ status } }', { id: run.id }, u.token);
      expect(res.errors?.[0], status).toMatchObject({ message: `Training run is already ${status}`, extensions: { code: 'CONFLICT', field: 'id' } });
      expect((await app.db.getRepository(TrainingRun).findOneByOrFail({ id: run.id })).status).toBe(status);
      expect(await app.redis.exists(trainingCancelKey(app.config.redisPrefix, run.id))).toBe(0);
    }
  });

  it('trainingUpdated names runId when it is no UUID, and NOT_FOUND for a run you cannot see', async () => {
    const u = await factory.user(app, { tier: 'PRO' });
    const watch = async (runId: string) => {
      const events = collect<any>(wsClient(app.url, u.token), 'subscription($r:ID!){ trainingUpdated(runId:$r){ type } }', { r: runId });
      await events.done;
      return events;
    };
    const bad = await watch('nope');
    expect(bad.items).toEqual([]);
    expect((bad.errors[0] as any).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'runId' });
    expect((bad.errors[0] as any).message).toBe('runId must be a UUID');
    expect(((await watch('00000000-0000-4000-8000-000000000000')).errors[0] as any).extensions?.code).toBe('NOT_FOUND');
    // The query keeps its own argument's name.
    const run = await gql(app.url, 'query($id:ID!){ trainingRun(id:$id){ id } }', { id: 'nope' }, u.token);
    expect(run.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  });

  it('gives a run whose queue entry was lost a new one (a crash between commit and enqueue, a spent entry)', async () => {
    const u = await factory.user(app, { tier: 'PRO' });
    const run = (await gqlData<any>(app.url, START, { i: { datasetId: await datasetOf(u.token), loraName: 'lost', steps: 10 } }, u.token)).startTraining;
    const queue = createTrainingQueue({ url: app.config.redisUrl!, maxRetriesPerRequest: null }, app.config.redisPrefix);
    await (await queue.getJob(run.id))!.remove();
    expect(await queue.getJobState(run.id)).toBe('unknown');
    // Within the grace period nothing happens (the entry may be on its way); after it, the run is queued again.
    expect(await app.services.trainingLifecycle.requeueStranded(3600)).not.toContain(run.id);
    expect(await app.services.trainingLifecycle.requeueStranded(0)).toContain(run.id);
    expect(['waiting', 'prioritized']).toContain(await queue.getJobState(run.id));
    expect(await app.services.trainingLifecycle.requeueStranded(0)).not.toContain(run.id);
    await queue.close();
  });

  it('a trainer whose run a later start took fails nothing; the attempt that holds it does', async () => {
    const u = await factory.user(app, { tier: 'PRO' });
    const run = (await gqlData<any>(app.url, START, { i: { datasetId: await datasetOf(u.token), loraName: 'fenced-failure', steps: 10 } }, u.token)).startTraining;
    const lifecycle = app.services.trainingLifecycle;
    const first = (await lifecycle.start((await lifecycle.find(run.id))!))!;
    const second = (await lifecycle.start((await lifecycle.find(run.id))!))!;
    expect([first.attempts, second.attempts]).toEqual([1, 2]);
    const error = { code: 'WORKER_ERROR' as const, message: 'the trainer broke' };
    expect(await lifecycle.fail(first, error, 3)).toBe(false);
    expect((await lifecycle.find(run.id))!.status).toBe('RUNNING');
    expect(await lifecycle.fail(second, error, 3)).toBe(true);
    expect((await lifecycle.find(run.id))!.status).toBe('FAILED');
  });

  it('a trainer whose run a later start took writes its checkpoint beside the holder\'s, never over it, and removes it', async () => {
    const u = await factory.user(app, { tier: 'PRO' });
    const run = (await gqlData<any>(app.url, START, { i: { datasetId: await datasetOf(u.token), loraName: 'fenced-checkpoint', steps: 10 } }, u.token)).startTraining;
    const { trainingLifecycle: lifecycle, store } = app.services;
    const first = (await lifecycle.start((await lifecycle.find(run.id))!))!;
    const second = (await lifecycle.start((await lifecycle.find(run.id))!))!;
    const holders = { lora: Buffer.from('the holder\'s weights'), optimizer: Buffer.from('the holder\'s moments') };
    expect(await lifecycle.checkpoint(second, 2, holders.lora, holders.optimizer)).toBe(true);
    // The first trainer reaches the same save point late, with weights of its own: refused, and its files go.
    expect(await lifecycle.checkpoint(first, 2, Buffer.from('stale weights'), Buffer.from('stale moments'))).toBe(false);
    const [own, stale] = [trainingCheckpointKey(run.id, 2, 2), trainingCheckpointKey(run.id, 2, 1)];
    expect(await Promise.all([stale, trainingOptimizerKey(stale)].map((key) => store.exists(key)))).toEqual([false, false]);
    const row = (await lifecycle.find(run.id))!;
    expect([row.checkpointKey, row.checkpointStep]).toEqual([own, 2]);
    expect(await lifecycle.loadCheckpoint(row)).toEqual({ step: 2, lora: holders.lora, optimizerState: holders.optimizer });

    // The holder's next save point replaces this one, whose files go; the export names the two files the row points at.
    expect(await lifecycle.checkpoint(second, 4, Buffer.from('later weights'), Buffer.from('later moments'))).toBe(true);
    expect(await Promise.all([own, trainingOptimizerKey(own)].map((key) => store.exists(key)))).toEqual([false, false]);
    const latest = trainingCheckpointKey(run.id, 4, 2);
    expect(await storedKeys(app.db)).toEqual(expect.arrayContaining([latest, `training/${run.id}/optimizer-4-a2.bin`]));
    // An account deletion sweeps every attempt's name and the name from before attempts.
    expect(trainingCheckpointFiles({ ...(await lifecycle.find(run.id))!, config: { ...row.config, saveEvery: 2 } })).toEqual(expect.arrayContaining([
      latest, `training/${run.id}/optimizer-4-a2.bin`, `training/${run.id}/checkpoint-2-a1.safetensors`, `training/${run.id}/optimizer-2-a1.bin`,
      `training/${run.id}/checkpoint-2.safetensors`, `training/${run.id}/optimizer-2.bin`,
    ]));
  });

  it('a trainer whose run a later start took records no sample images; a save point rendered again points its rows at the new ones', async () => {
    const u = await factory.user(app, { tier: 'PRO' });
    const run = (await gqlData<any>(app.url, START, { i: { datasetId: await datasetOf(u.token), loraName: 'fenced-samples', steps: 10, samplePrompts: ['a grey square'] } }, u.token)).startTraining;
    const { trainingLifecycle: lifecycle, store } = app.services;
    const first = (await lifecycle.start((await lifecycle.find(run.id))!))!;
    const second = (await lifecycle.start((await lifecycle.find(run.id))!))!;
    const rows = async () => (await app.db.query('SELECT step, position, storage_key FROM training_samples WHERE run_id = $1', [run.id])) as unknown[];
    const png = (text: string) => Buffer.from(text);
    expect(await lifecycle.samples(second, 2, [png('the holder\'s sample')])).toBe(true);
    const own = trainingSampleKey(run.id, 2, 0, 2);
    expect(await rows()).toEqual([{ step: 2, position: 0, storage_key: own }]);

    // The first trainer renders the same save point late: refused, its file removed, the holder's row and file kept.
    expect(await lifecycle.samples(first, 2, [png('a stale sample')])).toBe(false);
    expect(await store.exists(trainingSampleKey(run.id, 2, 0, 1))).toBe(false);
    expect(await rows()).toEqual([{ step: 2, position: 0, storage_key: own }]);
    expect(await store.get(own)).toEqual(png('the holder\'s sample'));

    // A resumed run (a third attempt) renders the save point again: the row points at its file, the one before goes.
    const third = (await lifecycle.start((await lifecycle.find(run.id))!))!;
    expect(await lifecycle.samples(third, 2, [png('rendered again')])).toBe(true);
    const again = trainingSampleKey(run.id, 2, 0, 3);
    expect(await rows()).toEqual([{ step: 2, position: 0, storage_key: again }]);
    expect(await store.exists(own)).toBe(false);
    // Announced twice, never for the refused one.
    const announced = (await app.events.read<LoggedTrainingEvent>('training', run.id, null)).filter((e) => e.type === 'SAMPLE');
    expect(announced.map((e) => (e as unknown as { samples: { key: string }[] }).samples.map((sample) => sample.key))).toEqual([[own], [again]]);
  });

  it('a checkpoint recorded before its name carried the attempt is resumed from as before', async () => {
    const u = await factory.user(app, { tier: 'PRO' });
    const run = (await gqlData<any>(app.url, START, { i: { datasetId: await datasetOf(u.token), loraName: 'old-checkpoint', steps: 10 } }, u.token)).startTraining;
    const { trainingLifecycle: lifecycle, store } = app.services;
    const oldKey = `training/${run.id}/checkpoint-6.safetensors`;
    await store.put(oldKey, Buffer.from('old weights'), 'application/octet-stream');
    await store.put(`training/${run.id}/optimizer-6.bin`, Buffer.from('old moments'), 'application/octet-stream');
    await app.db.query('UPDATE training_runs SET checkpoint_key = $2, checkpoint_step = 6 WHERE id = $1', [run.id, oldKey]);
    const started = (await lifecycle.start((await lifecycle.find(run.id))!))!;
    expect(await lifecycle.loadCheckpoint(started)).toEqual({ step: 6, lora: Buffer.from('old weights'), optimizerState: Buffer.from('old moments') });
    expect(await storedKeys(app.db)).toEqual(expect.arrayContaining([oldKey, `training/${run.id}/optimizer-6.bin`]));
    // Its next save point is named with the attempt, and the old files go once it is recorded.
    expect(await lifecycle.checkpoint(started, 8, Buffer.from('new weights'), Buffer.from('new moments'))).toBe(true);
    expect(await Promise.all([oldKey, `training/${run.id}/optimizer-6.bin`].map((key) => store.exists(key)))).toEqual([false, false]);
  });
});
