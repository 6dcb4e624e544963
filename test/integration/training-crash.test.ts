import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { Client } from 'pg';
import { connectToDatabase, createScratchDatabase, testEnv } from '../support/app';
import * as factory from '../support/factories';
import { collect, gqlData, waitFor, wsClient } from '../support/graphql';
import { spawnAtelier, type AtelierProcess } from '../support/processes';
import { paletteDataset } from '../support/training';

/*
 * Real processes on one PostgreSQL database (PGlite is one process only): an
 * API, a worker killed with SIGKILL mid-run, and a second worker that resumes
 * the run from its last checkpoint (docs/training.md, "Resume guarantees").
 */
const serverUrl = inject('sharedDatabaseUrl');
const procs: AtelierProcess[] = [];
let env: Record<string, string>;
let drop: () => Promise<void>;
let api: AtelierProcess;
let db: DataSource;

beforeAll(async () => {
  if (!serverUrl) throw new Error('No PostgreSQL server: set DATABASE_URL or install PostgreSQL (apt-get install postgresql)');
  const scratch = await createScratchDatabase(serverUrl);
  drop = scratch.drop;
  env = testEnv({ DATABASE_URL: scratch.url, ATELIER_WORKER_LOCK_SECONDS: '2', ATELIER_TRAINER_ENCODING_ITERATIONS: '10' });
  api = await spawnAtelier('api', env);
  procs.push(api);
  db = await connectToDatabase(env.DATABASE_URL);
});

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await db?.destroy();
  await drop?.();
});

/** The built `atelier train` as the workers' training command (docs/training.md, "Choosing the trainer"). */
const COMMAND_TRAINER = {
  ATELIER_TRAINER: 'command',
  ATELIER_TRAINER_COMMAND: JSON.stringify([
    process.execPath, path.resolve(__dirname, '../../dist/src/cli/main.js'), 'train', '--pretrained_model_name_or_path', '{model}',
    '--train_data_dir', '{train_data_dir}', '--output_dir', '{output_dir}', '--output_name', '{output_name}', '--network_dim', '{network_dim}',
    '--network_alpha', '{network_alpha}', '--learning_rate', '{learning_rate}', '--max_train_steps', '{max_train_steps}',
    '--train_batch_size', '{train_batch_size}', '--resolution', '{resolution}', '--seed', '{seed}', '--save_every_n_steps', '{save_every_n_steps}',
    '--save_state',
  ]),
};

describe('training crash recovery', () => {
  it('a worker killed with SIGKILL mid-run: another resumes from the last checkpoint, and the run ends with exactly one LoRA', async () => {
    await crashAndResume({}, 'survivor', 60);
  }, 240_000);

  it('the same with the command trainer: the second worker resumes the command from the checkpoint\'s state folder', async () => {
    // The child process trains at full speed while the worker only reads its output: more steps, so the kill lands mid-run.
    await crashAndResume(COMMAND_TRAINER, 'survivor-cli', 600);
  }, 240_000);
});

async function crashAndResume(trainer: Record<string, string>, loraName: string, steps: number): Promise<void> {
  {
    const url = api.url!;
    const u = await factory.user({ url, db }, { tier: 'PRO' });
    const datasetId = await paletteDataset(url, u.token, { name: 'crash', rgb: [200, 60, 30], caption: 'rust' });
    const pg = new Client({ connectionString: env.DATABASE_URL });
    await pg.connect();

    const first = await spawnAtelier('worker', { ...env, ...trainer });
    procs.push(first);
    const run = (await gqlData<any>(url, 'mutation($i:TrainingInput!){ startTraining(input:$i){ id } }', {
      i: { datasetId, loraName, steps, saveEvery: 10, batchSize: 1, seed: 3 },
    }, u.token)).startTraining;
    const events = collect<any>(wsClient(url, u.token), 'subscription($r:ID!){ trainingUpdated(runId:$r){ type step resumedFrom loraId } }', { r: run.id });
    const killedAt = await waitFor(async () => {
      const { rows } = await pg.query('SELECT status, checkpoint_step FROM training_runs WHERE id = $1', [run.id]);
      return rows[0].status === 'RUNNING' && rows[0].checkpoint_step >= 10 ? rows[0].checkpoint_step as number : null;
    }, 120_000, 20);
    await first.kill('SIGKILL');
    const { rows: mid } = await pg.query('SELECT status FROM training_runs WHERE id = $1', [run.id]);
    expect(mid[0].status).toBe('RUNNING');

    const second = await spawnAtelier('worker', { ...env, ...trainer });
    procs.push(second);
    await events.done;
    const seen = events.items.map((i) => i.trainingUpdated);
    expect(seen.at(-1).type).toBe('COMPLETED');
    const starts = seen.filter((e) => e.type === 'STARTED');
    expect(starts).toHaveLength(2);
    // Resumed from a checkpoint at or after the one seen before the kill, not from zero.
    expect(starts[1].resumedFrom).toBeGreaterThanOrEqual(killedAt);
    const { rows: done } = await pg.query('SELECT status, attempts, lora_id FROM training_runs WHERE id = $1', [run.id]);
    expect(done[0]).toMatchObject({ status: 'COMPLETED', attempts: 2, lora_id: seen.at(-1).loraId });
    const { rows: loras } = await pg.query('SELECT id, version FROM loras WHERE training_run_id = $1', [run.id]);
    expect(loras).toEqual([{ id: seen.at(-1).loraId, version: 1 }]);
    if (!trainer.ATELIER_TRAINER) {
      // The local trainer's checkpoint carries the evaluations so far: the version's curve is whole, each step once.
      const { rows: [{ metrics }] } = await pg.query('SELECT metrics FROM loras WHERE training_run_id = $1', [run.id]);
      expect(metrics.evaluationCurve.map((p: { step: number }) => p.step)).toEqual(Array.from({ length: steps / 10 + 1 }, (_, i) => i * 10));
    }
    await pg.end();
    // The next case's run must go to its own workers.
    await second.kill('SIGKILL');
  }
}
