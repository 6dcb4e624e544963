import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLora } from '../../src/gpu-worker/lora/lora-file';
import { CommandTrainer, type CommandTrainerConfig } from '../../src/gpu-worker/training/command-trainer';
import { LocalTrainer } from '../../src/gpu-worker/training/local-trainer';
import { readKohyaDataset, writeKohyaDataset } from '../../src/gpu-worker/training/kohya-layout';
import { formatTqdm, parseTqdm } from '../../src/gpu-worker/training/tqdm';
import type { TrainingCheckpoint, TrainingProgress, TrainingSpec } from '../../src/gpu-worker/training/types';
import { paletteDataset } from './helpers/palette-dataset';
import { buildTinyModelInTemp } from './helpers/tiny-model';

const CLI = path.resolve(__dirname, '../../dist/src/cli/main.js');

/** `atelier train` (the built CLI) as the command, with train_network.py's flags. */
const ATELIER_TRAIN: CommandTrainerConfig = {
  command: [
    process.execPath, CLI, 'train', '--pretrained_model_name_or_path', '{model}', '--train_data_dir', '{train_data_dir}',
    '--output_dir', '{output_dir}', '--output_name', '{output_name}', '--network_dim', '{network_dim}', '--network_alpha', '{network_alpha}',
    '--learning_rate', '{learning_rate}', '--max_train_steps', '{max_train_steps}', '--train_batch_size', '{train_batch_size}',
    '--resolution', '{resolution}', '--seed', '{seed}', '--save_every_n_steps', '{save_every_n_steps}', '--save_state',
    '--sample_prompts', '{sample_prompts}',
  ],
  resumeArgs: ['--resume', '{resume_dir}'],
  killGraceSeconds: 2,
};

describe('the tqdm progress line', () => {
  it('is written as kohya\'s train_network.py prints it and read back', () => {
    const line = formatTqdm(10, 100, 5.05, { avr_loss: 0.12345 });
    expect(line).toBe('steps:  10%|█         | 10/100 [00:05<00:45,  1.98it/s, avr_loss=0.123]');
    expect(parseTqdm(line)).toEqual({ step: 10, total: 100, remainingSeconds: 45, loss: 0.123, evaluationLoss: null });
    expect(parseTqdm('steps:  15%|█▌        | 15/100 [01:02:03<1:00:00,  4.13s/it, avr_loss=1.5e-05]')).toEqual({ step: 15, total: 100, remainingSeconds: 3600, loss: 1.5e-5, evaluationLoss: null });
    // atelier train redraws the bar at an evaluated step with an eval_loss postfix (docs/training.md, "`atelier train`").
    const evaluated = formatTqdm(10, 100, 5.05, { avr_loss: 0.12345, eval_loss: 2.4567 });
    expect(evaluated).toBe('steps:  10%|█         | 10/100 [00:05<00:45,  1.98it/s, avr_loss=0.123, eval_loss=2.46]');
    expect(parseTqdm(evaluated)).toEqual({ step: 10, total: 100, remainingSeconds: 45, loss: 0.123, evaluationLoss: 2.46 });
    expect(parseTqdm(formatTqdm(0, 100, 0, { eval_loss: 5.6012 }))).toMatchObject({ step: 0, loss: null, evaluationLoss: 5.6 });
    expect(parseTqdm('validation steps:  10%|█   | 1/10 [00:01<00:09,  1.00it/s, val_loss=0.5]')).toBeNull();
    expect(parseTqdm('saving checkpoint: /x/last.safetensors')).toBeNull();
  });
});

