import path from 'node:path';
import { writeTinyModel } from '../src/gpu-worker/onnx/tiny-model/write';

/** Writes the tiny Atelier model into `dir` (see src/gpu-worker/onnx/tiny-model/write.ts). */
export const buildTinyModel = writeTinyModel;

if (require.main === module) {
  const dir = process.argv[2] ?? path.join(process.env.ATELIER_DATA_DIR ?? './data', 'models', 'atelier-tiny');
  buildTinyModel(dir)
    .then(() => console.log(`tiny model written to ${path.resolve(dir)}`))
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
