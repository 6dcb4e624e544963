import { createHash, randomUUID } from 'node:crypto';
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ErrorCode } from '../../kernel/errors';
import { badCliInput, CliError } from '../cli-error';
import { connect, request, socket, subscribe, unreachable, type Connection } from '../client';
import { answerOf, RETRY_DEFAULTS, retryPolicy } from '../../../sdk/src/retries';
import { EXIT_JOB_FAILED } from '../exit-codes';
import { integer, type GlobalOptions } from '../options';
import { outputOf, printJson } from '../output';
import { progressView, type ProgressEvent } from '../progress';

interface GenerateOptions extends GlobalOptions {
  preset?: string;
  steps?: number;
  seed?: number;
  count?: number;
  session?: string;
  width?: number;
  height?: number;
  out: string;
}

const JOB_FIELDS = 'id status seed steps totalSteps count width height queuePosition error { code message } images { id index seed width height sha256 url }';
const CREATE = `mutation CliGenerate($input: GenerationInput!, $idempotencyKey: String) { createGeneration(input: $input, idempotencyKey: $idempotencyKey) { ${JOB_FIELDS} } }`;
const JOB = `query CliJob($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`;
const FOLLOW = 'subscription CliFollow($jobId: ID!) { jobUpdated(jobId: $jobId) { type step totalSteps etaSeconds queuePosition error { code message } } }';

interface Image { id: string; index: number; seed: number; width: number; height: number; sha256: string; url: string }
interface Job {
  id: string; status: string; seed: number; totalSteps: number; count: number; queuePosition: number | null;
  error: { code: string; message: string } | null; images: Image[];
}

const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/** A job that ended without images: the request was accepted, the work did not finish. */
export class JobFailedError extends Error {
  readonly exitCode = EXIT_JOB_FAILED;
  /** The code of `--json`'s error: JOB_FAILED or JOB_CANCELLED (the job's own error is in `job.error`). */
  readonly code: string;
  constructor(readonly job: Job) {
    super(`job ${job.id} ${job.status.toLowerCase()}${job.error ? `: ${job.error.code}: ${job.error.message}` : ''}`);
    this.code = `JOB_${job.status}`;
  }
}

function inputOf(prompt: string, options: GenerateOptions): Record<string, unknown> {
  const input: Record<string, unknown> = {
    prompt, presetId: options.preset, steps: options.steps, seed: options.seed, count: options.count,
    sessionId: options.session, width: options.width, height: options.height,
  };
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
}

/** Follows `jobUpdated` until the final event, feeding the progress view. */
async function follow(conn: Connection, job: Job, onEvent: (event: ProgressEvent) => void): Promise<void> {
  const client = socket(conn);
  try {
    await subscribe<{ jobUpdated: ProgressEvent }>(client, FOLLOW, { jobId: job.id }, ({ jobUpdated }) => {
      onEvent(jobUpdated);
      return FINAL.has(jobUpdated.type);
    });
  } finally {
    await client.dispose();
  }
}

/** Downloads one signed image URL (made again like a query) and checks it against the recorded SHA-256. */
async function download(conn: Connection, image: Image, file: string): Promise<void> {
  const bytes = await retryPolicy(RETRY_DEFAULTS, true).execute(async () => {
    const res = await fetch(new URL(image.url, conn.url)).catch((error: unknown) => {
      throw unreachable(conn.url, error);
    });
    if (res.ok) return Buffer.from(await res.arrayBuffer());
    const code = res.status === 404 ? ErrorCode.NOT_FOUND : res.status === 503 ? ErrorCode.SERVICE_UNAVAILABLE : ErrorCode.INTERNAL;
    throw new CliError(code, `downloading image ${image.id} answered HTTP ${res.status}`, null, answerOf(res));
  });
  if (createHash('sha256').update(bytes).digest('hex') !== image.sha256) {
    throw new CliError(ErrorCode.INTERNAL, `image ${image.id} arrived damaged (SHA-256 differs from the recorded one)`);
  }
  writeFileSync(file, bytes);
}

/** Makes the --out folder (or checks it is a writable folder) before anything is submitted. */
function prepareOut(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' || code === 'ENOTDIR' ? 'a file is in the way' : code === 'EACCES' || code === 'EPERM' ? 'not writable' : code ?? String(error);
    throw badCliInput('out', `cannot save images in ${path.resolve(dir)} (${why}): give --out a folder you can write to`);
  }
}

async function generate(prompt: string, options: GenerateOptions): Promise<void> {
  const output = outputOf(options);
  const conn = connect(options.url);
  prepareOut(options.out);
  // With a key of its own, a submission whose answer was lost is asked again safely: the retry gets the same job.
  const submit = { input: inputOf(prompt, options), idempotencyKey: randomUUID() };
  const submitted = (await request<{ createGeneration: Job }>(conn, CREATE, submit, true)).createGeneration;
  if (!output.json) console.log(`job ${submitted.id} submitted (seed ${submitted.seed}, ${submitted.count} image${submitted.count === 1 ? '' : 's'})`);
  const view = progressView(output, submitted.totalSteps);
  view.update({ type: 'QUEUED', queuePosition: submitted.queuePosition });
  try {
    await follow(conn, submitted, (event) => view.update(event));
  } finally {
    view.stop();
  }
  const job = (await request<{ job: Job | null }>(conn, JOB, { id: submitted.id })).job;
  if (!job) throw new CliError(ErrorCode.NOT_FOUND, `job ${submitted.id} not found`);
  if (job.status !== 'COMPLETED') throw new JobFailedError(job);
  const files: string[] = [];
  for (const image of job.images) {
    const file = path.resolve(options.out, `${job.id}-${image.index}.png`);
    await download(conn, image, file);
    files.push(file);
  }
  if (output.json) printJson({ job: { id: job.id, status: job.status, seed: job.seed }, images: job.images.map((image, i) => ({ ...image, file: files[i] })), files });
  else for (const file of files) console.log(`saved ${file}`);
}

export function generateCommand(program: Command): void {
  program.command('generate')
    .description('submit a generation, show its progress live and save the PNGs')
    .argument('<prompt>', 'what to generate')
    .option('--preset <id>', 'preset id (see the presets query)')
    .option('--steps <n>', 'denoising steps', integer)
    .option('--seed <n>', 'seed (chosen and printed when absent)', integer)
    .option('--count <n>', 'how many images', integer)
    .option('--session <id>', 'run the job in this session (its members watch it live)')
    .option('--width <px>', 'image width', integer)
    .option('--height <px>', 'image height', integer)
    .option('--out <dir>', 'folder for the PNGs', '.')
    .action(async (prompt: string, _options, command: Command) => generate(prompt, command.optsWithGlobals<GenerateOptions>()));
}
