import path from 'node:path';
import type { Client } from 'graphql-ws';
import { CommandTrainer } from '../src/gpu-worker/training/command-trainer';
import { LocalTrainer } from '../src/gpu-worker/training/local-trainer';
import type { TrainingBackend, TrainingSpec } from '../src/gpu-worker/training/types';
import * as factory from '../test/support/factories';
import { gqlData, wsClient } from '../test/support/graphql';
import { uploadBytes } from '../test/support/training';
import { paletteDataset } from '../test/unit/helpers/palette-dataset';
import { benchModels, row, startBenchApp } from './harness';

const STEPS = 300;

/**
 * Optimizer steps per second of one run, timed from its first to its last
 * progress report: the training loop itself, without loading the model and
 * encoding the images (which a resumed run pays again and a long run amortises).
 */
async function stepsPerSecond(backend: TrainingBackend, spec: TrainingSpec): Promise<number> {
  const at: number[] = [];
  await backend.train(spec, { onProgress: () => void at.push(performance.now()) });
  return (at.length - 1) / ((at[at.length - 1] - at[0]) / 1000);
}

/** The built `atelier train` as a command trainer (what a worker would run for an external tool). */
function atelierTrainCommand(): CommandTrainer {
  const cli = path.resolve(__dirname, '../src/cli/main.js');
  return new CommandTrainer({
    command: [
      process.execPath, cli, 'train', '--pretrained_model_name_or_path', '{model}', '--train_data_dir', '{train_data_dir}', '--output_dir', '{output_dir}',
      '--output_name', '{output_name}', '--network_dim', '{network_dim}', '--network_alpha', '{network_alpha}', '--learning_rate', '{learning_rate}',
      '--max_train_steps', '{max_train_steps}', '--train_batch_size', '{train_batch_size}', '--resolution', '{resolution}', '--seed', '{seed}',
    ],
  });
}

const START = 'mutation($i:TrainingInput!){ startTraining(input:$i){ id } }';
const WATCH = 'subscription($r:ID!){ trainingUpdated(runId:$r){ type step error { message } } }';

/**
 * The same run through the service: startTraining over GraphQL, the run on
 * the training queue, the worker's trainer thread, PROGRESS events back over
 * graphql-ws. Steps per second from the first to the last PROGRESS event
 * that reaches the client (events are sent at most every 200 ms, each with
 * its step).
 */
async function serviceStepsPerSecond(url: string, token: string, client: Client, datasetId: string, spec: TrainingSpec, n: number): Promise<number> {
  const input = {
    datasetId, loraName: `bench-${n}`, rank: spec.rank, alpha: spec.alpha, learningRate: spec.learningRate, steps: spec.steps,
    batchSize: spec.batchSize, resolution: spec.resolution, seed: spec.seed, saveEvery: spec.steps, samplePrompts: [],
  };
  const { startTraining } = await gqlData<any>(url, START, { i: input }, token);
  const seen: Array<{ step: number; at: number }> = [];
  await new Promise<void>((resolve, reject) => {
    const stop = client.subscribe<any>({ query: WATCH, variables: { r: startTraining.id } }, {
      next: ({ data }) => {
        const event = data?.trainingUpdated;
        if (event?.type === 'PROGRESS') seen.push({ step: event.step, at: performance.now() });
        if (event?.type === 'FAILED') reject(new Error(`training failed: ${event.error?.message}`));
        if (event?.type === 'COMPLETED') {
          stop();
          resolve();
        }
      },
      error: reject,
      complete: resolve,
    });
  });
  const [first, last] = [seen[0], seen[seen.length - 1]];
  return (last.step - first.step) / ((last.at - first.at) / 1000);
}

/** An ENTERPRISE user's dataset of the palette images, uploaded and captioned as a client would. */
async function serviceDataset(url: string, token: string, spec: TrainingSpec): Promise<string> {
  const { createDataset } = await gqlData<any>(url, 'mutation { createDataset(input:{ name:"bench" }){ id } }', {}, token);
  const images = [];
  for (const image of spec.images) images.push({ uploadId: await uploadBytes(url, token, image.bytes as Buffer), caption: image.caption });
  await gqlData(url, 'mutation($d:ID!,$im:[DatasetImageInput!]!){ addDatasetImages(datasetId:$d, images:$im){ id } }', { d: createDataset.id, im: images }, token);
  return createDataset.id;
}

export async function trainingBench(): Promise<void> {
  console.log('\n== training (tiny model, local trainer, CPU) ==');
  const modelDir = path.join(await benchModels(), 'atelier-tiny');
  const spec: TrainingSpec = {
    modelDir, images: await paletteDataset(64), rank: 4, alpha: 4, learningRate: 0.03, steps: STEPS, batchSize: 4,
    resolution: 64, seed: 1, saveEvery: 0, samplePrompts: [],
  };
  const app = await startBenchApp();
  const user = await factory.user(app, { tier: 'ENTERPRISE' });
  const client = wsClient(app.url, user.token);
  const datasetId = await serviceDataset(app.url, user.token, spec);
  const direct: number[] = [];
  const service: number[] = [];
  const command: number[] = [];
  try {
    // Interleaved, so all see the same machine load.
    for (let i = 0; i < 2; i++) {
      direct.push(await stepsPerSecond(new LocalTrainer(), spec));
      service.push(await serviceStepsPerSecond(app.url, user.token, client, datasetId, spec, i));
      command.push(await stepsPerSecond(atelierTrainCommand(), spec));
    }
  } finally {
    await client.dispose();
    await app.stop();
    await app.teardown();
  }
  const best = (xs: number[]) => Math.max(...xs);
  console.log(`${'library loop run directly (steps/s, best of 2)'.padEnd(58)} ${best(direct).toFixed(2)}  (runs: ${direct.map((v) => v.toFixed(1)).join(', ')})`);
  row('through the service ÷ the same loop run directly', best(service), best(direct), 'steps/s', '≥ 0.9');
  row('command trainer (atelier train process) ÷ direct loop', best(command), best(direct), 'steps/s', '≥ 0.9');
}
