import path from 'node:path';
import { CommandTrainer } from '../src/gpu-worker/training/command-trainer';
import { LocalTrainer } from '../src/gpu-worker/training/local-trainer';
import type { TrainingBackend, TrainingSpec } from '../src/gpu-worker/training/types';
import { paletteDataset } from '../test/unit/helpers/palette-dataset';
import { benchModels, row } from './harness';

const STEPS = 60;

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

export async function trainingBench(): Promise<void> {
  console.log('\n== training (tiny model, local trainer, CPU) ==');
  const modelDir = path.join(await benchModels(), 'atelier-tiny');
  const spec: TrainingSpec = {
    modelDir, images: await paletteDataset(64), rank: 4, alpha: 4, learningRate: 0.03, steps: STEPS, batchSize: 4,
    resolution: 64, seed: 1, saveEvery: 0, samplePrompts: [],
  };
  const direct: number[] = [];
  const command: number[] = [];
  // Interleaved, so both see the same machine load.
  for (let i = 0; i < 2; i++) {
    direct.push(await stepsPerSecond(new LocalTrainer(), spec));
    command.push(await stepsPerSecond(atelierTrainCommand(), spec));
  }
  const best = (xs: number[]) => Math.max(...xs);
  console.log(`${'library loop run directly (steps/s)'.padEnd(58)} ${best(direct).toFixed(2)}`);
  row('command trainer (atelier train process) ÷ direct loop', best(command), best(direct), 'steps/s', '≥ 0.9');
  console.log('through the service: needs the training branch (queue, worker, events); not measured on this branch');
}
