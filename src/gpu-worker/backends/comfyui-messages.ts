import { BackendError } from './backend-error';

/**
 * ComfyUI's WebSocket messages for one prompt, turned into what a job needs
 * (docs/backends.md, "ComfyUI protocol"). Pure, so the message shapes are
 * unit-tested without a server. Shapes follow ComfyUI's server.py and
 * execution.py: JSON text frames `{ type, data }` with `data.prompt_id`, and
 * binary frames whose first big-endian uint32 is the event type (1: a preview
 * image whose next uint32 is its format, 1 JPEG / 2 PNG; 4: a preview with a
 * uint32 length and JSON metadata first).
 */

export type TrackerEvent =
  | { kind: 'started' }
  | { kind: 'images'; images: ComfyImage[] }
  /** A step of the node named (`node`, when ComfyUI names it: the sampler running). */
  | { kind: 'step'; step: number; totalSteps: number; node?: string; preview?: Buffer }
  | { kind: 'done' }
  | { kind: 'failed'; error: BackendError }
  | { kind: 'interrupted' };

/** An image a node saved, as `executed` and `/history` list it (fetched with `/view`). */
export interface ComfyImage { filename: string; subfolder?: string; type?: string }

/** A JSON text frame of ComfyUI's socket. */
export interface ComfyMessage {
  type?: string;
  data?: {
    prompt_id?: string; node?: string | null; value?: number; max?: number; output?: { images?: ComfyImage[] };
    exception_message?: string; exception_type?: string; node_type?: string; node_id?: string;
  };
}

/** The prompt a message is about, or null (status and other messages that name none). */
export function promptIdOf(message: ComfyMessage): string | null {
  const id = message.data?.prompt_id;
  return typeof id === 'string' ? id : null;
}

const FINAL = new Set(['execution_success', 'execution_error', 'execution_interrupted']);

/**
 * The prompt ComfyUI is executing after `message`. ComfyUI runs one prompt at
 * a time and names it in every execution message, but its binary preview
 * frames name no prompt: they belong to the one running now.
 */
export function runningPromptOf(message: ComfyMessage, running: string | null): string | null {
  const id = promptIdOf(message);
  if (id === null) return running;
  const ended = FINAL.has(message.type ?? '') || (message.type === 'executing' && message.data?.node === null);
  if (ended) return running === id ? null : running;
  return id;
}

const PREVIEW_IMAGE = 1;
const PREVIEW_IMAGE_WITH_METADATA = 4;

/**
 * Follows one prompt on a socket that other prompts' messages may share. A
 * progress message is held until the preview frame that ComfyUI sends right
 * after it (or the next message) so one step gives one PROGRESS event.
 */
export class PromptTracker {
  private pending: { step: number; totalSteps: number; node?: string } | null = null;
  private runningNow = false;

  constructor(private readonly promptId: string) {}

  /** True once ComfyUI started executing this prompt (cancel interrupts rather than deletes it). */
  get running(): boolean {
    return this.runningNow;
  }

  /** Events for one text frame. */
  text(raw: string): TrackerEvent[] {
    let message: ComfyMessage;
    try {
      message = JSON.parse(raw) as ComfyMessage;
    } catch {
      return [];
    }
    return this.message(message);
  }

  /** Events for one parsed text message. */
  message(message: ComfyMessage): TrackerEvent[] {
    const data = message.data ?? {};
    if (data.prompt_id !== this.promptId) return [];
    const events = this.flush();
    switch (message.type) {
      case 'execution_start':
        this.runningNow = true;
        events.push({ kind: 'started' });
        break;
      case 'executing':
        this.runningNow = true;
        // `node: null` is how ComfyUI has always said "this prompt is finished".
        if (data.node === null) events.push({ kind: 'done' });
        break;
      case 'progress':
        if (typeof data.value === 'number' && typeof data.max === 'number' && data.max > 0) {
          this.pending = { step: data.value, totalSteps: data.max, ...(typeof data.node === 'string' ? { node: data.node } : {}) };
        }
        break;
      case 'executed':
        // An output node's images, known before the prompt ends: their download can start at once.
        if (data.output?.images?.length) events.push({ kind: 'images', images: data.output.images });
        break;
      case 'execution_success':
        events.push({ kind: 'done' });
        break;
      case 'execution_error':
        events.push({ kind: 'failed', error: new BackendError('failed', 'execution_error', `ComfyUI failed in node ${data.node_id ?? '?'} (${data.node_type ?? 'unknown'}): ${data.exception_type ? `${data.exception_type}: ` : ''}${data.exception_message ?? 'no message'}`) });
        break;
      case 'execution_interrupted':
        events.push({ kind: 'interrupted' });
        break;
      default:
        break;
    }
    return events;
  }

  /** Events for one binary frame: a preview belongs to the step just reported. */
  binary(frame: Buffer): TrackerEvent[] {
    const preview = previewOf(frame);
    if (!preview || !this.pending) return [];
    const step = { kind: 'step' as const, ...this.pending, preview };
    this.pending = null;
    return [step];
  }

  /** The held step, if any (before any other message and when the run ends). */
  flush(): TrackerEvent[] {
    if (!this.pending) return [];
    const step = { kind: 'step' as const, ...this.pending };
    this.pending = null;
    return [step];
  }
}

/** The image bytes of a preview frame, or null for other binary events. */
export function previewOf(frame: Buffer): Buffer | null {
  if (frame.length < 8) return null;
  const event = frame.readUInt32BE(0);
  if (event === PREVIEW_IMAGE) return frame.subarray(8);
  if (event === PREVIEW_IMAGE_WITH_METADATA) {
    const metadataLength = frame.readUInt32BE(4);
    return frame.length > 8 + metadataLength ? frame.subarray(8 + metadataLength) : null;
  }
  return null;
}

/** ComfyUI's 400 answer to POST /prompt: `{ error: { message, details }, node_errors: { id: { errors: [...], class_type } } }`. */
export interface PromptRejection {
  error?: { type?: string; message?: string; details?: string } | string;
  node_errors?: Record<string, { class_type?: string; errors?: { message?: string; details?: string }[] }>;
}

/** One readable line for a rejected prompt, naming each node at fault. */
export function describeRejection(body: PromptRejection): string {
  const head = typeof body.error === 'string' ? body.error : [body.error?.message, body.error?.details].filter(Boolean).join(': ');
  const nodes = Object.entries(body.node_errors ?? {}).map(([id, node]) =>
    `node ${id} (${node.class_type ?? '?'}): ${(node.errors ?? []).map((e) => [e.message, e.details].filter(Boolean).join(': ')).join('; ')}`);
  return ['ComfyUI rejected the workflow', head, ...nodes].filter(Boolean).join(' — ');
}
