import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, gqlData, wsClient } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { generate } from '../support/library';
import { paletteDataset } from '../support/training';

const CLI = path.resolve(__dirname, '../../dist/src/cli/main.js');

/** The built `atelier train` as the worker's training command, with train_network.py's flags (docs/training.md, "Choosing the trainer"). */
const ATELIER_TRAIN = [
  process.execPath, CLI, 'train', '--pretrained_model_name_or_path', '{model}', '--train_data_dir', '{train_data_dir}',
  '--output_dir', '{output_dir}', '--output_name', '{output_name}', '--network_dim', '{network_dim}', '--network_alpha', '{network_alpha}',
  '--learning_rate', '{learning_rate}', '--max_train_steps', '{max_train_steps}', '--train_batch_size', '{train_batch_size}',
  '--resolution', '{resolution}', '--seed', '{seed}', '--save_every_n_steps', '{save_every_n_steps}', '--save_state',
  '--sample_prompts', '{sample_prompts}',
];

let app: TestApp;
beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`build first (npx tsc -p tsconfig.json): ${CLI} is missing`);
  app = await startTestApp({ ATELIER_TRAINER: 'command', ATELIER_TRAINER_COMMAND: JSON.stringify(ATELIER_TRAIN) });
});
afterAll(() => app?.close());

const WATCH = `subscription($r:ID!){ trainingUpdated(runId:$r){ type step totalSteps loss evaluationLoss checkpointStep loraId finalLoss samples { prompt url } error { code message } } }`;

describe('a training run on the command trainer (the worker runs `atelier train` as a child process)', () => {
  it('streams PROGRESS with the loss parsed from the process, CHECKPOINT, SAMPLE, COMPLETED, and registers a usable LoRA', async () => {
    const u = await factory.user(app, { tier: 'PRO' });
    const datasetId = await paletteDataset(app.url, u.token, { name: 'teal', rgb: [20, 160, 150], caption: 'a teal texture' });
    const run = (await gqlData<any>(app.url, 'mutation($i:TrainingInput!){ startTraining(input:$i){ id } }', {
      i: { datasetId, loraName: 'teal-cli', steps: 8, saveEvery: 4, batchSize: 2, learningRate: 0.02, seed: 7, samplePrompts: ['a teal texture'] },
    }, u.token)).startTraining;

    const live = collect<any>(wsClient(app.url, u.token), WATCH, { r: run.id }, () => false);
    await live.done;
    expect(live.errors).toEqual([]);
    const events = live.items.map((i) => i.trainingUpdated);
    expect(events.at(-1).error ?? null).toBeNull();
    expect(events.at(-1).type).toBe('COMPLETED');
    const progress = events.filter((e) => e.type === 'PROGRESS');
    expect(progress.length).toBeGreaterThan(0);
    // The loss is the avr_loss postfix of the child's tqdm line, printed with 3 significant digits (the in-process trainer reports full floats).
    expect(progress.every((p) => Number.isFinite(p.loss) && p.loss > 0 && Number(p.loss.toPrecision(3)) === p.loss)).toBe(true);
    expect(progress.at(-1)).toMatchObject({ step: 8, totalSteps: 8 });
    // The eval_loss postfix `atelier train` prints at step 0, the save points and the end: streamed as EVALUATION like the in-process trainer's.
    const evaluations = events.filter((e) => e.type === 'EVALUATION').map((e) => ({ step: e.step, loss: e.evaluationLoss }));
    expect(evaluations.map((e) => e.step)).toEqual([0, 4, 8]);
    expect(evaluations.at(-1)!.loss).toBeLessThan(evaluations[0].loss);
    expect(events.filter((e) => e.type === 'CHECKPOINT').map((e) => e.step)).toContain(4);
    const sample = events.find((e) => e.type === 'SAMPLE');
    expect(sample?.samples[0].prompt).toBe('a teal texture');

    const read = (await gqlData<any>(app.url, `query($id:ID!){ trainingRun(id:$id){ status checkpointStep lora { id name version
      metrics { initialLoss finalLoss lossCurve { step loss } evaluationCurve { step loss } } } } }`, { id: run.id }, u.token)).trainingRun;
    expect(read).toMatchObject({ status: 'COMPLETED', lora: { id: events.at(-1).loraId, name: 'teal-cli', version: 1 } });
    // With evaluations, the initial and final loss are the first and last of them, as with the in-process trainer.
    expect([read.lora.metrics.initialLoss, read.lora.metrics.finalLoss]).toEqual([evaluations[0].loss, evaluations.at(-1)!.loss]);
    expect(read.lora.metrics.evaluationCurve).toEqual(evaluations);
    expect(read.lora.metrics.lossCurve.at(-1)).toEqual({ step: 8, loss: progress.at(-1).loss });

    const job = await generate(app.url, u.token, { prompt: 'a teal texture', width: 64, height: 64, steps: 4, loras: [{ loraId: read.lora.id, weight: 1 }] });
    expect(job.status).toBe('COMPLETED');
  }, 180_000);
});
