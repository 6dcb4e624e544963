import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildTinyModelFiles } from './index';

/**
 * Writes the tiny Atelier model (diffusers ONNX layout, deterministic weights,
 * well under 1 MB) into `dir`. Running it twice gives identical files.
 */
export async function writeTinyModel(dir: string): Promise<void> {
  for (const [rel, bytes] of buildTinyModelFiles()) {
    const file = path.join(dir, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, bytes);
  }
}
