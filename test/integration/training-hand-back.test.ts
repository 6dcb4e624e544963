import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrainingQueue } from '../../src/gpu-worker/queue';
import { trainingBackendOf } from '../../src/gpu-worker/training-backend';
import { TrainingWorker } from '../../src/gpu-worker/training-worker';
import { createLogger } from '../../src/observability/logger';
import type { Bookkeeping } from '../../src/services/job-lifecycle';
import { startLocalRedis, type LocalRedis } from '../../src/redis/local-server';
import * as factory from '../support/factories';
import { collect, gqlData, waitFor, wsClient } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { forgottenEnds } from '../support/owed-ends';
import { paletteDataset } from '../support/training';

/*
 * A Redis outage longer than the worker's bookkeeping retries (1 s here, 60 s
 * in service): the run goes back to the queue still RUNNING, as on a graceful
 * shutdown, and resumes from its last checkpoint once Redis is back
 * (docs/training.md, "Resume guarantees"). The API runs alone; the training
 * worker is built here, with the short retry window. And the one retry that
 * must not undo anything: a completion whose commit went through.
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'atelier-training-hand-back-'));
let redis: LocalRedis | null;
let redisPort: number;
let app: TestApp;
let worker: TrainingWorker;
const logLines: { msg: string; runId?: string }[] = [];

beforeAll(async () => {
  redis = await startLocalRedis(dir, { persist: true });
  redisPort = Number(new URL(redis.url).port);
  app = await startTestApp({ ATELIER_ROLE: 'api', REDIS_URL: redis.url, ATELIER_TRAINER_ENCODING_ITERATIONS: '10' });
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(JSON.parse(line)) } });
  worker = new TrainingWorker({
    db: app.db, redis: app.redis, connection: { url: redis.url, maxRetriesPerRequest: null }, prefix: app.config.redisPrefix,
    lifecycle: app.services.trainingLifecycle, scheduler: app.services.trainingScheduler, store: app.services.store,
    backend: trainingBackendOf(app.config.trainer, 10), modelsDir: app.config.modelsDir, logger, outageRetryMs: 1000,
  });
});
afterAll(async () => {
  redis ??= await startLocalRedis(dir, { persist: true, port: redisPort });
  await worker?.close(1000);
  await app?.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A PRO user's dataset of four blue images and a run on it, QUEUED. */
async function queuedRun(loraName: string, steps: number, saveEvery: number, seed: number) {
  const u = await factory.user(app, { tier: 'PRO' });
  const datasetId = await paletteDataset(app.url, u.token, { name: 'hand-back', rgb: [30, 60, 200], caption: 'blue' });
  const run = (await gqlData<any>(app.url, 'mutation($i:TrainingInput!){ startTraining(input:$i){ id } }', {
    i: { datasetId, loraName, steps, saveEvery, batchSize: 1, seed },
  }, u.token)).startTraining;
  return { user: u, runId: run.id as string };
}

/** The run's events, replayed; resolves once its final one is in. */
async function eventsOf(token: string, runId: string): Promise<any[]> {
  const events = collect<any>(wsClient(app.url, token), 'subscription($r:ID!){ trainingUpdated(runId:$r){ type step resumedFrom loraId } }', { r: runId });
  await events.done;
  return events.items.map((i) => i.trainingUpdated);
}

const STEPS = 2000;
const SAVE_EVERY = 200;
/** evaluationInterval(2000); the save points are multiples of it. */
const EVALUATE_EVERY = 40;

