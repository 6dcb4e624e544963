import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lora, TrainingRun } from '../../src/entities';
import { collect, gql, gqlData, waitFor, wsClient } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { generate } from '../support/library';
import { parsePrometheusText } from '../support/prometheus';
import { paletteDataset } from '../support/training';

let app: TestApp;
beforeAll(async () => {
  // Few encoding iterations: these tests are about the service around the trainer, not the fit (the trainer's tests are).
  app = await startTestApp({ ATELIER_TRAINER_ENCODING_ITERATIONS: '10' });
});
afterAll(() => app?.close());

const START = 'mutation($i:TrainingInput!){ startTraining(input:$i){ id status loraName totalSteps config { steps rank saveEvery samplePrompts } } }';
const WATCH = `subscription($r:ID!, $after:String){ trainingUpdated(runId:$r, after:$after){ eventId type step totalSteps loss evaluationLoss learningRate etaSeconds resumedFrom checkpointStep loraId finalLoss
  samples { prompt url } error { code message } } }`;

/** A PRO user's dataset of `count` teal images, uploaded and captioned. */
async function tealDataset(token: string, count = 8): Promise<string> {
  return paletteDataset(app.url, token, { name: 'teal', rgb: [20, 160, 150], caption: 'a teal texture', count });
}

function watch(token: string, runId: string, until: (items: any[]) => boolean = () => false, after?: string) {
  return collect<any>(wsClient(app.url, token), WATCH, { r: runId, after }, until);
}

