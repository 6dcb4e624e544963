import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ErrorCode } from '../../kernel/errors';
import { asFlags, badCliInput, CliError, errnoReason } from '../cli-error';
import { connect, follow as followEvents, request, signInHint, socket, unreachable, type Connection } from '../client';
import { answerOf, RETRY_DEFAULTS, retryPolicy } from '../../../sdk/src/retries';
import { EXIT_JOB_FAILED, SIGNAL_EXIT, signalName, type StopSignal } from '../exit-codes';
import { integer, type GlobalOptions } from '../options';
import { outputOf, printJson } from '../output';
import { progressView, type ProgressEvent, type ProgressView } from '../progress';
import { folderObstacle } from '../writable-folder';

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

const JOB_FIELDS = `id kind status seed steps totalSteps count width height queuePosition videoFrames videoFps error { code message }
  images { id index seed width height sha256 url } video { url bytes mimeType durationSeconds fps frames width height }`;
const CREATE = `mutation CliGenerate($input: GenerationInput!, $idempotencyKey: String) { createGeneration(input: $input, idempotencyKey: $idempotencyKey) { ${JOB_FIELDS} } }`;
const JOB = `query CliJob($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`;
const CANCEL = 'mutation CliCancel($id: ID!) { cancelJob(id: $id) { id status } }';
const FOLLOW = `subscription CliFollow($jobId: ID!, $after: String) {
  jobUpdated(jobId: $jobId, after: $after) { eventId type step totalSteps etaSeconds queuePosition requeueReason error { code message } }
}`;

interface Image { id: string; index: number; seed: number; width: number; height: number; sha256: string; url: string }
interface Video { url: string; bytes: number; mimeType: string; durationSeconds: number; fps: number; frames: number; width: number; height: number }
interface Job {
  id: string; kind: 'IMAGE' | 'VIDEO'; status: string; seed: number; totalSteps: number; count: number; queuePosition: number | null;
  videoFrames: number | null; videoFps: number | null; error: { code: string; message: string } | null; images: Image[]; video: Video | null;
}

const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/** The GraphQL input's fields as the flags that set them, so an error names the flag to fix. */
const FLAG_OF: Record<string, string> = { presetId: 'preset', sessionId: 'session' };

/** A job that ended without images: the request was accepted, the work did not finish. */
export class JobFailedError extends Error {
  readonly exitCode: number = EXIT_JOB_FAILED;
  /** The code of `--json`'s error: JOB_FAILED or JOB_CANCELLED (the job's own error is in `job.error`). */
  readonly code: string;
  constructor(readonly job: Pick<Job, 'id' | 'status' | 'error'>, message?: string) {
    super(message ?? `job ${job.id} ${job.status.toLowerCase()}${job.error ? `: ${job.error.code}: ${job.error.message}` : ''}`);
    this.code = `JOB_${job.status}`;
  }
}

/**
 * `generate` stopped by Ctrl-C (or SIGTERM): the job was cancelled (or had already ended); code CANCELLED, exit 130 (143).
 * `files`: when the job had ended before the signal, the files saved by then (whole ones only; none half-written).
 */
export class InterruptedError extends JobFailedError {
  override readonly exitCode: number;
  override readonly code = 'CANCELLED';
  constructor(job: Pick<Job, 'id' | 'status' | 'error'>, signal: StopSignal, what: string, readonly files?: string[]) {
    super(job, `${what} (${signalName(signal)})`);
    this.exitCode = SIGNAL_EXIT[signal];
  }
}

function inputOf(prompt: string, options: GenerateOptions): Record<string, unknown> {
  const input: Record<string, unknown> = {
    prompt, presetId: options.preset, steps: options.steps, seed: options.seed, count: options.count,
    sessionId: options.session, width: options.width, height: options.height,
  };
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
}

/** Follows `jobUpdated` until the final event (or `signal` aborts), feeding the progress view; resumed after a cut (`follow`). */
async function follow(conn: Connection, job: Job, onEvent: (event: ProgressEvent) => void, signal: AbortSignal): Promise<void> {
  const client = socket(conn);
  try {
    await followEvents<{ jobUpdated: ProgressEvent & { eventId: string } }>(client, FOLLOW, { jobId: job.id }, ({ jobUpdated }) => jobUpdated.eventId, ({ jobUpdated }) => {
      onEvent(jobUpdated);
      return FINAL.has(jobUpdated.type);
    }, signal);
  } catch (error) {
    throw signInHint(conn, error);
  } finally {
    await client.dispose();
  }
}

/**
 * Downloads one signed URL (made again like a query) into `file`, checked
 * against the recorded SHA-256 (images) or size (the clip, which records no
 * hash). `stop` aborts the download; once the bytes are in, the file is
 * written whole or not at all (nothing is awaited from there on, and it is
 * written under another name first, then renamed).
 */