describe('the command trainer running `atelier train`', () => {
  let model: Awaited<ReturnType<typeof buildTinyModelInTemp>>;
  let scratch: string;
  let spec: TrainingSpec;
  const trainer = new CommandTrainer(ATELIER_TRAIN);

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`build first (npx tsc -p tsconfig.json): ${CLI} is missing`);
    model = await buildTinyModelInTemp();
    scratch = await mkdtemp(path.join(os.tmpdir(), 'atelier-command-'));
    spec = {
      modelDir: model.modelDir, images: await paletteDataset(), rank: 4, alpha: 4, learningRate: 0.03, steps: 6, batchSize: 4,
      resolution: 64, seed: 3, saveEvery: 3, samplePrompts: ['a castle on a hill', 'a forest at dawn'], minSnrGamma: undefined,
    };
  });
  afterAll(async () => {
    await model?.cleanup();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('writes the dataset in kohya\'s layout and reads it back', async () => {
    const dir = path.join(scratch, 'dataset');
    await writeKohyaDataset(dir, spec.images.slice(0, 2), { repeats: 2, concept: 'palette' });
    const back = await readKohyaDataset(dir);
    expect(back.map((i) => [path.relative(dir, i.path as string), i.caption])).toEqual([
      ['2_palette/0000.png', 'a castle on a hill'], ['2_palette/0000.png', 'a castle on a hill'],
      ['2_palette/0001.png', 'a forest at dawn'], ['2_palette/0001.png', 'a forest at dawn'],
    ]);
  });

  it('parses progress and loss, picks up checkpoints, samples and the LoRA, and resumes exactly', async () => {
    const progress: TrainingProgress[] = [];
    const evaluations: Array<{ step: number; loss: number }> = [];
    const checkpoints: TrainingCheckpoint[] = [];
    const samples: Array<{ step: number; count: number }> = [];
    // The local trainer's run of the same spec, whose evaluations the command must report: in this process while
    // the command's child processes train beside it (awaited below, where a failure fails the test).
    const localRun = new LocalTrainer().train({ ...spec, samplePrompts: [] });
    localRun.catch(() => undefined);
    const result = await trainer.train(spec, {
      onProgress: (p) => void progress.push(p),
      onEvaluation: (e) => void evaluations.push(e),
      onCheckpoint: (c) => void checkpoints.push(c),
      onSample: (s) => void samples.push({ step: s.step, count: s.images.length }),
    });
    expect(progress.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(progress.every((p) => p.totalSteps === 6 && Number.isFinite(p.loss) && p.loss > 0)).toBe(true);
    expect(checkpoints.map((c) => c.step)).toEqual([3, 6]);
    expect(checkpoints[0].optimizerState.length).toBeGreaterThan(0);
    expect(samples).toEqual([{ step: 0, count: 2 }, { step: 3, count: 2 }, { step: 6, count: 2 }]);
    expect([...parseLora('result', result.lora).layers.keys()].sort()).toEqual(['cond_proj', 'mid_conv', 'out_conv']);
    expect(result.lossCurve.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(result.evaluationCurve).toEqual(evaluations);
    expect([result.initialLoss, result.finalLoss]).toEqual([evaluations[0].loss, evaluations.at(-1)!.loss]);

    const resumedProgress: number[] = [];
    const resumed = await trainer.train({ ...spec, resume: checkpoints[0] }, { onProgress: (p) => void resumedProgress.push(p.step) });
    expect(resumedProgress).toEqual([4, 5, 6]);
    expect(resumed.lora.equals(result.lora)).toBe(true);
    // The eval_loss postfix: the local trainer's evaluation losses, to tqdm's 3 significant digits; they are the initial and final loss.
    const local = await localRun;
    expect(evaluations).toEqual(local.evaluationCurve.map((p) => ({ step: p.step, loss: Number(p.loss.toPrecision(3)) })));
  }, 180_000);

  it('stops the process group when aborted and keeps the last checkpoint', async () => {
    const controller = new AbortController();
    const checkpoints: number[] = [];
    const failure = await trainer.train({ ...spec, steps: 400, saveEvery: 2, samplePrompts: [] }, {
      onCheckpoint: (c) => {
        checkpoints.push(c.step);
        controller.abort();
      },
    }, controller.signal).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'CANCELLED' });
    expect(checkpoints[0]).toBe(2);
  }, 120_000);

  it('fails with the tool\'s last output when the command fails', async () => {
    const failing = new CommandTrainer({ command: [process.execPath, '-e', 'console.error("no CUDA device"); process.exit(3)'] });
    const failure = await failing.train(spec).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'FAILED' });
    expect((failure as Error).message).toContain('no CUDA device');
  });
});

