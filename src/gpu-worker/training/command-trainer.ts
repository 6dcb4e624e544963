import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseLora } from '../lora/lora-file';
import { datasetHash } from './dataset';
import { writeKohyaDataset } from './kohya-layout';
import { validateTrainingSpec } from './spec-validation';
import { packFolder, unpackFolder } from './state-folder';
import { parseTqdm } from './tqdm';
import { TrainingError, type TrainingBackend, type TrainingCheckpoint, type TrainingHooks, type TrainingResult, type TrainingSpec } from './types';

/**
 * Runs a training tool as a child process (docs/training.md, "The command
 * trainer"): kohya_ss sd-scripts' train_network.py, or `atelier train`, which
 * speaks the same flags and output. The dataset is written in the kohya
 * folder layout, progress and loss are parsed from the tqdm line, the step
 * checkpoints and the final safetensors are picked up from the output folder.
 */
export interface CommandTrainerConfig {
  /** Program and arguments; `{placeholder}`s (see PLACEHOLDERS in docs/training.md) are filled per run. */
  command: string[];
  /** Appended when resuming from a checkpoint that carries a state folder, e.g. ['--resume', '{resume_dir}']; absent: resume starts over. */
  resumeArgs?: string[];
  /** The folder the command runs in (kohya: the sd-scripts checkout); absent: the worker's own. */
  cwd?: string;
  /** Extra environment variables for the process. */
  env?: Record<string, string>;
  /** Seconds from SIGTERM to SIGKILL when a run is aborted (default 10). */
  killGraceSeconds?: number;
}

/** kohya_ss sd-scripts' LoRA trainer, as the command trainer's usual configuration. */
export const KOHYA_TRAIN_NETWORK: CommandTrainerConfig = {
  command: [
    'accelerate', 'launch', '--num_cpu_threads_per_process', '1', 'train_network.py',
    '--pretrained_model_name_or_path', '{model}', '--train_data_dir', '{train_data_dir}', '--output_dir', '{output_dir}',
    '--output_name', '{output_name}', '--network_module', 'networks.lora', '--network_dim', '{network_dim}',
    '--network_alpha', '{network_alpha}', '--learning_rate', '{learning_rate}', '--max_train_steps', '{max_train_steps}',
    '--train_batch_size', '{train_batch_size}', '--resolution', '{resolution}', '--seed', '{seed}',
    '--save_every_n_steps', '{save_every_n_steps}', '--save_model_as', 'safetensors', '--caption_extension', '.txt', '--save_state',
  ],
  resumeArgs: ['--resume', '{resume_dir}'],
};

const OUTPUT_NAME = 'atelier';
const STEP_FILE = /-step(\d{8})\.safetensors$/;
const SAMPLE_FILE = /_(\d{6})_(\d{2})[^/]*\.png$/;

/**
 * Flags appended when the spec sets them: both train_network.py and `atelier
 * train` take these names, and a fixed template cannot leave a flag out.
 */
function optionalArgs(spec: TrainingSpec): string[] {
  return [
    ...(spec.minTimestep !== undefined ? ['--min_timestep', String(spec.minTimestep)] : []),
    ...(spec.minSnrGamma !== undefined ? ['--min_snr_gamma', String(spec.minSnrGamma)] : []),
  ];
}

function fill(template: string[], values: Record<string, string>): string[] {
  return template.map((arg) => arg.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole));
}

/** The per-run state of one child process: output parsing, checkpoint and sample pickup. */
class CommandRun {
  readonly lossCurve: Array<{ step: number; loss: number }> = [];
  readonly evaluationCurve: Array<{ step: number; loss: number }> = [];
  private pending?: { step: number; file: string };
  private readonly reportedSamples = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private readonly tail: string[] = [];
  lastCheckpoint?: TrainingCheckpoint;

  constructor(private readonly spec: TrainingSpec, private readonly hooks: TrainingHooks, private readonly outputDir: string, private readonly resumeStep: number) {}