describe('an outage longer than the bookkeeping retries', () => {
  it('hands the run back to the queue still RUNNING; it resumes from its last checkpoint and ends with exactly one LoRA', async () => {
    const { user: u, runId } = await queuedRun('handed-back', STEPS, SAVE_EVERY, 9);
    const checkpointBefore = await waitFor(async () => {
      const [row] = await app.db.query('SELECT status, checkpoint_step FROM training_runs WHERE id = $1', [runId]);
      return row.status === 'RUNNING' && row.checkpoint_step >= SAVE_EVERY ? row.checkpoint_step as number : null;
    }, 120_000, 20);

    await redis!.stop();
    redis = null;
    try {
      // The next save point's CHECKPOINT cannot be published: after the retries the trainer stops and the run is put back.
      const outcome = await waitFor(async () => {
        if (logLines.some((l) => l.runId === runId && /run put back in the queue/.test(l.msg))) return 'put back';
        const [row] = await app.db.query('SELECT status, error FROM training_runs WHERE id = $1', [runId]);
        return row.status === 'RUNNING' ? null : JSON.stringify(row);
      }, 120_000, 50);
      expect(outcome).toBe('put back');
      const [row] = await app.db.query('SELECT status, error FROM training_runs WHERE id = $1', [runId]);
      expect(row).toEqual({ status: 'RUNNING', error: null });
    } finally {
      redis = await startLocalRedis(dir, { persist: true, port: redisPort });
    }

    const done = await waitFor(async () => {
      const [row] = await app.db.query('SELECT status, error, attempts, checkpoint_step, lora_id FROM training_runs WHERE id = $1', [runId]);
      return ['RUNNING', 'QUEUED'].includes(row.status) ? null : row;
    }, 240_000, 200);
    console.log(`run handed back during the outage: ${JSON.stringify(done)}; the worker logged: ${[...new Set(logLines.map((l) => l.msg))].join(' | ')}`);
    expect(done).toMatchObject({ status: 'COMPLETED', error: null, attempts: 2, checkpoint_step: STEPS });
    const loras = await app.db.query('SELECT id, version, metrics FROM loras WHERE training_run_id = $1', [runId]);
    expect(loras.map((l: { id: string; version: number }) => ({ id: l.id, version: l.version }))).toEqual([{ id: done.lora_id, version: 1 }]);
    expect(loras[0].metrics.evaluationCurve.map((p: { step: number }) => p.step)).toEqual(Array.from({ length: STEPS / EVALUATE_EVERY + 1 }, (_, i) => i * EVALUATE_EVERY));

    const seen = await eventsOf(u.token, runId);
    expect(seen.filter((e) => ['FAILED', 'CANCELLED'].includes(e.type))).toEqual([]);
    const starts = seen.filter((e) => e.type === 'STARTED');
    expect(starts).toHaveLength(2);
    // Resumed from a checkpoint, not from zero.
    expect(starts[1].resumedFrom).toBeGreaterThanOrEqual(checkpointBefore);
    expect(seen.at(-1)).toMatchObject({ type: 'COMPLETED', loraId: done.lora_id });
    expect(logLines.filter((l) => l.msg === 'training failed')).toEqual([]);
  }, 300_000);

  it('a completion retried after its commit went through (the answer lost to the outage) keeps that LoRA and announces it', async () => {
    // This run is completed by hand. The queue is paused too: a paused worker may still take the entry its fetch
    // in flight brings (it started the run as a second attempt, and the completion below was no longer the run's).
    await worker.bullWorker.pause(true);
    const queue = createTrainingQueue({ url: redis!.url, maxRetriesPerRequest: null }, app.config.redisPrefix);
    await queue.pause();
    const { user, runId } = await queuedRun('lost-answer', 10, 10, 1);
    const lifecycle = app.services.trainingLifecycle;
    const started = (await lifecycle.start((await lifecycle.find(runId))!))!;
    // What OutageGate.durable does when a commit's answer is lost: the transaction (the second step) runs again.
    let steps = 0;
    const lostAnswer: Bookkeeping = async (step) => {
      steps += 1;
      if (steps === 2) await step();
      return step();
    };
    const trained = { lora: Buffer.from('lora bytes'), lossCurve: [], evaluationCurve: [], initialLoss: 2, finalLoss: 1, datasetHash: 'hash' };
    const lora = await lifecycle.withBookkeeping(lostAnswer).complete(started, trained);
    expect(lora).not.toBeNull();
    const [row] = await app.db.query('SELECT status, lora_id FROM training_runs WHERE id = $1', [runId]);
    expect(row).toEqual({ status: 'COMPLETED', lora_id: lora!.id });
    expect(await app.db.query('SELECT id FROM loras WHERE training_run_id = $1', [runId])).toEqual([{ id: lora!.id }]);
    expect(await app.services.store.get(lora!.storageKey)).toEqual(trained.lora);
    expect((await eventsOf(user.token, runId)).at(-1)).toMatchObject({ type: 'COMPLETED', loraId: lora!.id });
    await (await queue.getJob(runId))?.remove();
    await queue.resume();
    await queue.close();
  });

  it('a run committed COMPLETED whose COMPLETED an outage kept out of its log: a late subscriber and the worker each tell it, once', async () => {
    // Nobody takes these runs' entries until the queue resumes.
    const queue = createTrainingQueue({ url: redis!.url, maxRetriesPerRequest: null }, app.config.redisPrefix);
    await queue.pause();
    await worker.bullWorker.resume();
    const lifecycle = app.services.trainingLifecycle;
    /** What an outage past the retries leaves, without one: the completion commits, then its COMPLETED cannot be published. */
    const completeUnannounced = async (runId: string) => {
      const started = (await lifecycle.start((await lifecycle.find(runId))!))!;
      let steps = 0;
      const unreachable: Bookkeeping = async (step) => {
        steps += 1;
        // The LoRA stored (1), the transaction committed (2); the third step publishes COMPLETED.
        if (steps === 3) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
        return step();
      };
      const trained = { lora: Buffer.from('lora bytes'), lossCurve: [], evaluationCurve: [], initialLoss: 2, finalLoss: 1, datasetHash: 'hash' };
      // By a worker that dies before telling the end (ends it owes are forgotten): only a subscriber or the next worker can.
      await expect(lifecycle.withBookkeeping(unreachable, forgottenEnds()).complete(started, trained)).rejects.toThrow('ECONNREFUSED');
      const [row] = await app.db.query('SELECT status, lora_id FROM training_runs WHERE id = $1', [runId]);
      expect(row.status).toBe('COMPLETED');
      expect((await app.events.read('training', runId, null)).map((e) => e.type)).toEqual(['QUEUED', 'STARTED']);
      return row.lora_id as string;
    };
    const updates = 'subscription($r:ID!){ trainingUpdated(runId:$r){ type loraId } }';
    const within = (feed: ReturnType<typeof collect<any>>, ms: number) => Promise.race([feed.done, new Promise((r) => setTimeout(r, ms))]);
    try {
      const watched = await queuedRun('told-by-the-worker', 10, 10, 4);
      const live = collect<any>(wsClient(app.url, watched.user.token), updates, { r: watched.runId });
      // Subscribed while the run waits (its QUEUED replayed): one that reached the row only after the
      // completion below would be told the end from it at once, as the late subscriber is.
      await waitFor(async () => live.items.length > 0, 20_000, 20);
      const watchedLora = await completeUnannounced(watched.runId);
      const told = await queuedRun('told-to-a-subscriber', 10, 10, 5);
      const toldLora = await completeUnannounced(told.runId);

      // A subscriber that arrives now is told the end from the row, while no worker holds the entry.
      const late = collect<any>(wsClient(app.url, told.user.token), updates, { r: told.runId });
      await within(late, 20_000);
      expect(late.items.map((i) => i.trainingUpdated)).toEqual([{ type: 'QUEUED', loraId: null }, { type: 'STARTED', loraId: null }, { type: 'COMPLETED', loraId: toldLora }]);
      expect(live.items.map((i) => i.trainingUpdated.type)).toEqual(['QUEUED', 'STARTED']);

      // One watching since before: told by the worker that takes the entry again, which does not tell the other run's end twice.
      await queue.resume();
      await within(live, 30_000);
      expect(live.items.at(-1)?.trainingUpdated).toEqual({ type: 'COMPLETED', loraId: watchedLora });
      expect([...live.errors, ...late.errors]).toEqual([]);
      for (const runId of [watched.runId, told.runId]) {
        await waitFor(async () => ['completed', 'unknown'].includes(await queue.getJobState(runId)), 30_000, 100);
        const types = (await app.events.read('training', runId, null)).map((e) => e.type);
        expect(types).toEqual(['QUEUED', 'STARTED', 'COMPLETED']);
      }
      expect(logLines.filter((l) => l.msg.startsWith('run already final') && [watched.runId, told.runId].includes(l.runId!))).toHaveLength(2);
    } finally {
      await queue.resume();
      await queue.close();
    }
  }, 120_000);

  it('a waiting run cancelled as Redis went: a cancel asked again tells its lost CANCELLED, and so does the reconnection', async () => {
    const queue = createTrainingQueue({ url: redis!.url, maxRetriesPerRequest: null }, app.config.redisPrefix);
    await queue.pause();
    const lifecycle = app.services.trainingLifecycle;
    const updates = 'subscription($r:ID!){ trainingUpdated(runId:$r){ type } }';
    const within = (feed: ReturnType<typeof collect<any>>, ms: number) => Promise.race([feed.done, new Promise((r) => setTimeout(r, ms))]);
    /** A QUEUED run watched from its start, cancelled by the API (fail fast) as Redis goes: the row is CANCELLED, its log has no end. */
    const cancelledUnannounced = async (name: string, seed: number) => {
      const { user: u, runId } = await queuedRun(name, 10, 10, seed);
      const live = collect<any>(wsClient(app.url, u.token), updates, { r: runId });
      await waitFor(async () => live.items.length === 1, 10_000, 10);
      let steps = 0;
      const redisGone: Bookkeeping = async (step) => {
        steps += 1;
        if (steps > 1) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
        return step();
      };
      // Cancelled by a replica that dies before telling the end: only a cancel asked again or the reconnection can.
      await expect(lifecycle.withBookkeeping(redisGone, forgottenEnds()).cancel((await lifecycle.find(runId))!, 0, ['QUEUED' as never])).rejects.toThrow('ECONNREFUSED');
      expect((await app.db.query('SELECT status FROM training_runs WHERE id = $1', [runId]))[0].status).toBe('CANCELLED');
      return { token: u.token, runId, live };
    };
    const expectEnded = async (run: { runId: string; live: ReturnType<typeof collect<any>> }) => {
      await within(run.live, 20_000);
      expect(run.live.items.map((i) => i.trainingUpdated.type)).toEqual(['QUEUED', 'CANCELLED']);
      expect(run.live.errors).toEqual([]);
      expect((await app.events.read('training', run.runId, null)).map((e) => e.type)).toEqual(['QUEUED', 'CANCELLED']);
    };
    try {
      const askedAgain = await cancelledUnannounced('cancelled-twice', 6);
      const reconnected = await cancelledUnannounced('cancelled-as-redis-went', 7);
      const again = await gqlData<any>(app.url, 'mutation($r:ID!){ cancelTraining(id:$r){ status } }', { r: askedAgain.runId }, askedAgain.token);
      expect(again.cancelTraining.status).toBe('CANCELLED');
      await expectEnded(askedAgain);
      // Nobody asks again for the other: only the reconnection tells its end.
      expect(reconnected.live.items).toHaveLength(1);
      await redis!.stop();
      redis = null;
      redis = await startLocalRedis(dir, { persist: true, port: redisPort });
      await expectEnded(reconnected);
    } finally {
      await queue.resume();
      await queue.close();
    }
  }, 120_000);
});
