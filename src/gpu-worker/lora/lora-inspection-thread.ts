import { parentPort, workerData } from 'node:worker_threads';
import { PipelineError } from '../pipeline/errors';
import { inspectLora, type InspectionReply } from './lora-inspection';

/**
 * The thread inspectLoraOffThread starts: inspects the bytes it was lent and
 * answers once, moving them back (see lora-inspection.ts).
 */
function answer(bytes: Uint8Array): InspectionReply {
  try {
    return { ok: inspectLora(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)), bytes };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { failed: { message, code: error instanceof PipelineError ? error.code : undefined } };
  }
}

const { bytes } = workerData as { bytes: Uint8Array };
const reply = answer(bytes);
parentPort?.postMessage(reply, 'ok' in reply ? [bytes.buffer as ArrayBuffer] : []);