  /** Feeds a chunk of the process's output; hooks run in order, one after another. */
  feed(text: string): void {
    for (const line of text.split(/[\r\n]+/)) {
      if (!line.trim()) continue;
      this.tail.push(line);
      if (this.tail.length > 20) this.tail.shift();
      this.chain = this.chain.then(() => this.handle(line));
    }
  }

  async settle(): Promise<void> {
    await this.chain;
    await this.flushCheckpoint();
  }

  get lastLines(): string {
    return this.tail.join('\n');
  }

  private async handle(line: string): Promise<void> {
    const saving = /saving checkpoint: (.+\.safetensors)\s*$/.exec(line);
    if (saving) {
      await this.flushCheckpoint();
      const step = STEP_FILE.exec(saving[1]);
      if (step) this.pending = { step: Number(step[1]), file: saving[1] };
      return;
    }
    const progress = parseTqdm(line);
    if (!progress) return;
    // The tool wrote the announced checkpoint (and its state) before taking the next step.
    await this.flushCheckpoint();
    // kohya counts a resumed run's bar from 0 up to max_train_steps - initial_step.
    const step = progress.total === this.spec.steps ? progress.step : progress.step + this.resumeStep;
    // A bar redrawn at the same step (a new postfix) is one step: each curve takes a step once.
    if (progress.loss !== null && this.lossCurve.at(-1)?.step !== step) {
      this.lossCurve.push({ step, loss: progress.loss });
      await this.hooks.onProgress?.({ step, totalSteps: this.spec.steps, loss: progress.loss, learningRate: this.spec.learningRate, etaSeconds: progress.remainingSeconds ?? 0 });
    }
    if (progress.evaluationLoss !== null && this.evaluationCurve.at(-1)?.step !== step) {
      this.evaluationCurve.push({ step, loss: progress.evaluationLoss });
      await this.hooks.onEvaluation?.({ step, loss: progress.evaluationLoss });
    }
  }

  private async flushCheckpoint(): Promise<void> {
    const pending = this.pending;
    if (!pending || !existsSync(pending.file)) return;
    this.pending = undefined;
    const stateDir = pending.file.replace(/\.safetensors$/, '-state');
    const optimizerState = existsSync(stateDir) ? await packFolder(stateDir) : Buffer.alloc(0);
    this.lastCheckpoint = { step: pending.step, lora: await readFile(pending.file), optimizerState };
    await this.hooks.onCheckpoint?.(this.lastCheckpoint);
    await this.reportSamples();
  }

  /** PNGs the tool rendered into <output_dir>/sample (kohya names them <name>_<step:06d>_<index:02d>…png). */
  async reportSamples(): Promise<void> {
    const dir = path.join(this.outputDir, 'sample');
    if (!this.hooks.onSample || !existsSync(dir)) return;
    const byStep = new Map<number, Array<{ index: number; file: string }>>();
    for (const name of (await readdir(dir)).sort()) {
      const m = SAMPLE_FILE.exec(name);
      if (!m || this.reportedSamples.has(name)) continue;
      this.reportedSamples.add(name);
      const list = byStep.get(Number(m[1])) ?? [];
      list.push({ index: Number(m[2]), file: path.join(dir, name) });
      byStep.set(Number(m[1]), list);
    }
    for (const [step, list] of [...byStep].sort((a, b) => a[0] - b[0])) {
      const images = await Promise.all(list.sort((a, b) => a.index - b.index).map((s) => readFile(s.file)));
      await this.hooks.onSample({ step, images });
    }
  }
}

export class CommandTrainer implements TrainingBackend {
  readonly name = 'command';

  constructor(private readonly config: CommandTrainerConfig) {
    if (config.command.length === 0) throw new TrainingError('INVALID_SPEC', 'the command trainer needs a command', 'command');
  }