describe('`atelier train` (the built CLI) on its own', () => {
  let model: Awaited<ReturnType<typeof buildTinyModelInTemp>>;
  let scratch: string;
  let dataset: string;

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`build first (npx tsc -p tsconfig.json): ${CLI} is missing`);
    model = await buildTinyModelInTemp();
    scratch = await mkdtemp(path.join(os.tmpdir(), 'atelier-train-cli-'));
    dataset = path.join(scratch, 'dataset');
    await writeKohyaDataset(dataset, await paletteDataset(), { repeats: 1, concept: 'palette' });
  });
  afterAll(async () => {
    await model?.cleanup();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  /** Starts `atelier --json train …` with the dataset and model; `onStderr` sees stderr as it comes. */
  function train(args: string[], onStderr: (text: string, child: ReturnType<typeof spawn>) => void = () => undefined) {
    const child = spawn(process.execPath, [CLI, '--json', 'train', '--pretrained_model_name_or_path', model.modelDir, '--train_data_dir', dataset, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d.toString()));
    child.stderr!.on('data', (d) => { stderr += d.toString(); onStderr(stderr, child); });
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  }

  it('refuses an output path it cannot write before the first step (exit 2, the flag named)', async () => {
    const file = path.join(scratch, 'a-file');
    await writeFile(file, 'x');
    await mkdir(path.join(scratch, 'taken', 'last.safetensors'), { recursive: true });
    const cases: Array<[string[], string]> = [
      [['--output_dir', file], 'output_dir'],
      [['--output_dir', path.join(file, 'below')], 'output_dir'],
      [['--output_dir', path.join(scratch, 'out'), '--output_name', 'sub/name'], 'output_name'],
      [['--output_dir', path.join(scratch, 'taken')], 'output_name'],
    ];
    for (const [args, field] of cases) {
      const run = await train([...args, '--max_train_steps', '2000']);
      expect(run.code, run.stderr).toBe(2);
      expect(JSON.parse(run.stdout).error).toMatchObject({ code: 'BAD_USER_INPUT', field });
      // Refused before training: no progress bar was drawn.
      expect(run.stderr).not.toContain('steps:');
    }
    expect(existsSync(path.join(scratch, 'out'))).toBe(false);
  }, 120_000);

  it('names the flag typed, not the trainer\'s field, in an out-of-range error', async () => {
    const cases: Array<[string[], string]> = [[['--network_dim', '0'], 'network_dim'], [['--max_train_steps', '0'], 'max_train_steps']];
    for (const [args, flag] of cases) {
      const run = await train(['--output_dir', path.join(scratch, 'out-of-range'), ...args]);
      expect(run.code, run.stderr).toBe(2);
      const { error } = JSON.parse(run.stdout);
      expect(error).toMatchObject({ code: 'BAD_USER_INPUT', field: flag });
      expect(error.message.startsWith(`--${flag} `), error.message).toBe(true);
    }
  }, 120_000);

  it('reports Ctrl-C as CANCELLED at the step it stopped, exit 130, with the checkpoints written', async () => {
    let sent = false;
    const run = await train(['--output_dir', path.join(scratch, 'cancelled'), '--max_train_steps', '3000', '--save_every_n_steps', '5', '--save_state'], (text, child) => {
      // Past the first save point: SIGINT, as Ctrl-C sends it.
      if (!sent && /\| (\d{2,})\/3000 /.test(text)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    expect(sent).toBe(true);
    expect(run.code, run.stderr).toBe(130);
    const out = JSON.parse(run.stdout);
    expect(out.error).toMatchObject({ code: 'CANCELLED', field: null });
    expect(out.error.message).toMatch(/^training cancelled at step \d+ \(Ctrl-C\)$/);
    expect(out.checkpoints.length).toBeGreaterThan(0);
    expect(existsSync(out.checkpoints[0])).toBe(true);
  }, 120_000);
});