describe('startTraining', () => {
  it('refuses each bad hyperparameter with BAD_USER_INPUT and its field, and stores nothing', async () => {
    const u = await factory.user(app, { tier: 'PRO' });
    const datasetId = await tealDataset(u.token, 1);
    const bad: [Record<string, unknown>, string][] = [
      [{ rank: 0 }, 'rank'], [{ rank: 129 }, 'rank'], [{ alpha: 0 }, 'alpha'], [{ learningRate: 2 }, 'learningRate'],
      [{ steps: 0 }, 'steps'], [{ steps: 100_001 }, 'steps'], [{ batchSize: 65 }, 'batchSize'], [{ resolution: 60 }, 'resolution'], [{ resolution: 32 }, 'resolution'],
      [{ seed: -1 }, 'seed'], [{ steps: 10, saveEvery: 11 }, 'saveEvery'], [{ samplePrompts: [''] }, 'samplePrompts[0]'],
      [{ samplePrompts: Array(9).fill('x') }, 'samplePrompts'], [{ loraName: '' }, 'loraName'], [{ datasetId: '00000000-0000-4000-8000-000000000000' }, 'datasetId'],
      [{ baseModelId: '00000000-0000-4000-8000-000000000000' }, 'baseModelId'],
      [{ minTimestep: 1000 }, 'minTimestep'], [{ minTimestep: -1 }, 'minTimestep'], [{ minSnrGamma: 0 }, 'minSnrGamma'], [{ minSnrGamma: 5000 }, 'minSnrGamma'],
    ];
    for (const [change, field] of bad) {
      const res = await gql(app.url, START, { i: { datasetId, loraName: 'x', ...change } }, u.token);
      expect(res.errors?.[0].extensions, JSON.stringify(change)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    // Inside the table but beyond PRO's 2,000 steps: the tier's cap, answered as a generation's are.
    const beyond = await gql(app.url, START, { i: { datasetId, loraName: 'x', steps: 2001 } }, u.token);
    expect(beyond.errors?.[0].extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', field: 'steps', limit: 2000 });
    expect(await app.db.getRepository(TrainingRun).countBy({ ownerId: u.id })).toBe(0);
  });

  it('is not part of the FREE tier, and PRO runs count against runs at once', async () => {
    const free = await factory.user(app, { tier: 'FREE' });
    const freeSet = await tealDataset(free.token, 1);
    const refused = await gql(app.url, START, { i: { datasetId: freeSet, loraName: 'x' } }, free.token);
    expect(refused.errors?.[0].extensions?.code).toBe('QUOTA_EXCEEDED');
    expect(refused.errors?.[0].message).toMatch(/not part of your FREE tier/);

    const pro = await factory.user(app, { tier: 'PRO' });
    const datasetId = await tealDataset(pro.token, 1);
    // PRO: one run at once. Two at the same moment: exactly one is admitted.
    const both = await Promise.all([1, 2].map(() => gql<any>(app.url, START, { i: { datasetId, loraName: 'twice', steps: 2000, saveEvery: 1000 } }, pro.token)));
    expect(both.filter((r) => r.errors?.[0].extensions?.code === 'QUOTA_EXCEEDED')).toHaveLength(1);
    const run = both.find((r) => !r.errors)!.data.startTraining;
    const cancelled = await gqlData<any>(app.url, 'mutation($id:ID!){ cancelTraining(id:$id){ id } }', { id: run.id }, pro.token);
    expect(cancelled.cancelTraining.id).toBe(run.id);
    await waitFor(async () => (await app.db.getRepository(TrainingRun).findOneByOrFail({ id: run.id })).status === 'CANCELLED', 170_000);
  }, 200_000);
});

/** Mean RGB of a PNG at a URL. */
async function meanColourAt(url: string): Promise<number[]> {
  const stats = await sharp(Buffer.from(await (await fetch(url)).arrayBuffer())).stats();
  return stats.channels.slice(0, 3).map((c) => c.mean);
}

const distance = (a: number[], b: number[]) => Math.hypot(...a.map((v, i) => v - b[i]));

describe('a run with the defaults on the tiny model', () => {
  it('trains from the top of the schedule (minTimestep 900, learning rate 0.03), so its samples move toward the dataset\'s colour', async () => {
    const u = await factory.user(app, { tier: 'PRO' });
    const datasetId = await tealDataset(u.token);
    const prompts = ['a castle on a hill', 'a forest at dawn', 'a boat on the sea', 'a bowl of fruit'];
    const run = (await gqlData<any>(app.url, 'mutation($i:TrainingInput!){ startTraining(input:$i){ id config { minTimestep minSnrGamma steps learningRate } } }', {
      i: { datasetId, loraName: 'defaults', seed: 11, samplePrompts: prompts },
    }, u.token)).startTraining;
    expect(run.config).toMatchObject({ minTimestep: 900, minSnrGamma: null, steps: 200, learningRate: 0.03 });
    const live = watch(u.token, run.id);
    await live.done;
    const events = live.items.map((i) => i.trainingUpdated);
    expect(events.at(-1).type).toBe('COMPLETED');
    const samples = events.filter((e) => e.type === 'SAMPLE');
    const [base, last] = [samples[0], samples.at(-1)];
    expect([base.step, last.step]).toEqual([0, 200]);
    const teal = [20, 160, 150];
    let before = 0;
    let after = 0;
    for (let i = 0; i < prompts.length; i += 1) {
      before += distance(await meanColourAt(base.samples[i].url), teal) / prompts.length;
      after += distance(await meanColourAt(last.samples[i].url), teal) / prompts.length;
    }
    console.log(`defaults on atelier-tiny: mean colour distance to the dataset, base ${before.toFixed(1)}, trained ${after.toFixed(1)}`);
    expect(after).toBeLessThan(before * 0.9);

    // The loss the user watches: EVALUATION at step 0 (the base model) and every 10 steps, falling from the initial to the final loss.
    const evaluations = events.filter((e) => e.type === 'EVALUATION').map((e) => ({ step: e.step, loss: e.evaluationLoss }));
    expect(evaluations.map((e) => e.step)).toEqual(Array.from({ length: 21 }, (_, i) => i * 10));
    const { metrics } = (await gqlData<any>(app.url, 'query($id:ID!){ trainingRun(id:$id){ lora { metrics { initialLoss finalLoss evaluationCurve { step loss } } } } }', { id: run.id }, u.token)).trainingRun.lora;
    const [first, final] = [evaluations[0].loss, evaluations.at(-1)!.loss];
    console.log(`defaults on atelier-tiny: streamed evaluation loss ${evaluations.map((e) => e.loss.toFixed(2)).join(' ')}`);
    expect(first).toBeCloseTo(metrics.initialLoss, 6);
    expect(final).toBe(metrics.finalLoss);
    expect(final).toBe(events.at(-1).finalLoss);
    expect(final).toBeLessThan(first * 0.7);
    expect(metrics.evaluationCurve).toEqual(evaluations);
  }, 180_000);

  it('keeps an explicit minTimestep and minSnrGamma', async () => {
    const u = await factory.user(app, { tier: 'PRO' });
    const datasetId = await tealDataset(u.token, 1);
    const run = (await gqlData<any>(app.url, 'mutation($i:TrainingInput!){ startTraining(input:$i){ id config { minTimestep minSnrGamma learningRate } } }', {
      i: { datasetId, loraName: 'explicit', steps: 2000, saveEvery: 1000, minTimestep: 0, minSnrGamma: 5, learningRate: 0.01 },
    }, u.token)).startTraining;
    expect(run.config).toEqual({ minTimestep: 0, minSnrGamma: 5, learningRate: 0.01 });
    await gqlData(app.url, 'mutation($id:ID!){ cancelTraining(id:$id){ id } }', { id: run.id }, u.token);
    await waitFor(async () => (await app.db.getRepository(TrainingRun).findOneByOrFail({ id: run.id })).status === 'CANCELLED', 170_000);
  }, 200_000);
});

describe('a training run', () => {
  it('streams live loss, checkpoints and samples, registers a LoRA version with its metrics, usable at once', async () => {
    const u = await factory.user(app, { tier: 'PRO' });
    const datasetId = await tealDataset(u.token);
    const run = (await gqlData<any>(app.url, START, {
      i: { datasetId, loraName: 'teal', steps: 30, saveEvery: 10, batchSize: 2, learningRate: 0.02, seed: 7, samplePrompts: ['a teal texture'] },
    }, u.token)).startTraining;
    expect(run).toMatchObject({ status: 'QUEUED', loraName: 'teal', totalSteps: 30, config: { steps: 30, rank: 4, saveEvery: 10 } });
    const live = watch(u.token, run.id);
    await live.done;
    expect(live.errors).toEqual([]);
    const events = live.items.map((i) => i.trainingUpdated);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('QUEUED');
    expect(types[1]).toBe('STARTED');
    expect(events.at(-1).error ?? null).toBeNull();
    expect(types.at(-1)).toBe('COMPLETED');
    expect(types.filter((t) => t === 'CHECKPOINT').length).toBeGreaterThanOrEqual(3);
    const progress = events.filter((e) => e.type === 'PROGRESS');
    expect(progress.length).toBeGreaterThan(2);
    expect(progress.at(-1)).toMatchObject({ step: 30, totalSteps: 30, learningRate: expect.any(Number), etaSeconds: expect.any(Number) });
    const sample = events.find((e) => e.type === 'SAMPLE');
    expect(sample.samples[0].prompt).toBe('a teal texture');
    const png = await fetch(sample.samples[0].url);
    expect(png.status).toBe(200);
    expect(Buffer.from(await png.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');

    const done = events.at(-1);
    const read = (await gqlData<any>(app.url, `query($id:ID!){ trainingRun(id:$id){ status step loss datasetHash lora { id name version visibility
      metrics { datasetHash initialLoss finalLoss lossCurve { step loss } config { steps seed } } trainingRun { id } } } }`, { id: run.id }, u.token)).trainingRun;
    expect(read.status).toBe('COMPLETED');
    expect(read.lora).toMatchObject({ id: done.loraId, name: 'teal', version: 1, visibility: 'PRIVATE', trainingRun: { id: run.id } });
    expect(read.lora.metrics).toMatchObject({ datasetHash: read.datasetHash, finalLoss: done.finalLoss, config: { steps: 30, seed: 7 } });
    expect(read.lora.metrics.lossCurve.length).toBeGreaterThanOrEqual(30);

    // Immediately usable: a generation with it completes.
    const job = await generate(app.url, u.token, { prompt: 'a teal texture', width: 64, height: 64, steps: 4, loras: [{ loraId: done.loraId, weight: 1 }] });
    expect(job.status).toBe('COMPLETED');

    // Watching afterwards replays the whole run and ends.
    const replay = watch(u.token, run.id);
    await replay.done;
    expect(replay.items.map((i) => i.trainingUpdated.eventId)).toEqual(events.map((e) => e.eventId));
    // A client that reconnects resumes after the last event it has: the rest, once, and the end.
    const middle = Math.floor(events.length / 2);
    const resumed = watch(u.token, run.id, () => false, events[middle].eventId);
    await resumed.done;
    expect(resumed.items.map((i) => i.trainingUpdated.eventId)).toEqual(events.slice(middle + 1).map((e) => e.eventId));
    const afterEnd = watch(u.token, run.id, () => false, events.at(-1).eventId);
    await afterEnd.done;
    expect([afterEnd.items, afterEnd.errors]).toEqual([[], []]);
    const malformed = watch(u.token, run.id, () => false, 'not-an-event-id');
    await malformed.done;
    expect(malformed.errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'after' } });

    // Metrics: outcome counted; the per-run series are gone once the run ended.
    const families = parsePrometheusText(await (await fetch(`${app.url}/metrics`)).text());
    expect(families.get('atelier_training_runs_total')?.samples.find((s) => s.labels.outcome === 'completed')?.value).toBeGreaterThanOrEqual(1);
    expect(families.get('atelier_training_loss')?.samples.find((s) => s.labels.run === run.id)).toBeUndefined();

    // Other users do not see the run; admins do.
    const other = await factory.user(app);
    expect((await gql(app.url, 'query($id:ID!){ trainingRun(id:$id){ id } }', { id: run.id }, other.token)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect((await gqlData<any>(app.url, '{ trainingRuns { edges { node { id } } } }', {}, other.token)).trainingRuns.edges).toEqual([]);
    const admin = await factory.user(app, { role: 'ADMIN' });
    const all = (await gqlData<any>(app.url, '{ trainingRuns(first: 100) { edges { node { id } } } }', {}, admin.token)).trainingRuns.edges;
    expect(all.map((e: any) => e.node.id)).toContain(run.id);

    // The LoRA starts private: to others an unknown id until its owner publishes it; admins list it.
    const loraIds = async (token: string) => (await gqlData<any>(app.url, '{ loras { id } }', {}, token)).loras.map((l: any) => l.id);
    expect(await loraIds(other.token)).not.toContain(done.loraId);
    expect(await loraIds(admin.token)).toContain(done.loraId);
    const USE = 'mutation($l:ID!){ createGeneration(input:{ prompt:"x", width:64, height:64, steps:1, loras:[{ loraId:$l, weight:1 }] }){ id } }';
    expect((await gql(app.url, USE, { l: done.loraId }, other.token)).errors?.[0]).toMatchObject({ message: 'LoRA not found', extensions: { code: 'BAD_USER_INPUT', field: 'loras[0].loraId' } });

    // Published, its metrics show others what a model card shows, but not the run's sample prompts, seed or dataset hash; its owner and admins read them all.
    await gqlData(app.url, 'mutation($l:ID!){ setLoraVisibility(id:$l, visibility:PUBLIC){ id } }', { l: done.loraId }, u.token);
    const METRICS = `{ loras { id metrics { datasetHash initialLoss finalLoss lossCurve { step loss } evaluationCurve { step loss }
      config { rank alpha learningRate steps batchSize resolution seed saveEvery samplePrompts minTimestep minSnrGamma } } } }`;
    const metricsAs = async (token: string) => (await gqlData<any>(app.url, METRICS, {}, token)).loras.find((l: any) => l.id === done.loraId).metrics;
    const full = await metricsAs(u.token);
    expect(full).toMatchObject({ datasetHash: read.datasetHash, config: { steps: 30, rank: 4, learningRate: 0.02, seed: 7, samplePrompts: ['a teal texture'] } });
    expect(await metricsAs(admin.token)).toEqual(full);
    expect(await metricsAs(other.token)).toEqual({ ...full, datasetHash: null, config: { ...full.config, seed: null, samplePrompts: null } });
  }, 180_000);

  it('cancel stops at the next step and keeps the last checkpoint downloadable; no LoRA', async () => {
    const u = await factory.user(app, { tier: 'PRO' });
    const datasetId = await tealDataset(u.token, 2);
    const run = (await gqlData<any>(app.url, START, { i: { datasetId, loraName: 'stopped', steps: 2000, saveEvery: 5, batchSize: 1 } }, u.token)).startTraining;
    const live = watch(u.token, run.id);
    await waitFor(async () => live.items.some((i) => i.trainingUpdated.type === 'CHECKPOINT'), 120_000, 50);
    // While it runs, the worker exports its pace and current loss under the run's id.
    const running = parsePrometheusText(await (await fetch(`${app.url}/metrics`)).text());
    expect(running.get('atelier_training_loss')?.samples.find((s) => s.labels.run === run.id)?.value).toEqual(expect.any(Number));
    expect(running.get('atelier_training_steps_per_second')?.samples.find((s) => s.labels.run === run.id)?.value).toBeGreaterThan(0);
    await gqlData(app.url, 'mutation($id:ID!){ cancelTraining(id:$id){ id } }', { id: run.id }, u.token);
    await live.done;
    const events = live.items.map((i) => i.trainingUpdated);
    const cancelled = events.at(-1);
    expect(cancelled.type).toBe('CANCELLED');
    expect(cancelled.step).toBeLessThan(2000);
    expect(cancelled.checkpointStep).toBeGreaterThanOrEqual(5);
    const read = (await gqlData<any>(app.url, 'query($id:ID!){ trainingRun(id:$id){ status checkpointStep checkpointUrl lora { id } } }', { id: run.id }, u.token)).trainingRun;
    expect(read).toMatchObject({ status: 'CANCELLED', checkpointStep: cancelled.checkpointStep, lora: null });
    const file = await fetch(read.checkpointUrl);
    expect(file.status).toBe(200);
    expect((await file.arrayBuffer()).byteLength).toBeGreaterThan(100);
    expect(await app.db.getRepository(Lora).countBy({ trainingRunId: run.id })).toBe(0);
  }, 180_000);
});

describe('the base model\'s folder', () => {
  it('is found as generations find it: a model registered with a path trains on that folder of the models folder', async () => {
    const admin = await factory.user(app, { role: 'ADMIN' });
    const model = (await gqlData<any>(app.url, 'mutation($input: ModelInput!) { registerModel(input: $input) { id } }', {
      input: { name: `tiny-copy-${Date.now()}`, backend: 'ONNX', path: 'atelier-tiny' },
    }, admin.token)).registerModel;
    const u = await factory.user(app, { tier: 'PRO' });
    const datasetId = await tealDataset(u.token, 1);
    const run = (await gqlData<any>(app.url, START, { i: { datasetId, loraName: 'copied base', baseModelId: model.id, steps: 3, saveEvery: 3, batchSize: 1 } }, u.token)).startTraining;
    const done = await waitFor(async () => {
      const row = await app.db.getRepository(TrainingRun).findOneByOrFail({ id: run.id });
      return row.status === 'COMPLETED' || row.status === 'FAILED' ? row : null;
    }, 120_000, 100);
    // Before, the worker looked for <models dir>/<model name>: FAILED, MODEL_INVALID, with the server's path in the message.
    expect(done).toMatchObject({ status: 'COMPLETED', error: null });
    expect(await app.db.getRepository(Lora).countBy({ trainingRunId: run.id })).toBe(1);
  }, 150_000);
});
