import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildTinyModelFiles } from '../src/gpu-worker/onnx/tiny-model';

/**
 * Writes the tiny Atelier model (diffusers ONNX layout, deterministic weights,
 * well under 1 MB) into `dir`. Running it twice gives identical files.
 */
export async function buildTinyModel(dir: string): Promise<void> {
  for (const [rel, bytes] of buildTinyModelFiles()) {
    const file = path.join(dir, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, bytes);
  }
}

if (require.main === module) {
  const dir = process.argv[2] ?? path.join(process.env.ATELIER_DATA_DIR ?? './data', 'models', 'atelier-tiny');
  buildTinyModel(dir)
    .then(() => console.log(`tiny model written to ${path.resolve(dir)}`))
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
