import { constants } from 'node:fs';
import { access, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { ErrorCode } from '../../kernel/errors';
import { readKohyaDataset } from '../../gpu-worker/training/kohya-layout';
import { formatTqdm } from '../../gpu-worker/training/tqdm';
import { TrainingError, type TrainingCheckpoint, type TrainingHooks, type TrainingSpec } from '../../gpu-worker/training/types';
import { asFlags, CliError } from '../cli-error';
import { SIGNAL_EXIT, signalName, type StopSignal } from '../exit-codes';
import { integer, type GlobalOptions } from '../options';
import { printJson } from '../output';

/**
 * `atelier train`: the local trainer on a kohya_ss-style dataset folder, with
 * train_network.py's flag names, progress line and output files
 * (docs/training.md, "atelier train"). It needs no server: it trains in this
 * process, and the command trainer can run it like it runs train_network.py.
 */
interface TrainOptions extends GlobalOptions {
  pretrained_model_name_or_path: string; train_data_dir: string; output_dir: string; output_name: string;
  network_dim: number; network_alpha: number; learning_rate: number; max_train_steps: number; train_batch_size: number;
  resolution: number; seed: number; save_every_n_steps: number; save_state?: boolean; resume?: string;
  sample_prompts?: string; min_snr_gamma?: number; min_timestep?: number; network_module: string; save_model_as: string;
}

function number(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`'${value}' is not a number`);
  return n;
}

/** kohya's --resolution is 'size' or 'width,height'; the local trainer trains square images. */
function resolution(value: string): number {
  const [w, h = w] = value.split(',').map((v) => v.trim());
  if (w !== h) throw new InvalidArgumentError('the local trainer trains square images: give one size');
  return integer(w);
}

const STEP_NAME = (name: string, step: number) => `${name}-step${String(step).padStart(8, '0')}`;

/** Sample prompts file: one prompt a line, kohya's `--n`/`--w`/… options after a prompt dropped, `#` lines skipped. */
async function samplePrompts(file: string | undefined): Promise<string[]> {
  if (!file) return [];
  const text = await readFile(file, 'utf8').catch(() => {
    throw new CliError(ErrorCode.BAD_USER_INPUT, `cannot read ${file}`, 'sample_prompts');
  });
  return text.split('\n').map((l) => l.split(' --')[0].trim()).filter((l) => l && !l.startsWith('#'));
}

/** A state folder written with --save_state: the LoRA and the optimizer state, named by step. */
async function readState(dir: string): Promise<TrainingCheckpoint> {
  try {
    const step = Number(/step(\d+)/.exec(path.basename(dir))?.[1] ?? (await readFile(path.join(dir, 'step.txt'), 'utf8')));
    return { step, lora: await readFile(path.join(dir, 'lora.safetensors')), optimizerState: await readFile(path.join(dir, 'optimizer.safetensors')) };
  } catch {
    throw new CliError(ErrorCode.BAD_USER_INPUT, `${dir} is not a state folder written by atelier train --save_state`, 'resume');
  }
}

/** A path's stat, or null when nothing is there (nor can be: a file on the way, ENOTDIR). */
async function statOrNull(file: string) {
  return stat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null;
    throw error;
  });
}

/**
 * Where the files go, checked before any step (the LoRA is written at the end, and a long run must not be lost to
 * a bad path): --output_dir a writable folder, or one that can be made (its nearest existing parent is a writable
 * folder; it is still made only with the first file); --output_name a plain file name that is not a folder there;
 * with --sample_prompts, <output_dir>/sample not a file. Each refusal is BAD_USER_INPUT naming the flag.
 */
async function checkOutputs(o: TrainOptions): Promise<void> {
  const out = path.resolve(o.output_dir);
  const refuse = (field: string, why: string) => new CliError(ErrorCode.BAD_USER_INPUT, why, field);
  if (!o.output_name || o.output_name !== path.basename(o.output_name) || o.output_name === '.' || o.output_name === '..' || /[\\/]/.test(o.output_name)) {
    throw refuse('output_name', `--output_name must be a file name without a folder (got ${JSON.stringify(o.output_name)})`);
  }
  for (let probe = out; ; probe = path.dirname(probe)) {
    const info = await statOrNull(probe);
    if (info) {
      const whose = probe === out ? `${o.output_dir}` : `${o.output_dir} cannot be made: ${probe}`;
      if (!info.isDirectory()) throw refuse('output_dir', `${whose} is not a folder`);
      await access(probe, constants.W_OK | constants.X_OK).catch(() => {
        throw refuse('output_dir', `${whose} is not writable`);
      });
      break;
    }
    if (path.dirname(probe) === probe) break;
  }
  if ((await statOrNull(path.join(out, `${o.output_name}.safetensors`)))?.isDirectory()) {
    throw refuse('output_name', `${path.join(o.output_dir, `${o.output_name}.safetensors`)} is a folder`);
  }
  if (o.sample_prompts && (await statOrNull(path.join(out, 'sample')))?.isDirectory() === false) {
    throw refuse('output_dir', `${path.join(o.output_dir, 'sample')} (where samples go) is not a folder`);
  }
}

