import { readFile, stat } from 'node:fs/promises';
import { PipelineError } from '../pipeline/errors';
import { parseSafetensors, SafetensorsError, toFloat32, type SafetensorsEntry } from './safetensors';

/**
 * Reading LoRA files: kohya (`lora_unet_<layer>.lora_up.weight` /
 * `.lora_down.weight` / `.alpha`) and PEFT (`<layer>.lora_B.weight` /
 * `.lora_A.weight`) naming, linear ([out, r] / [r, in]) or 1x1-conv
 * ([out, r, 1, 1] / [r, in, 1, 1]) shapes, F32/F16/BF16 data.
 */

/** One layer's low-rank update: delta = (alpha / rank) · up · down. */
export interface LoraLayerDelta { layer: string; up: Float32Array; down: Float32Array; rank: number; outFeatures: number; inFeatures: number; alpha: number }

/** A validated LoRA file. */
export interface LoraFile { path: string; layers: Map<string, LoraLayerDelta>; metadata: Record<string, string> }

const KEY_PATTERN = /^(.+?)\.(lora_up|lora_down|lora_B|lora_A)\.weight$/;
const PREFIXES = ['base_model.model.', 'lora_unet_', 'unet.'];

/** Canonical layer key: known prefixes stripped, dots as underscores (kohya flattens names this way). */
export function layerKey(name: string): string {
  let key = name;
  for (const p of PREFIXES) if (key.startsWith(p)) key = key.slice(p.length);
  return key.replace(/\./g, '_');
}

function invalid(path: string, message: string): PipelineError {
  return new PipelineError('LORA_INVALID', `LoRA ${path}: ${message}`);
}

/** Splits [d0, d1, 1, 1] or [d0, d1] into its two dimensions; anything else is not a 1x1 layer. */
function matrixDims(path: string, name: string, entry: SafetensorsEntry): [number, number] {
  const [a, b, ...rest] = entry.shape;
  if (entry.shape.length < 2 || !rest.every((d) => d === 1)) {
    throw new PipelineError('LORA_MISMATCH', `LoRA ${path}: ${name} has shape [${entry.shape}]; only linear and 1x1 layers can be adapted`);
  }
  if (a === 0 || b === 0) throw invalid(path, `${name} has an empty shape`);
  return [a, b];
}

function floats(path: string, name: string, entry: SafetensorsEntry): Float32Array {
  let data: Float32Array;
  try {
    data = toFloat32(entry);
  } catch (err) {
    throw invalid(path, `${name}: ${(err as Error).message}`);
  }
  if (!data.every(Number.isFinite)) throw invalid(path, `${name} holds non-finite values`);
  return data;
}

function groupTensors(path: string, tensors: Map<string, SafetensorsEntry>): Map<string, Record<string, [string, SafetensorsEntry]>> {
  const groups = new Map<string, Record<string, [string, SafetensorsEntry]>>();
  const group = (layer: string): Record<string, [string, SafetensorsEntry]> => {
    const key = layerKey(layer);
    if (!groups.has(key)) groups.set(key, {});
    return groups.get(key) as Record<string, [string, SafetensorsEntry]>;
  };
  for (const [name, entry] of tensors) {
    const m = KEY_PATTERN.exec(name);
    if (m) group(m[1])[m[2] === 'lora_up' || m[2] === 'lora_B' ? 'up' : 'down'] = [name, entry];
    else if (name.endsWith('.alpha')) group(name.slice(0, -'.alpha'.length)).alpha = [name, entry];
  }
  if (groups.size === 0) throw invalid(path, 'no LoRA tensors (lora_up/lora_down or lora_A/lora_B) found');
  return groups;
}

function layerDelta(path: string, layer: string, parts: Record<string, [string, SafetensorsEntry]>): LoraLayerDelta {
  if (!parts.up || !parts.down) throw invalid(path, `layer ${layer} lacks its ${parts.up ? 'down' : 'up'} matrix`);
  const [outFeatures, rank] = matrixDims(path, parts.up[0], parts.up[1]);
  const [downRank, inFeatures] = matrixDims(path, parts.down[0], parts.down[1]);
  if (rank !== downRank) throw invalid(path, `layer ${layer}: up rank ${rank} differs from down rank ${downRank}`);
  let alpha = rank;
  if (parts.alpha) {
    const values = floats(path, parts.alpha[0], parts.alpha[1]);
    if (values.length !== 1) throw invalid(path, `${parts.alpha[0]} must be a scalar`);
    alpha = values[0];
  }
  const up = floats(path, parts.up[0], parts.up[1]);
  const down = floats(path, parts.down[0], parts.down[1]);
  return { layer, up, down, rank, outFeatures, inFeatures, alpha };
}

/** Parses and validates a LoRA from bytes. Throws PipelineError LORA_INVALID / LORA_MISMATCH. */
export function parseLora(path: string, bytes: Buffer): LoraFile {
  let parsed;
  try {
    parsed = parseSafetensors(bytes);
  } catch (err) {
    if (err instanceof SafetensorsError) throw invalid(path, err.message);
    throw err;
  }
  const layers = new Map<string, LoraLayerDelta>();
  for (const [layer, parts] of groupTensors(path, parsed.tensors)) layers.set(layer, layerDelta(path, layer, parts));
  return { path, layers, metadata: parsed.metadata };
}

/**
 * Loads LoRA files and keeps the parsed result while the file's size and
 * mtime are unchanged, so re-applying a LoRA costs no I/O.
 */
export class LoraLoader {
  private readonly cache = new Map<string, { stamp: string; file: LoraFile }>();

  constructor(private readonly maxEntries = 32) {}

  async load(path: string): Promise<LoraFile> {
    let stamp: string;
    try {
      const s = await stat(path);
      if (!s.isFile()) throw new Error('not a file');
      stamp = `${s.size}:${s.mtimeMs}`;
    } catch {
      throw new PipelineError('LORA_NOT_FOUND', `LoRA file ${path} does not exist`);
    }
    const hit = this.cache.get(path);
    if (hit && hit.stamp === stamp) return hit.file;
    const file = parseLora(path, await readFile(path));
    this.cache.delete(path);
    this.cache.set(path, { stamp, file });
    if (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    return file;
  }
}
