import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRedis, type LocalRedis } from '../../src/redis/local-server';
import { evaluationInterval } from '../../src/gpu-worker/training/local-run';
import * as factory from '../support/factories';
import { collect, gqlData, waitFor, wsClient } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { startTemporaryPostgres, type TemporaryPostgres } from '../support/postgres-cluster';
import { paletteDataset } from '../support/training';

/*
 * A redis-server and a PostgreSQL server of this file's own, each stopped for
 * a few seconds in the middle of a training run and started again on the same
 * port: the run rides the outage out and ends COMPLETED with its LoRA
 * (docs/training.md, "Resume guarantees").
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'atelier-training-outage-'));
let redis: LocalRedis | null;
let redisPort: number;
let pg: TemporaryPostgres;
let halted = false;
let app: TestApp;

beforeAll(async () => {
  const server = await startTemporaryPostgres();
  if (!server) throw new Error('This test needs PostgreSQL binaries (apt-get install postgresql)');
  pg = server;
  redis = await startLocalRedis(dir, { persist: true });
  redisPort = Number(new URL(redis.url).port);
  app = await startTestApp({ REDIS_URL: redis.url, DATABASE_URL: pg.url, ATELIER_TRAINER_ENCODING_ITERATIONS: '10' });
});
afterAll(async () => {
  redis ??= await startLocalRedis(dir, { persist: true, port: redisPort });
  if (halted) pg.resume();
  await app?.close();
  await redis.stop();
  pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// About 120 steps a second on the 2-core machine when idle: the run lasts some 10 s; the outage starts at step
// OUTAGE_AT, some 2.5 s in, and lasts 3 s. The first save point comes 100 steps into the outage, and the trainer
// waits there until its checkpoint is stored: the 800 steps after it are trained once the server is back.
const STEPS = 1200;
const OUTAGE_AT = 300;
const SAVE_EVERY = 400;
/** Evaluated every evaluationInterval(STEPS) steps (24) and at each save point. */
const EVALUATE_EVERY = evaluationInterval(STEPS);

/** A PRO user with a dataset of four rust-coloured images; starts a run and returns once it is at step OUTAGE_AT. */
async function startRun(loraName: string) {
  const u = await factory.user(app, { tier: 'PRO' });
  const datasetId = await paletteDataset(app.url, u.token, { name: 'outage', rgb: [200, 60, 30], caption: 'rust' });
  const run = (await gqlData<any>(app.url, 'mutation($i:TrainingInput!){ startTraining(input:$i){ id } }', {
    i: { datasetId, loraName, steps: STEPS, saveEvery: SAVE_EVERY, batchSize: 1, seed: 5, samplePrompts: ['a rust texture'] },
  }, u.token)).startTraining;
  const startedAt = Date.now();
  const step = await waitFor(async () => {
    const [row] = await app.db.query('SELECT status, step FROM training_runs WHERE id = $1', [run.id]);
    return row.status === 'RUNNING' && row.step >= OUTAGE_AT ? row.step as number : null;
  }, 120_000, 20);
  console.log(`run at step ${step} ${Date.now() - startedAt} ms after startTraining`);
  return { user: u, runId: run.id as string, startedAt };
}

/** The run's row once it is final (FAILED, CANCELLED or COMPLETED). */
function finalRow(runId: string) {
  return waitFor(async () => {
    const [row] = await app.db.query('SELECT status, error, attempts, step, checkpoint_step, lora_id, finished_at FROM training_runs WHERE id = $1', [runId]);
    return row.status === 'RUNNING' || row.status === 'QUEUED' ? null : row;
  }, 240_000, 200);
}

/** What a run that rode an outage out must look like: COMPLETED once, its LoRA registered once, every save point recorded. */
async function expectCompletedThrough(runId: string, token: string, outageOverAt: number) {
  const row = await finalRow(runId);
  console.log(`run after the outage: ${JSON.stringify(row)}`);
  expect(row).toMatchObject({ status: 'COMPLETED', error: null, step: STEPS, checkpoint_step: STEPS });
  // Ridden out in place, not given back to the queue and resumed.
  expect(row.attempts).toBe(1);
  expect(new Date(row.finished_at).getTime()).toBeGreaterThan(outageOverAt);
  const loras = await app.db.query('SELECT id, version, storage_key, metrics FROM loras WHERE training_run_id = $1', [runId]);
  expect(loras.map((l: { id: string; version: number }) => ({ id: l.id, version: l.version }))).toEqual([{ id: row.lora_id, version: 1 }]);
  expect(await app.services.store.exists(loras[0].storage_key)).toBe(true);
  // The trainer's own curve: every evaluation, whatever the outage did to the live EVALUATION events.
  const savePoints = Array.from({ length: STEPS / SAVE_EVERY }, (_, i) => (i + 1) * SAVE_EVERY);
  const evaluated = [...Array.from({ length: STEPS / EVALUATE_EVERY + 1 }, (_, i) => i * EVALUATE_EVERY), ...savePoints];
  expect(loras[0].metrics.evaluationCurve.map((p: { step: number }) => p.step)).toEqual([...new Set(evaluated)].sort((a, b) => a - b));

  const events = collect<any>(wsClient(app.url, token), 'subscription($r:ID!){ trainingUpdated(runId:$r){ type step loraId } }', { r: runId });
  await events.done;
  const seen = events.items.map((i) => i.trainingUpdated);
  expect(seen.filter((e) => e.type === 'STARTED')).toHaveLength(1);
  expect(seen.filter((e) => ['FAILED', 'CANCELLED'].includes(e.type))).toEqual([]);
  expect(seen.at(-1)).toMatchObject({ type: 'COMPLETED', loraId: row.lora_id });
  // Checkpoints and samples are bookkeeping, not best effort: each save point's is there.
  expect([...new Set(seen.filter((e) => e.type === 'CHECKPOINT').map((e) => e.step))]).toEqual(savePoints);
  expect([...new Set(seen.filter((e) => e.type === 'SAMPLE').map((e) => e.step))]).toEqual([0, ...savePoints]);
}

describe('an outage in the middle of a training run', () => {
  it('Redis stopped for 3 s: the run carries on and ends COMPLETED with exactly one LoRA', async () => {
    const { user, runId, startedAt } = await startRun('through-redis');
    await redis!.stop();
    redis = null;
    console.log(`Redis stopped ${Date.now() - startedAt} ms after startTraining`);
    try {
      await sleep(3000);
    } finally {
      redis = await startLocalRedis(dir, { persist: true, port: redisPort });
    }
    const [after] = await app.db.query('SELECT status, step FROM training_runs WHERE id = $1', [runId]);
    console.log(`Redis started again ${Date.now() - startedAt} ms after startTraining; the row says ${JSON.stringify(after)}`);
    await expectCompletedThrough(runId, user.token, Date.now());
  }, 300_000);

  it('PostgreSQL stopped for 3 s: the run carries on and ends COMPLETED with exactly one LoRA', async () => {
    const { user, runId, startedAt } = await startRun('through-postgres');
    pg.halt();
    halted = true;
    console.log(`PostgreSQL stopped ${Date.now() - startedAt} ms after startTraining`);
    try {
      await sleep(3000);
    } finally {
      pg.resume();
      halted = false;
    }
    console.log(`PostgreSQL started again ${Date.now() - startedAt} ms after startTraining`);
    await expectCompletedThrough(runId, user.token, Date.now());
  }, 300_000);
});