  async train(spec: TrainingSpec, hooks: TrainingHooks = {}, signal?: AbortSignal): Promise<TrainingResult> {
    validateTrainingSpec(spec);
    const work = await mkdtemp(path.join(os.tmpdir(), 'atelier-command-training-'));
    try {
      return await this.run(spec, hooks, work, signal);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  private async run(spec: TrainingSpec, hooks: TrainingHooks, work: string, signal?: AbortSignal): Promise<TrainingResult> {
    const outputDir = path.join(work, 'output');
    const trainDataDir = path.join(work, 'data');
    await writeKohyaDataset(trainDataDir, spec.images);
    const promptsFile = path.join(work, 'prompts.txt');
    await writeFile(promptsFile, spec.samplePrompts.join('\n'));
    const values: Record<string, string> = {
      model: spec.modelDir, train_data_dir: trainDataDir, output_dir: outputDir, output_name: OUTPUT_NAME,
      network_dim: String(spec.rank), network_alpha: String(spec.alpha), learning_rate: String(spec.learningRate),
      max_train_steps: String(spec.steps), train_batch_size: String(spec.batchSize), resolution: String(spec.resolution),
      seed: String(spec.seed), save_every_n_steps: String(spec.saveEvery), sample_prompts: promptsFile,
    };
    let args = [...fill(this.config.command, values), ...optionalArgs(spec)];
    let resumeStep = 0;
    if (spec.resume && this.config.resumeArgs) {
      const resumeDir = path.join(work, `resume-step${String(spec.resume.step).padStart(8, '0')}-state`);
      if (await unpackFolder(spec.resume.optimizerState, resumeDir)) {
        args = [...args, ...fill(this.config.resumeArgs, { ...values, resume_dir: resumeDir })];
        resumeStep = spec.resume.step;
      }
    }
    const run = new CommandRun(spec, hooks, outputDir, resumeStep);
    const exit = await this.spawn(args, run, signal);
    await run.settle();
    await run.reportSamples();
    if (signal?.aborted) throw new TrainingError('CANCELLED', `training cancelled${run.lastCheckpoint ? ` after the checkpoint at step ${run.lastCheckpoint.step}` : ''}`);
    if (exit !== 0) throw new TrainingError('FAILED', `${args[0]} exited with ${exit}:\n${run.lastLines}`);
    return this.result(spec, run, path.join(outputDir, `${OUTPUT_NAME}.safetensors`));
  }

  private async result(spec: TrainingSpec, run: CommandRun, file: string): Promise<TrainingResult> {
    let lora: Buffer;
    try {
      lora = await readFile(file);
      parseLora(file, lora);
    } catch (error) {
      throw new TrainingError('FAILED', `the command produced no usable ${path.basename(file)} (${(error as Error).message})`);
    }
    // The evaluation losses when the tool printed them (`atelier train`), else its avr_loss (kohya).
    const curve = run.evaluationCurve.length ? run.evaluationCurve : run.lossCurve;
    return {
      lora, lossCurve: run.lossCurve, evaluationCurve: run.evaluationCurve, datasetHash: await datasetHash(spec.images),
      initialLoss: curve[0]?.loss ?? Number.NaN, finalLoss: curve[curve.length - 1]?.loss ?? Number.NaN,
    };
  }

  /** Runs the process in a group of its own, so an abort stops it and everything it started. */
  private spawn(args: string[], run: CommandRun, signal?: AbortSignal): Promise<number | null> {
    return new Promise((resolve, reject) => {
      const child: ChildProcess = spawn(args[0], args.slice(1), { detached: true, cwd: this.config.cwd, env: { ...process.env, ...this.config.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout?.setEncoding('utf8').on('data', (t: string) => run.feed(t));
      child.stderr?.setEncoding('utf8').on('data', (t: string) => run.feed(t));
      let killTimer: NodeJS.Timeout | undefined;
      const abort = () => {
        const group = (sig: NodeJS.Signals) => { try { process.kill(-(child.pid as number), sig); } catch { /* already gone */ } };
        group('SIGTERM');
        killTimer = setTimeout(() => group('SIGKILL'), (this.config.killGraceSeconds ?? 10) * 1000);
      };
      if (signal?.aborted) abort();
      signal?.addEventListener('abort', abort, { once: true });
      child.once('error', (error) => reject(new TrainingError('FAILED', `cannot start ${args[0]}: ${error.message}`)));
      child.once('close', (code) => {
        signal?.removeEventListener('abort', abort);
        clearTimeout(killTimer);
        resolve(code);
      });
    });
  }
}