async function specOf(o: TrainOptions): Promise<TrainingSpec> {
  if (o.network_module !== 'networks.lora') throw new CliError(ErrorCode.BAD_USER_INPUT, 'only networks.lora is supported', 'network_module');
  if (o.save_model_as !== 'safetensors') throw new CliError(ErrorCode.BAD_USER_INPUT, 'only safetensors is supported', 'save_model_as');
  await checkOutputs(o);
  return {
    modelDir: o.pretrained_model_name_or_path, images: await readKohyaDataset(o.train_data_dir), rank: o.network_dim, alpha: o.network_alpha,
    learningRate: o.learning_rate, steps: o.max_train_steps, batchSize: o.train_batch_size, resolution: o.resolution, seed: o.seed,
    saveEvery: o.save_every_n_steps, samplePrompts: await samplePrompts(o.sample_prompts), minSnrGamma: o.min_snr_gamma,
    minTimestep: o.min_timestep, resume: o.resume ? await readState(o.resume) : undefined,
  };
}

/**
 * The tqdm line on stderr: kohya's avr_loss is the mean loss of the last
 * epoch's worth of steps. At each evaluation the bar is redrawn at the same
 * step with an `eval_loss` postfix (step 0 included), which the command
 * trainer reports as the evaluation loss.
 */
function progressLine(spec: TrainingSpec): Pick<TrainingHooks, 'onProgress' | 'onEvaluation'> {
  const window = Math.max(1, Math.ceil(spec.images.length / spec.batchSize));
  const recent: number[] = [];
  const firstStep = spec.resume?.step ?? 0;
  // tqdm's clock starts with the loop, not with loading the model and encoding the images.
  let started: number | undefined;
  const draw = (step: number, total: number, postfix: Record<string, number>) => {
    const elapsed = started === undefined ? 0 : (Date.now() - started) / 1000;
    // As kohya's bar after --resume: it counts from the resume point to max_train_steps - initial_step.
    process.stderr.write(`\r${formatTqdm(step - firstStep, total - firstStep, elapsed, postfix)}`);
  };
  const average = (): Record<string, number> => (recent.length ? { avr_loss: recent.reduce((a, b) => a + b, 0) / recent.length } : {});
  return {
    onProgress: (p) => {
      started ??= Date.now();
      recent.push(p.loss);
      if (recent.length > window) recent.shift();
      draw(p.step, p.totalSteps, average());
    },
    // The local trainer evaluates at the last step too, so the bar's last redraw ends the line.
    onEvaluation: (e) => {
      draw(e.step, spec.steps, { ...average(), eval_loss: e.loss });
      if (e.step === spec.steps) process.stderr.write('\n');
    },
  };
}

/**
 * kohya's files: step checkpoints (announced on stdout, unless --json lists
 * them at the end), state folders with --save_state, samples. --output_dir
 * is made with the first file, so bad arguments leave nothing behind.
 */
function outputFiles(o: TrainOptions, saved: string[]): Pick<TrainingHooks, 'onCheckpoint' | 'onSample'> {
  return {
    onCheckpoint: async (c) => {
      const file = path.join(o.output_dir, `${STEP_NAME(o.output_name, c.step)}.safetensors`);
      if (!o.json) console.log(`\nsaving checkpoint: ${file}`);
      await mkdir(o.output_dir, { recursive: true });
      await writeFile(file, c.lora);
      saved.push(file);
      if (!o.save_state) return;
      const dir = path.join(o.output_dir, `${STEP_NAME(o.output_name, c.step)}-state`);
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'lora.safetensors'), c.lora);
      await writeFile(path.join(dir, 'optimizer.safetensors'), c.optimizerState);
    },
    onSample: async (s) => {
      const dir = path.join(o.output_dir, 'sample');
      await mkdir(dir, { recursive: true });
      for (const [i, png] of s.images.entries()) await writeFile(path.join(dir, `${o.output_name}_${String(s.step).padStart(6, '0')}_${String(i).padStart(2, '0')}.png`), png);
    },
  };
}

/** The spec's field names as the flags that set them, so an error names the flag to fix. */
const FLAG_OF: Record<string, string> = {
  modelDir: 'pretrained_model_name_or_path', rank: 'network_dim', alpha: 'network_alpha', learningRate: 'learning_rate',
  steps: 'max_train_steps', batchSize: 'train_batch_size', saveEvery: 'save_every_n_steps', minTimestep: 'min_timestep',
  minSnrGamma: 'min_snr_gamma', samplePrompts: 'sample_prompts', images: 'train_data_dir',
};

function cliErrorOf(error: unknown): unknown {
  if (!(error instanceof TrainingError)) return error;
  const code = error.code === 'INVALID_SPEC' || error.code === 'UNSUPPORTED_MODEL' ? ErrorCode.BAD_USER_INPUT : ErrorCode.INTERNAL;
  return asFlags(new CliError(code, error.message, error.field ?? null), FLAG_OF);
}

