import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { sha256 } from '../../kernel/hashing';
import { PipelineError, type PipelineErrorCode } from '../pipeline/errors';
import { parseLora, type LoraLayerDelta } from './lora-file';

/** What a registry needs of one adapted layer: its name and sizes, not its weights. */
export type LoraLayerShape = Pick<LoraLayerDelta, 'layer' | 'outFeatures' | 'inFeatures'>;

/** A validated LoRA file, summed up: its layers by canonical key, and its SHA-256. */
export interface LoraInspection {
  layers: Map<string, LoraLayerShape>;
  sha256: string;
}

/** What the inspection thread answers: plain data, and on success the bytes it was lent, moved back. */
export type InspectionReply =
  | { ok: LoraInspection; bytes: Uint8Array }
  | { failed: { message: string; code?: PipelineErrorCode } };

/**
 * Parses and validates a LoRA (every tensor decoded and checked finite) and
 * hashes it. Synchronous and CPU-bound: about a second for 64 MB, so the API
 * calls it through inspectLoraOffThread. Throws PipelineError LORA_INVALID / LORA_MISMATCH.
 */
export function inspectLora(bytes: Buffer): LoraInspection {
  const file = parseLora('upload', bytes);
  const layers = new Map<string, LoraLayerShape>();
  for (const [key, { layer, outFeatures, inFeatures }] of file.layers) layers.set(key, { layer, outFeatures, inFeatures });
  return { layers, sha256: sha256(bytes) };
}

const THREAD = 'lora-inspection-thread';

/*
 * Running from the TypeScript sources (the test runner), there is no .js to
 * start: the thread compiles the sources as it requires them, with the
 * typescript devDependency. The built service always has the compiled file.
 */
const FROM_SOURCES = `
const Module = require('node:module');
const { readFileSync } = require('node:fs');
const { workerData } = require('node:worker_threads');
const ts = Module.createRequire(workerData.entry)('typescript');
const options = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true };
Module._extensions['.ts'] = (module, file) => module._compile(ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: options, fileName: file }).outputText, file);
require(workerData.entry);`;

/** The bytes in an ArrayBuffer of their own, which can be moved to another thread without a copy. */
function movable(bytes: Uint8Array): Uint8Array {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  return whole ? bytes : new Uint8Array(bytes);
}

function startThread(bytes: Uint8Array): Worker {
  // Moved, not copied: copying 64 MB to the thread would itself hold the event loop for 100 ms or more.
  const moved = { workerData: { bytes }, transferList: [bytes.buffer as ArrayBuffer] };
  const compiled = path.join(__dirname, `${THREAD}.js`);
  if (existsSync(compiled)) return new Worker(compiled, moved);
  return new Worker(FROM_SOURCES, { ...moved, eval: true, workerData: { bytes, entry: path.join(__dirname, `${THREAD}.ts`) } });
}

/**
 * inspectLora on a thread of its own, so parsing a big file never blocks the
 * event loop that answers everyone else's requests. The bytes move to the
 * thread (`bytes` is left empty) and come back in the answer with the
 * summary; the weights stay there.
 */
export function inspectLoraOffThread(bytes: Uint8Array): Promise<{ inspection: LoraInspection; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const thread = startThread(movable(bytes));
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      outcome();
      void thread.terminate();
    };
    thread.once('message', (reply: InspectionReply) => settle(() => {
      if ('ok' in reply) return resolve({ inspection: reply.ok, bytes: Buffer.from(reply.bytes.buffer, reply.bytes.byteOffset, reply.bytes.byteLength) });
      const { message, code } = reply.failed;
      reject(code ? new PipelineError(code, message) : new Error(`LoRA inspection failed: ${message}`));
    }));
    thread.once('error', (error) => settle(() => reject(error)));
    thread.once('exit', (code) => settle(() => reject(new Error(`LoRA inspection thread exited with code ${code}`))));
  });
}
