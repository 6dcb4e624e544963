import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '../pipeline/errors';
import { hashModelDir, readModelIndex } from '../pipeline/model-files';

/** A model found in the models folder. */
export interface ModelInfo {
  /** Folder name; what jobs refer to. */
  name: string;
  dir: string;
  files: Array<{ path: string; sha256: string; bytes: number }>;
  /** sha256 of the sorted per-file sha256s (hex). */
  sha256: string;
  bytes: number;
  description: string;
}

/**
 * The models folder: every sub-directory in the diffusers ONNX layout
 * (model_index.json plus text_encoder/unet/vae_decoder model.onnx) is a model.
 * Hashes are cached by file size and mtime, so rescans are cheap.
 */
export class ModelRegistry {
  private models = new Map<string, ModelInfo>();

  constructor(readonly modelsDir: string) {}

  /** Rescans the folder; directories that are not valid models are skipped. */
  async scan(): Promise<ModelInfo[]> {
    let entries: Dirent[];
    try {
      entries = await readdir(this.modelsDir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') entries = [];
      else throw err;
    }
    const found = new Map<string, ModelInfo>();
    for (const e of entries.filter((d) => d.isDirectory()).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const info = await this.inspect(e.name);
      if (info) found.set(info.name, info);
    }
    this.models = found;
    return [...found.values()];
  }

  /** The model called `name` from the last scan. */
  get(name: string): ModelInfo | undefined {
    return this.models.get(name);
  }

  /** Models from the last scan. */
  list(): ModelInfo[] {
    return [...this.models.values()];
  }

  private async inspect(name: string): Promise<ModelInfo | undefined> {
    const dir = path.join(this.modelsDir, name);
    let index;
    try {
      index = await readModelIndex(dir);
    } catch (err) {
      if (err instanceof PipelineError) return undefined;
      throw err;
    }
    const hash = await hashModelDir(dir);
    const description = index.atelier?.description ?? `${index._class_name ?? 'diffusers'} model`;
    return { name, dir, files: hash.files, sha256: hash.sha256, bytes: hash.bytes, description };
  }
}
