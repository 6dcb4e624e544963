import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/*
 * The API role never loads onnxruntime: the worker's modules are loaded only
 * when a worker starts (src/app.ts, startWorkerRole), and nothing else reaches
 * the inference libraries that open ONNX sessions (docs/architecture.md).
 */
describe('an API-only process', () => {
  it('loads the composition root without onnxruntime-node', () => {
    const app = path.resolve(__dirname, '../../dist/src/app.js');
    const probe = `require(${JSON.stringify(app)}); process.stdout.write(String(Object.keys(require.cache).some((f) => f.includes('onnxruntime-node'))))`;
    const result = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe('false');
  });
});
