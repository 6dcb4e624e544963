import path from 'node:path';
import { PipelineError } from '../gpu-worker/pipeline/errors';
import { hashModelDir, readModelIndex } from '../gpu-worker/pipeline/model-files';
import { badInput } from '../kernel/errors';
import { isSafeKey, type ArtifactStore } from '../storage/artifact-store';

/** What a registered ONNX model row records about its files. */
export interface OnnxFiles {
  sha256: string;
  bytes: number;
  files: Array<{ path: string; sha256: string; bytes: number }>;
}

/** Remote backends have no files of ours. */
export const NO_FILES: OnnxFiles = { sha256: '', bytes: 0, files: [] };

/**
 * Finds an ONNX model's folder, `<models dir>/<folder>` in the diffusers ONNX
 * layout, and hashes it as the folder scan does (docs/backends.md,
 * "Registering models"). Anything else is BAD_USER_INPUT on `path`: a folder
 * only in the artifact store gets its row from `atelier models push`, which
 * records the file list workers fetch and check, and a row without that list
 * could never run.
 */
export async function locateOnnxModel(folder: string, modelsDir: string, store: ArtifactStore): Promise<OnnxFiles> {
  const dir = path.join(modelsDir, folder);
  try {
    await readModelIndex(dir);
    return await hashModelDir(dir);
  } catch (err) {
    if (!(err instanceof PipelineError)) throw err;
  }
  // A folder name no stored key can have (a space, say) is in no store.
  const index = `${folder}/model_index.json`;
  if (isSafeKey(index) && (await store.exists(index))) {
    throw badInput('path', `${JSON.stringify(folder)} is only in the artifact store: push the model folder with \`atelier models push <dir> --name <name>\`, which registers it with the file list workers fetch`);
  }
  throw badInput('path', `No ONNX model at ${JSON.stringify(folder)}: not a folder of the models folder in the diffusers ONNX layout`);
}
