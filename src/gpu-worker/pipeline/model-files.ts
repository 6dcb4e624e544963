import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { sha256OfFile } from '../../kernel/hashing';
import { PipelineError } from './errors';

/** A LoRA-adaptable UNet weight declared by the model (Atelier extension). */
export interface AdaptableLayerSpec { name: string; input: string; shape: number[] }

/** Atelier's own section of model_index.json; every field is optional. */
export interface AtelierModelMeta {
  name?: string; version?: number; description?: string;
  default_width?: number; default_height?: number; default_steps?: number; default_guidance_scale?: number;
  vae_scaling_factor?: number; latent_rgb_factors?: number[][]; latent_rgb_bias?: number[];
  lora_base?: string; lora_layers?: AdaptableLayerSpec[];
}

/** model_index.json as diffusers writes it, plus the optional `atelier` section. */
export interface ModelIndex { _class_name?: string; atelier?: AtelierModelMeta; [component: string]: unknown }

/** The ONNX components a diffusers ONNX model must have. */
export const COMPONENTS = ['text_encoder', 'unet', 'vae_decoder'] as const;

/** Reads and checks model_index.json and the three component model files. */
export async function readModelIndex(dir: string): Promise<ModelIndex> {
  let index: unknown;
  try {
    index = JSON.parse(await readFile(path.join(dir, 'model_index.json'), 'utf8'));
  } catch (err) {
    throw new PipelineError('MODEL_INVALID', `${dir}: cannot read model_index.json (${(err as Error).message})`);
  }
  if (typeof index !== 'object' || index === null || Array.isArray(index)) {
    throw new PipelineError('MODEL_INVALID', `${dir}: model_index.json is not an object`);
  }
  for (const c of COMPONENTS) {
    const ok = await stat(path.join(dir, c, 'model.onnx')).then((s) => s.isFile(), () => false);
    if (!ok) throw new PipelineError('MODEL_INVALID', `${dir}: missing ${c}/model.onnx`);
  }
  return index as ModelIndex;
}

/** Reads a JSON file, or returns `fallback` when it does not exist. */
export async function readJsonFile<T>(file: string, fallback: T): Promise<T> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw new PipelineError('MODEL_INVALID', `cannot read ${file}: ${(err as Error).message}`);
  }
}

/** A file of a model directory: path relative to it (POSIX separators) and size. */
export interface ModelFile { path: string; bytes: number }

/** Every regular file under `dir`, sorted by relative path. */
export async function listModelFiles(dir: string): Promise<ModelFile[]> {
  const out: ModelFile[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(path.join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(child);
      else if (e.isFile()) out.push({ path: child, bytes: (await stat(path.join(dir, child))).size });
    }
  };
  await walk('');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Bytes of the ONNX components (model files plus external weight files): the memory estimate. */
export async function componentBytes(dir: string): Promise<number> {
  const files = await listModelFiles(dir);
  return files.filter((f) => COMPONENTS.some((c) => f.path.startsWith(`${c}/`))).reduce((a, f) => a + f.bytes, 0);
}

const hashCache = new Map<string, { stamp: string; sha256: string }>();

/** sha256 of a file, streamed; remembered while its size and mtime stay the same. */
export async function sha256File(file: string): Promise<string> {
  const s = await stat(file);
  const stamp = `${s.size}:${s.mtimeMs}`;
  const hit = hashCache.get(file);
  if (hit && hit.stamp === stamp) return hit.sha256;
  const sha256 = await sha256OfFile(file);
  hashCache.set(file, { stamp, sha256 });
  return sha256;
}

/** Per-file hashes and the model hash: sha256 of the sorted file hashes, one per line. */
export interface ModelHash { files: Array<ModelFile & { sha256: string }>; sha256: string; bytes: number }

/** Hashes every file of a model directory. */
export async function hashModelDir(dir: string): Promise<ModelHash> {
  const files = [];
  for (const f of await listModelFiles(dir)) files.push({ ...f, sha256: await sha256File(path.join(dir, f.path)) });
  const sha256 = createHash('sha256').update(files.map((f) => f.sha256).sort().join('\n')).digest('hex');
  return { files, sha256, bytes: files.reduce((a, f) => a + f.bytes, 0) };
}
