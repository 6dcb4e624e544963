import { parseArgs } from 'node:util';
import { defaultModelDir } from '../renderer';
import { OpenAiImagesTestServer } from './server';

/**
 * `npm run openai-images:dev [-- --port 8190 --api-key sk-atelier-test --delay 0]`:
 * starts the OpenAI-Images-compatible test server (docs/test-servers.md) until Ctrl-C.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8190' },
      host: { type: 'string', default: '127.0.0.1' },
      'api-key': { type: 'string', default: process.env.OPENAI_TEST_API_KEY ?? 'sk-atelier-test' },
      model: { type: 'string', multiple: true, default: ['atelier-tiny'] },
      delay: { type: 'string', default: '0' },
      steps: { type: 'string', default: '4' },
      'model-dir': { type: 'string', default: defaultModelDir() },
    },
  });
  const server = await OpenAiImagesTestServer.start({
    port: Number(values.port), host: values.host, apiKey: values['api-key'], models: values.model,
    delayMs: Number(values.delay), steps: Number(values.steps), modelDir: values['model-dir'],
  });
  console.log(`OpenAI-Images-compatible test server (tiny ONNX model) listening on ${server.url}`);
  console.log(`POST ${server.url}/v1/images/generations with Authorization: Bearer ${server.apiKey}; models: ${values.model.join(', ')}`);
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