/**
 * A run the operator stopped (Ctrl-C, SIGTERM) is not a failure of the tool: reported as CANCELLED with the step
 * it stopped at and the checkpoints already written (to --resume from a -state folder), exit 130 (143 for SIGTERM).
 */
function reportCancelled(o: TrainOptions, error: TrainingError, signal: StopSignal, checkpoints: string[]): void {
  const message = `${error.message} (${signalName(signal)})`;
  if (o.json) printJson({ error: { code: 'CANCELLED', message, field: null }, checkpoints: checkpoints.map((c) => path.resolve(c)) });
  else console.error(`\natelier: CANCELLED: ${message}${checkpoints.length ? `; last checkpoint ${checkpoints.at(-1)}` : ''}`);
  process.exitCode = SIGNAL_EXIT[signal];
}

async function train(o: TrainOptions): Promise<void> {
  const controller = new AbortController();
  let signal: StopSignal | null = null;
  const stopOn = (name: StopSignal) => () => { signal ??= name; controller.abort(); };
  const onInt = stopOn('SIGINT');
  const onTerm = stopOn('SIGTERM');
  process.once('SIGINT', onInt).once('SIGTERM', onTerm);
  const checkpoints: string[] = [];
  try {
    const spec = await specOf(o);
    // Loaded here, not at the top: tfjs and onnxruntime are not for every `atelier` command.
    const { LocalTrainer } = await import('../../gpu-worker/training/local-trainer.js');
    const result = await new LocalTrainer().train(spec, { ...progressLine(spec), ...outputFiles(o, checkpoints) }, controller.signal);
    const file = path.join(o.output_dir, `${o.output_name}.safetensors`);
    if (!o.json) console.log(`\nsaving checkpoint: ${file}`);
    await mkdir(o.output_dir, { recursive: true });
    await writeFile(file, result.lora);
    if (o.json) {
      printJson({ lora: path.resolve(file), checkpoints: checkpoints.map((c) => path.resolve(c)), initialLoss: result.initialLoss, finalLoss: result.finalLoss, datasetHash: result.datasetHash });
      return;
    }
    console.log(`initial loss ${result.initialLoss.toFixed(4)}, final loss ${result.finalLoss.toFixed(4)}, dataset ${result.datasetHash}`);
    console.log('model saved.');
  } catch (error) {
    if (signal && error instanceof TrainingError && error.code === 'CANCELLED') return reportCancelled(o, error, signal, checkpoints);
    throw cliErrorOf(error);
  } finally {
    process.off('SIGINT', onInt).off('SIGTERM', onTerm);
  }
}

export function trainCommand(program: Command): void {
  program.command('train').description('train a LoRA for the bundled tiny model here, kohya_ss train_network.py style (docs/training.md)')
    .requiredOption('--pretrained_model_name_or_path <dir>', 'the base model folder (diffusers ONNX layout)')
    .requiredOption('--train_data_dir <dir>', 'dataset folder: <repeats>_<concept>/*.png|jpg|webp with same-name .txt captions')
    .requiredOption('--output_dir <dir>', 'where the LoRA and checkpoints are written')
    .option('--output_name <name>', 'file name of the LoRA, without .safetensors', 'last')
    .option('--network_module <module>', 'only networks.lora', 'networks.lora')
    .option('--network_dim <rank>', 'LoRA rank', integer, 4)
    .option('--network_alpha <alpha>', 'LoRA alpha (the update is scaled by alpha / rank)', number, 4)
    .option('--learning_rate <lr>', 'Adam learning rate', number, 0.03)
    .option('--max_train_steps <n>', 'optimizer steps', integer, 200)
    .option('--train_batch_size <n>', 'images per step', integer, 4)
    .option('--resolution <size>', 'training size in pixels (square)', resolution, 64)
    .option('--seed <n>', 'seed of every random draw', integer, 0)
    .option('--save_every_n_steps <n>', 'write <output_name>-stepNNNNNNNN.safetensors every n steps (0: never)', integer, 0)
    .option('--save_state', 'also write <output_name>-stepNNNNNNNN-state/ (LoRA + optimizer) for --resume')
    .option('--resume <state_dir>', 'continue from a state folder written with --save_state')
    .option('--sample_prompts <file>', 'prompts (one a line) rendered into <output_dir>/sample/ at each save point')
    .option('--min_snr_gamma <gamma>', 'min-SNR-gamma loss weighting', number)
    .option('--min_timestep <t>', 'lowest training timestep drawn', integer)
    .option('--save_model_as <format>', 'only safetensors', 'safetensors')
    .option('--caption_extension <ext>', 'accepted for compatibility: captions are read from .txt, then .caption')
    .action(async (_options, command: Command) => train(command.optsWithGlobals<TrainOptions>()));
}
