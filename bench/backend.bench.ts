import path from 'node:path';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import { ComfyUiTestServer } from '../scripts/test-servers/comfyui/server';
import { AiModel, InferenceBackend } from '../src/entities';
import type { ComfyWorkflow } from '../src/kernel/backends';
import { exampleWorkflow } from '../test/support/comfyui-workflow';
import * as factory from '../test/support/factories';
import { collect, gqlData, wsClient } from '../test/support/graphql';
import { benchModels, median, row, startBenchApp, time } from './harness';

const RUNS = 7;
const STEPS = 20;
const STEP_DELAY_MS = 25;
const REQUEST = { prompt: 'a lighthouse on a cliff at dusk', width: 64, height: 64, steps: STEPS, guidanceScale: 7.5, count: 1 };

/** A job through Atelier to the ComfyUI backend, submitted over GraphQL and followed to COMPLETED on its subscription. */
async function throughAtelier(url: string, token: string, client: Client, modelId: string, seed: number): Promise<number> {
  const [ms] = await time(async () => {
    const { createGeneration } = await gqlData<any>(url, 'mutation($i:GenerationInput!){ createGeneration(input:$i){ id } }', { i: { ...REQUEST, seed, modelId } }, token);
    const stream = collect<any>(client, 'subscription($id:ID!){ jobUpdated(jobId:$id){ type error { code message } } }', { id: createGeneration.id });
    await stream.done;
    const last = stream.items.at(-1)?.jobUpdated.type;
    if (last !== 'COMPLETED') throw new Error(`bench job ended ${last}: ${JSON.stringify(stream.items.at(-1)?.jobUpdated.error)}`);
  });
  return ms;
}

/**
 * The same workflow sent straight to the server the way ComfyUI's own
 * websockets_api_example.py does: open /ws, POST /prompt, wait for
 * `executing {node: null}`, read /history, fetch every image with /view.
 */
async function bareClient(server: ComfyUiTestServer, workflow: ComfyWorkflow, seed: number): Promise<number> {
  const prompt = structuredClone(workflow) as Record<string, any>;
  prompt['3'].inputs.seed = seed;
  const clientId = `bare-${seed}`;
  const [ms] = await time(async () => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws?clientId=${clientId}`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const res = await fetch(`${server.url}/prompt`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt, client_id: clientId }) });
    const { prompt_id: promptId } = await res.json() as { prompt_id: string };
    await new Promise<void>((resolve) => ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const message = JSON.parse(data.toString());
      if (message.type === 'executing' && message.data.node === null && message.data.prompt_id === promptId) resolve();
    }));
    const history = (await (await fetch(`${server.url}/history/${promptId}`)).json() as Record<string, { outputs: object }>)[promptId];
    for (const output of Object.values(history.outputs) as { images: { filename: string; subfolder: string; type: string }[] }[]) {
      for (const image of output.images) {
        const query = new URLSearchParams({ filename: image.filename, subfolder: image.subfolder, type: image.type });
        await (await fetch(`${server.url}/view?${query}`)).arrayBuffer();
      }
    }
    ws.close();
  });
  return ms;
}

/** `npm run bench -- backend`: Atelier's overhead in front of ComfyUI, as issue 12 asks (goal ≤ 1.05). */
export async function backendBench(): Promise<void> {
  console.log(`\n== backend (ComfyUI test server, ${STEPS} steps of ${STEP_DELAY_MS} ms, ${REQUEST.width}²) ==`);
  const server = await ComfyUiTestServer.start({ modelDir: path.join(await benchModels(), 'atelier-tiny'), stepDelayMs: STEP_DELAY_MS });
  const app = await startBenchApp();
  try {
    const models = app.db.getRepository(AiModel);
    const model = models.create({
      name: 'bench-comfyui', description: null, sha256: '', bytes: 0, files: [], enabled: true, isDefault: false,
      backend: InferenceBackend.COMFYUI, endpoints: [server.url], workflow: exampleWorkflow() as ComfyWorkflow,
    });
    await models.insert(model);
    const user = await factory.user(app, { tier: 'ENTERPRISE' });
    const client = wsClient(app.url, user.token);
    // Warm both paths (model thread, sockets, caches); the bare client then replays exactly what Atelier sent.
    await throughAtelier(app.url, user.token, client, model.id, 1);
    const sent = server.receivedPrompts.at(-1)!.body.prompt as ComfyWorkflow;
    await bareClient(server, sent, 2);
    const ours: number[] = [];
    const bare: number[] = [];
    // Every run has a seed of its own, so ComfyUI's cache never skips the sampler; interleaved so both see the same load.
    for (let i = 0; i < RUNS; i += 1) {
      ours.push(await throughAtelier(app.url, user.token, client, model.id, 100 + i));
      bare.push(await bareClient(server, sent, 200 + i));
    }
    row(`job through Atelier ÷ bare ComfyUI client (${STEPS} × ${STEP_DELAY_MS} ms)`, median(ours), median(bare), 'ms', '≤ 1.05');
    console.log(`${''.padEnd(58)} Atelier's overhead per job ≈ ${(median(ours) - median(bare)).toFixed(1)} ms`);
    await client.dispose();
  } finally {
    await app.stop();
    await app.teardown();
    await server.close();
  }
}
