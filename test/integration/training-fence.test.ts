import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { gqlData, waitFor } from '../support/graphql';
import { paletteDataset } from '../support/training';

/*
 * A training run is fenced by its attempt (docs/training.md, "Resume
 * guarantees"): each start counts one, and only the attempt that started the
 * run last may record its step, checkpoints and completion. Here the run is
 * started again behind its trainer's back (the row's `attempts` raised, as
 * another worker's start does), the way a worker that missed its lock's loss
 * finds itself: it must stop at its next step record and write nothing more.
 * Its entry is then left for the stalled check (a 2 s lock here), and a new
 * attempt trains the run to its end, once. Before the fence, the first
 * trainer went on to the end and registered its LoRA over the later attempt.
 */
let app: TestApp;
const lines: { msg: string; runId?: string; level: number }[] = [];

beforeAll(async () => {
  app = await startTestApp(
    { ATELIER_TRAINER_ENCODING_ITERATIONS: '10', ATELIER_WORKER_LOCK_SECONDS: '2' },
    { logger: createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } }) },
  );
});
afterAll(() => app?.close());

describe('a trainer whose attempt no longer holds its run', () => {
  it('stops at its next step record, writes nothing more, and the run is trained to its end once by a later attempt', async () => {
    const u = await factory.user(app, { tier: 'PRO' });
    const datasetId = await paletteDataset(app.url, u.token, { name: 'fenced', rgb: [40, 160, 90], caption: 'green' });
    const { startTraining: run } = await gqlData<any>(app.url, 'mutation($i:TrainingInput!){ startTraining(input:$i){ id } }', {
      i: { datasetId, loraName: 'fenced', steps: 400, saveEvery: 100, batchSize: 1, seed: 5 },
    }, u.token);
    const row = async () => (await app.db.query('SELECT status, step, checkpoint_step, attempts, lora_id FROM training_runs WHERE id = $1', [run.id]))[0];
    const about = () => lines.filter((l) => l.runId === run.id).map((l) => l.msg);
    await waitFor(async () => (await row()).step >= 20, 120_000, 20);

    // Another worker's start, as TrainingLifecycle.start makes it.
    await app.db.query('UPDATE training_runs SET attempts = attempts + 1 WHERE id = $1', [run.id]);
    const taken = await row();
    expect(taken).toMatchObject({ status: 'RUNNING', attempts: 2 });
    await waitFor(async () => about().includes('run taken from this worker (started again elsewhere, or ended): it stops here'), 10_000, 10);
    // Nothing the first attempt trained after that reached the row (a new attempt needs the lock to lapse first).
    const stopped = await row();
    expect({ step: stopped.step, checkpoint: stopped.checkpoint_step, attempts: stopped.attempts })
      .toEqual({ step: taken.step, checkpoint: taken.checkpoint_step, attempts: 2 });
    expect(stopped.step).toBeLessThan(400);

    // The row commits before the worker logs its completion.
    await waitFor(async () => (await row()).status === 'COMPLETED' && about().includes('training completed'), 240_000, 100);
    const done = await row();
    expect(done.attempts).toBe(3);
    const msgs = about();
    console.log(`what the worker logged about the run: ${msgs.join(' | ')}`);
    expect(msgs.filter((m) => m === 'training completed')).toHaveLength(1);
    expect(msgs.filter((m) => m.startsWith('run was finished elsewhere'))).toEqual([]);
    const loras = await app.db.query('SELECT id FROM loras WHERE training_run_id = $1', [run.id]);
    expect(loras).toEqual([{ id: done.lora_id }]);
  }, 360_000);
});
