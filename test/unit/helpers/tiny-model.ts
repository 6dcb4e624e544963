import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildTinyModel } from '../../../scripts/build-model';

/** Builds the tiny model into a fresh temp dir; returns the dir and a cleanup function. */
export async function buildTinyModelInTemp(): Promise<{ root: string; modelDir: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'atelier-model-'));
  const modelDir = path.join(root, 'atelier-tiny');
  await buildTinyModel(modelDir);
  return { root, modelDir, cleanup: () => rm(root, { recursive: true, force: true }) };
}
