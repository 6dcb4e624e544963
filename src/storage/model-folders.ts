import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { assertSafeKey, type ArtifactStore } from './artifact-store';
import { copyStoredFile } from './stored-files';

/**
 * ONNX model folders in the artifact store, so workers on other machines need
 * no shared volume (docs/operations.md, "Models in the artifact store"). A
 * model's files live under `models/<name>/<path>`; `atelier models push`
 * uploads them, and a worker whose models folder lacks the model fetches
 * every file, checks its SHA-256 against the model row's `files`, and keeps
 * the folder, so the next job loads it from disk.
 */

/** One file of a model folder as the model row records it. */
export interface ModelFolderFile { path: string; sha256: string; bytes: number }
/** What the worker needs of a model row to find or fetch its folder. */
export interface ModelFolderSpec { name: string; files: ModelFolderFile[] }

/** Why a model folder could not be had: not in the store, or bytes that do not match the row. */
export class ModelFetchError extends Error {
  constructor(readonly kind: 'missing' | 'checksum', message: string) {
    super(message);
    this.name = 'ModelFetchError';
  }
}

/**
 * The names `atelier models push` accepts: one safe store key segment (letters, digits, ".", "_" or "-"),
 * so `models/<name>/…` is a valid key. A model named otherwise (registerModel also allows spaces) was never
 * pushed, and its folder is never looked for in the store.
 */
const PUSHABLE_MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Whether `name` is one a push could have stored a folder under. */
export const isPushableModelName = (name: string): boolean => PUSHABLE_MODEL_NAME.test(name);

/** The store key of one file of a model. */
export function modelFileKey(model: string, file: string): string {
  return assertSafeKey(`models/${model}/${file}`);
}

const INDEX = 'model_index.json';

/**
 * Uploads a model folder, each file checked against its SHA-256 by stores that
 * verify payloads. model_index.json goes last, so a folder whose index is in
 * the store is complete.
 */
export async function pushModelFolder(store: ArtifactStore, dir: string, model: ModelFolderSpec): Promise<void> {
  const ordered = [...model.files.filter((f) => f.path !== INDEX), ...model.files.filter((f) => f.path === INDEX)];
  for (const file of ordered) {
    await store.putFile(modelFileKey(model.name, file.path), { path: path.join(dir, file.path), bytes: file.bytes, sha256: file.sha256, contentType: 'application/octet-stream' });
  }
}

/**
 * Whether the store holds a complete model folder called `name`. False, without asking the store, for a
 * name no push could have produced (`My Model`): it has no key there.
 */
export async function isModelInStore(store: ArtifactStore, name: string): Promise<boolean> {
  if (!isPushableModelName(name)) return false;
  return store.exists(modelFileKey(name, INDEX));
}

/** A worker's models folder, filled from the artifact store on demand. */
export class ModelFolders {
  /** Fetches in flight, so two jobs needing the same model fetch it once. */
  private readonly pending = new Map<string, Promise<string>>();

  constructor(private readonly store: ArtifactStore, private readonly modelsDir: string) {}

  /**
   * The model's folder: `<models dir>/<name>` when it is there (the folder scan
   * hashed it), else fetched from the store into that place. Throws
   * ModelFetchError when the store lacks a file or a file's SHA-256 differs
   * from the row; nothing is left behind then.
   */
  async folderOf(model: ModelFolderSpec): Promise<string> {
    const dir = this.pathOf(model);
    if (existsSync(path.join(dir, INDEX))) return dir;
    let fetching = this.pending.get(dir);
    if (!fetching) {
      fetching = this.fetch(model, dir).finally(() => this.pending.delete(dir));
      this.pending.set(dir, fetching);
    }
    return fetching;
  }

  /** Where the model's folder is (or would be, once fetched) on this machine. */
  pathOf(model: Pick<ModelFolderSpec, 'name'>): string {
    return path.join(this.modelsDir, model.name);
  }

  private async fetch(model: ModelFolderSpec, dir: string): Promise<string> {
    if (!model.files.some((f) => f.path === INDEX)) {
      throw new ModelFetchError('missing', `Model ${model.name} is not in this worker's models folder and its row lists no files to fetch: push it with \`atelier models push <dir>\``);
    }
    const temp = `${dir}.fetching-${process.pid}-${Date.now()}`;
    try {
      for (const file of model.files) await this.fetchFile(model.name, file, path.join(temp, file.path));
      await rename(temp, dir).catch((error: NodeJS.ErrnoException) => {
        // Another process on this machine finished the same model first: its copy is as good.
        if (!existsSync(path.join(dir, INDEX))) throw error;
      });
      return dir;
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }

  /** One file of the folder, streamed from the store and hashed on the way (storage/stored-files.ts). */
  private async fetchFile(model: string, file: ModelFolderFile, target: string): Promise<void> {
    await mkdir(path.dirname(target), { recursive: true });
    const facts = await copyStoredFile(this.store, modelFileKey(model, file.path), target);
    if (!facts) throw missing(model, file);
    if (facts.sha256 !== file.sha256) {
      throw new ModelFetchError('checksum', `Model ${model}: ${file.path} from the artifact store has SHA-256 ${facts.sha256}, but the model row records ${file.sha256}; refusing to use it (push the folder again)`);
    }
  }

}

function missing(model: string, file: ModelFolderFile): ModelFetchError {
  return new ModelFetchError('missing', `Model ${model}: ${file.path} is missing from the artifact store (key ${modelFileKey(model, file.path)})`);
}

