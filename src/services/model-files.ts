import path from 'node:path';
import { PipelineError } from '../gpu-worker/pipeline/errors';
import { hashModelDir, readModelIndex } from '../gpu-worker/pipeline/model-files';
import { badInput } from '../kernel/errors';
import type { ArtifactStore } from '../storage/artifact-store';

/** What a registered ONNX model row records about its files. */
export interface OnnxFiles {
  sha256: string;
  bytes: number;
  files: Array<{ path: string; sha256: string; bytes: number }>;
}

/** Remote backends have no files of ours. */
export const NO_FILES: OnnxFiles = { sha256: '', bytes: 0, files: [] };

/**
 * Finds an ONNX model's folder: `<models dir>/<folder>` in the diffusers ONNX
 * layout (hashed, like the folder scan does), else a prefix of the artifact
 * store holding `model_index.json`, which workers fetch (docs/backends.md,
 * "Registering models"). Neither: BAD_USER_INPUT on `path`.
 */
export async function locateOnnxModel(folder: string, modelsDir: string, store: ArtifactStore): Promise<OnnxFiles> {
  const dir = path.join(modelsDir, folder);
  try {
    await readModelIndex(dir);
    return await hashModelDir(dir);
  } catch (err) {
    if (!(err instanceof PipelineError)) throw err;
  }
  if (await store.exists(`${folder}/model_index.json`)) return NO_FILES;
  throw badInput('path', `No ONNX model at ${JSON.stringify(folder)}: neither a folder of the models folder in the diffusers ONNX layout nor an artifact store prefix with model_index.json`);
}
