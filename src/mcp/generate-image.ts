import { randomUUID } from 'node:crypto';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { ErrorCode } from '../kernel/errors';
import { FINAL_EVENT_TYPES, type EventType } from '../kernel/events';
import { resumable, resumes } from '../../sdk/src/resume';
import { AtelierApi, AtelierApiError } from './atelier-api';
import { CANCEL_JOB, CREATE_GENERATION, GET_JOB, JOB_UPDATED } from './operations';

/**
 * The generate_image arguments. Only shapes are checked here: the limits
 * (steps, sizes, tier caps) live in Atelier's one limits table, so a value
 * out of range comes back as the API's BAD_USER_INPUT with its field.
 */
export const generateImageInput = {
  prompt: z.string().describe('What to generate (1..2000 characters after trimming).'),
  steps: z.number().int().optional().describe('Denoising steps (default 20), capped by tier.'),
  seed: z.number().int().optional().describe('Seed; chosen and recorded when absent.'),
  width: z.number().int().optional().describe('Width in pixels, a multiple of 8 (default 512).'),
  height: z.number().int().optional().describe('Height in pixels, a multiple of 8 (default 512).'),
  presetId: z.string().optional().describe('Preset whose template and parameters apply. A VIDEO preset makes a video clip: the answer then has its poster image and the MP4\'s signed URL, and it counts against the daily video seconds.'),
  sessionId: z.string().optional().describe('Session the job appears in live.'),
};

type GenerateImageArgs = z.infer<z.ZodObject<typeof generateImageInput>>;
type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

interface JobEvent {
  eventId: string;
  type: string;
  step: number | null;
  totalSteps: number | null;
  queuePosition: number | null;
}

interface JobImage { id: string; index: number; seed: number; width: number; height: number; url: string }
interface JobVideo { url: string; posterUrl: string; mimeType: string; bytes: number; durationSeconds: number; fps: number; frames: number; width: number; height: number }
interface Job {
  id: string;
  kind: 'IMAGE' | 'VIDEO';
  status: string;
  seed: number;
  totalSteps: number;
  error: { code: string; message: string } | null;
  images: JobImage[];
  video: JobVideo | null;
}

/** Sends MCP progress notifications for a request that asked for them, never going backwards (the spec requires it). */
function progressReporter(extra: Extra, total: number, unit: string): (event: JobEvent) => Promise<void> {
  const progressToken = extra._meta?.progressToken;
  let last = -1;
  return async (event) => {
    if (progressToken === undefined) return;
    const progress = event.type === 'COMPLETED' ? total : event.step ?? 0;
    if (progress <= last) return;
    last = progress;
    const message = event.type === 'QUEUED' || event.type === 'POSITION'
      ? `queued (position ${event.queuePosition ?? 0})`
      : `${unit} ${progress}/${total}`;
    await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress, total, message } });
  };
}

/**
 * Follows jobUpdated until the job's final event (the subscription replays
 * what already happened). A dropped connection (the API restarting), and a
 * subscription the API ended with SERVICE_UNAVAILABLE (docs/operations.md,
 * "A subscription that cannot be caught up"), are resumed after the last
 * eventId seen, with the SDK's attempts and backoff (sdk/src/resume.ts);
 * only then does it fail.
 */
async function followJob(api: AtelierApi, job: Job, extra: Extra): Promise<void> {
  // A VIDEO job's steps are the clip's frames.
  const report = progressReporter(extra, job.totalSteps, job.kind === 'VIDEO' ? 'frame' : 'step');
  const open = async function* (after: string | null) {
    for await (const { jobUpdated } of api.subscribe<{ jobUpdated: JobEvent }>(JOB_UPDATED, { jobId: job.id, after })) yield jobUpdated;
  };
  const events = resumable(open, (event) => FINAL_EVENT_TYPES.has(event.type as EventType), (error) => error instanceof AtelierApiError && resumes(error));
  for await (const event of events) {
    await report(event);
    if (extra.signal.aborted) return;
  }
}