async function download(
  conn: Connection, what: string, url: string, file: string, expected: { sha256: string } | { bytes: number }, stop: AbortSignal,
): Promise<void> {
  const bytes = await retryPolicy(RETRY_DEFAULTS, true).execute(async ({ signal }) => {
    const res = await fetch(new URL(url, conn.url), { signal }).catch((error: unknown) => {
      throw unreachable(conn.url, error);
    });
    if (res.ok) return Buffer.from(await res.arrayBuffer());
    const code = res.status === 404 ? ErrorCode.NOT_FOUND : res.status === 503 ? ErrorCode.SERVICE_UNAVAILABLE : ErrorCode.INTERNAL;
    throw new CliError(code, `downloading ${what} answered HTTP ${res.status}`, null, answerOf(res));
  }, stop);
  const intact = 'sha256' in expected ? createHash('sha256').update(bytes).digest('hex') === expected.sha256 : bytes.length === expected.bytes;
  if (!intact) throw new CliError(ErrorCode.INTERNAL, `${what} arrived damaged (${'sha256' in expected ? 'SHA-256' : 'size'} differs from the recorded one)`);
  try {
    mkdirSync(path.dirname(file), { recursive: true });
  } catch (error) {
    throw outRefused(path.dirname(file), error);
  }
  const partial = `${file}.${process.pid}.partial`;
  try {
    writeFileSync(partial, bytes);
    renameSync(partial, file);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
}

function outRefused(dir: string, error: unknown): CliError {
  const why = errnoReason((error as NodeJS.ErrnoException).code);
  return badCliInput('out', `cannot save files in ${path.resolve(dir)} (${why}): give --out a folder you can write to`);
}

/**
 * Checks, before anything is submitted, that --out is a writable folder or
 * can be made: the nearest existing folder on its path must be one. The
 * folder itself is made only when there is a file to save.
 */
function checkOut(dir: string): void {
  const obstacle = folderObstacle(dir);
  if (obstacle) throw badCliInput('out', `cannot save files in ${path.resolve(dir)} (${obstacle.at} is ${obstacle.why}): give --out a folder you can write to`);
}

const described = (job: Job): string => (job.kind === 'VIDEO'
  ? `a ${job.videoFrames ?? job.totalSteps}-frame clip${job.videoFps ? ` at ${job.videoFps} fps` : ''}`
  : `${job.count} image${job.count === 1 ? '' : 's'}`);

/**
 * Ctrl-C (or SIGTERM) while the command runs: the first aborts `signal`, which
 * stops what it is doing (following the job, which the caller then cancels
 * after restoring the terminal; or, once the job has ended, fetching and
 * saving its files); a second one ends the command at once, the terminal
 * restored first.
 */
function interruptions(restore: () => void): { signal: AbortSignal; received: () => StopSignal | null; off: () => void } {
  const stop = new AbortController();
  let received: StopSignal | null = null;
  const on = (name: StopSignal) => () => {
    if (received) {
      restore();
      process.exit(SIGNAL_EXIT[received]);
    }
    received = name;
    stop.abort();
  };
  const onInt = on('SIGINT');
  const onTerm = on('SIGTERM');
  process.on('SIGINT', onInt).on('SIGTERM', onTerm);
  return { signal: stop.signal, received: () => received, off: () => process.off('SIGINT', onInt).off('SIGTERM', onTerm) };
}

/** Cancels the job the user stopped following and says how it ended (cancelled, or finished before the cancel came). */
async function cancelStopped(conn: Connection, job: Job, signal: StopSignal): Promise<never> {
  let status: string;
  try {
    status = (await request<{ cancelJob: { status: string } }>(conn, CANCEL, { id: job.id })).cancelJob.status;
  } catch (error) {
    const reason = error instanceof CliError ? `${error.code}: ${error.message}` : String(error);
    throw new InterruptedError(job, signal, `stopped following job ${job.id}, which could not be cancelled (${reason}): \`atelier jobs\` shows how it ends`);
  }
  const what = status === 'CANCELLED' ? `job ${job.id} cancelled` : `stopped following job ${job.id}, which had already ended ${status}`;
  throw new InterruptedError({ ...job, status }, signal, what);
}

async function generate(prompt: string, options: GenerateOptions): Promise<void> {
  const output = outputOf(options);
  const conn = connect(options.url);
  checkOut(options.out);
  // A view not started yet has nothing to restore; once started, stop() shows the cursor and turns line wrap back on.
  let view: ProgressView | null = null;
  const stopView = () => {
    view?.stop();
    view = null;
  };
  const stopped = interruptions(stopView);
  // The type of the job's final event (COMPLETED, FAILED, CANCELLED), once it came.
  let finalType: string | null = null;
  try {
    // With a key of its own, a submission whose answer was lost is asked again safely: the retry gets the same job.
    const submit = { input: inputOf(prompt, options), idempotencyKey: randomUUID() };
    const submitted = (await request<{ createGeneration: Job }>(conn, CREATE, submit, true).catch((error: unknown) => {
      throw asFlags(error, FLAG_OF);
    })).createGeneration;
    if (!output.json) console.log(`job ${submitted.id} submitted (seed ${submitted.seed}, ${described(submitted)})`);
    if (!stopped.received()) {
      view = progressView(output, submitted.totalSteps, submitted.kind === 'VIDEO' ? 'frame' : 'step');
      view.update({ type: 'QUEUED', queuePosition: submitted.queuePosition });
      try {
        await follow(conn, submitted, (event) => {
          if (FINAL.has(event.type)) finalType = event.type;
          view?.update(event);
        }, stopped.signal);
      } finally {
        stopView();
      }
    }
    const signal = stopped.received();
    if (signal) return await cancelStopped(conn, submitted, signal);
    // The job has ended: a signal from here on stops the query, the downloads and the saving (there is nothing to cancel).
    let ended: Job = { ...submitted, status: finalType ?? submitted.status };
    const files: string[] = [];
    try {
      const job = (await request<{ job: Job | null }>(conn, JOB, { id: submitted.id }, true, stopped.signal)).job;
      if (!job) throw new CliError(ErrorCode.NOT_FOUND, `job ${submitted.id} not found`);
      ended = job;
      if (job.status !== 'COMPLETED') throw new JobFailedError(job);
      await save(conn, job, options.out, output.json, stopped.signal, files);
    } catch (error) {
      const late = stopped.received();
      if (late) throw stoppedAfterEnd(ended, late, files);
      throw error;
    }
  } finally {
    stopped.off();
  }
}

/**
 * A signal after the job's final event: the job had ended, so nothing was cancelled; says which of its
 * files were saved whole before the signal (none is left half-written).
 */
function stoppedAfterEnd(job: Job, signal: StopSignal, files: string[]): InterruptedError {
  const total = job.images.length + (job.video ? 1 : 0);
  const saved = !files.length ? (total ? 'stopped before saving its files' : 'stopped before saving anything')
    : `stopped with ${files.length} of ${total} files saved (${files.join(', ')})`;
  return new InterruptedError(job, signal, `job ${job.id} had already ended${FINAL.has(job.status) ? ` ${job.status}` : ''}, so nothing was cancelled; ${saved}`, files);
}

/**
 * Saves the PNGs (<job>-<i>.png) or the clip (<job>.mp4) into --out, made now, and prints what was saved.
 * `files` gets each file once it is saved whole; `stop` aborts the download in flight and stops before the next.
 */
async function save(conn: Connection, job: Job, out: string, json: boolean, stop: AbortSignal, files: string[]): Promise<void> {
  for (const image of job.images) {
    stop.throwIfAborted();
    const file = path.resolve(out, `${job.id}-${image.index}.png`);
    await download(conn, `image ${image.id}`, image.url, file, image, stop);
    files.push(file);
  }
  let video: (Video & { file: string }) | null = null;
  if (job.video) {
    stop.throwIfAborted();
    const file = path.resolve(out, `${job.id}.mp4`);
    await download(conn, `the clip of job ${job.id}`, job.video.url, file, job.video, stop);
    files.push(file);
    video = { ...job.video, file };
  }
  if (json) {
    printJson({
      job: { id: job.id, kind: job.kind, status: job.status, seed: job.seed },
      images: job.images.map((image, i) => ({ ...image, file: files[i] })), ...(video ? { video } : {}), files,
    });
  } else {
    for (const file of files) console.log(`saved ${file}`);
  }
}

export function generateCommand(program: Command): void {
  program.command('generate')
    .description('submit a generation, show its progress live and save the PNGs (or, for a VIDEO preset, the MP4)')
    .argument('<prompt>', 'what to generate')
    .option('--preset <id>', 'preset id (see the presets query)')
    .option('--steps <n>', 'denoising steps', integer)
    .option('--seed <n>', 'seed (chosen and printed when absent)', integer)
    .option('--count <n>', 'how many images', integer)
    .option('--session <id>', 'run the job in this session (its members watch it live)')
    .option('--width <px>', 'image width', integer)
    .option('--height <px>', 'image height', integer)
    .option('--out <dir>', 'folder for the PNGs or MP4 (made when there is something to save)', '.')
    .action(async (prompt: string, _options, command: Command) => generate(prompt, command.optsWithGlobals<GenerateOptions>()));
}
