import { parseArgs } from 'node:util';
import { defaultModelDir } from '../renderer';
import { ComfyUiTestServer } from './server';

/**
 * `npm run comfyui:dev [-- --port 8188 --step-delay 25 --preview-format JPEG]`:
 * starts the ComfyUI test server (docs/test-servers.md) until Ctrl-C.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.COMFYUI_TEST_PORT ?? '8188' },
      host: { type: 'string', default: '127.0.0.1' },
      'step-delay': { type: 'string', default: '25' },
      'preview-format': { type: 'string', default: 'JPEG' },
      'model-dir': { type: 'string', default: defaultModelDir() },
      'output-dir': { type: 'string' },
      'loras-dir': { type: 'string' },
    },
  });
  const format = values['preview-format'].toUpperCase();
  if (format !== 'JPEG' && format !== 'PNG' && format !== 'NONE') throw new Error('--preview-format must be JPEG, PNG or none');
  const server = await ComfyUiTestServer.start({
    port: Number(values.port), host: values.host, stepDelayMs: Number(values['step-delay']),
    previewFormat: format === 'NONE' ? 'none' : format, modelDir: values['model-dir'],
    outputDir: values['output-dir'], lorasDir: values['loras-dir'],
  });
  console.log(`ComfyUI test server (tiny ONNX model, not a real ComfyUI) listening on ${server.url}`);
  console.log(`outputs in ${server.folder.root}; workflow example: docs/examples/comfyui-workflow.json`);
  const stop = () => {
    // A prompt mid-run or a client that keeps its socket must not keep a stopped test server alive.
    setTimeout(() => process.exit(0), 3000).unref();
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