/** Cancels the job when the MCP client cancels the call, so an abandoned job neither renders nor counts. */
function cancelOnAbort(api: AtelierApi, job: Job, signal: AbortSignal): () => void {
  const cancel = () => void api.request(CANCEL_JOB, { id: job.id }, true).catch(() => undefined);
  if (signal.aborted) cancel();
  else signal.addEventListener('abort', cancel, { once: true });
  return () => signal.removeEventListener('abort', cancel);
}

/** The finished job's images as MCP image content, each followed by its signed URL. */
async function imageContent(api: AtelierApi, job: Job): Promise<CallToolResult['content']> {
  const content: CallToolResult['content'] = [];
  for (const image of job.images) {
    const png = await api.download(image.url);
    content.push({ type: 'image', data: png.toString('base64'), mimeType: 'image/png' });
    content.push({ type: 'text', text: image.url });
  }
  return content;
}

/**
 * A finished VIDEO job's clip: its poster (the first frame) as image content,
 * the MP4's signed URL as text, and a link to it (MCP has no video content).
 */
async function videoContent(api: AtelierApi, job: Job, video: JobVideo): Promise<CallToolResult['content']> {
  const poster = await api.download(video.posterUrl);
  return [
    { type: 'image', data: poster.toString('base64'), mimeType: 'image/png' },
    { type: 'text', text: video.url },
    {
      type: 'resource_link', uri: video.url, name: `${job.id}.mp4`, mimeType: video.mimeType,
      description: `${video.durationSeconds} s video clip, ${video.width}×${video.height} at ${video.fps} fps (poster: ${video.posterUrl})`,
    },
  ];
}

/**
 * generate_image: submit, follow to the end, return the PNGs. A VIDEO preset
 * makes a VIDEO job (README, "MCP server"): its answer is the clip, as
 * `video` in the summary, its poster and the MP4's URL.
 */
export async function generateImage(api: AtelierApi, args: GenerateImageArgs, extra: Extra): Promise<CallToolResult> {
  // With a key of its own, a submission whose answer was lost is asked again safely: the retry gets the same job.
  const { createGeneration } = await api.request<{ createGeneration: Job }>(CREATE_GENERATION, { input: args, idempotencyKey: randomUUID() }, true);
  const forget = cancelOnAbort(api, createGeneration, extra.signal);
  try {
    await followJob(api, createGeneration, extra);
  } finally {
    forget();
  }
  if (extra.signal.aborted) throw new AtelierApiError(`The call was cancelled; job ${createGeneration.id} was cancelled`, 'CANCELLED');
  const { job } = await api.request<{ job: Job | null }>(GET_JOB, { id: createGeneration.id });
  if (!job) throw new AtelierApiError(`Job ${createGeneration.id} is gone`, ErrorCode.NOT_FOUND);
  if (job.status === 'FAILED') throw new AtelierApiError(job.error?.message ?? 'The job failed', job.error?.code ?? 'INFERENCE_FAILED');
  if (job.status !== 'COMPLETED') throw new AtelierApiError(`The job ended ${job.status}`, job.status);
  const images = job.images.map(({ id, seed, width, height, url }) => ({ id, seed, width, height, url }));
  if (job.kind === 'VIDEO') {
    if (!job.video) throw new AtelierApiError(`Video job ${job.id} completed without its clip`, ErrorCode.INTERNAL);
    const summary = { jobId: job.id, kind: job.kind, seed: job.seed, images, video: job.video };
    return { content: [{ type: 'text', text: JSON.stringify(summary, null, 2) }, ...await videoContent(api, job, job.video)] };
  }
  const summary = { jobId: job.id, kind: job.kind, seed: job.seed, images };
  return { content: [{ type: 'text', text: JSON.stringify(summary, null, 2) }, ...await imageContent(api, job)] };
}
