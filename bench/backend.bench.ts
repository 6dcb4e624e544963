import { randomUUID } from 'node:crypto';
import path from 'node:path';
import WebSocket from 'ws';
import { ComfyUiTestServer } from '../scripts/test-servers/comfyui/server';
import { remoteModel } from '../test/support/backend-models';
import { readFileSync } from 'node:fs';
import type { ComfyWorkflow } from '../src/kernel/backends';
import { fillWorkflow } from '../src/kernel/comfy-workflow';
import * as factory from '../test/support/factories';
import { collect, gqlData, wsClient } from '../test/support/graphql';
import { benchModels, median, row, startBenchApp, time } from './harness';

const RUNS = 9;
const STEPS = 20;
const STEP_DELAY_MS = 25;
/** Read from the repository (npm runs benches from its root), not relative to dist/. */
const workflow = (): ComfyWorkflow => JSON.parse(readFileSync(path.resolve('docs/examples/comfyui-workflow.json'), 'utf8'));
const REQUEST = { prompt: 'a lighthouse on a cliff at dusk', width: 64, height: 64, steps: STEPS, guidanceScale: 7.5, seed: 7, count: 1, sampler: 'EULER' };

/**
 * The baseline: the same workflow sent straight to ComfyUI by a bare client
 * (socket, POST /prompt, wait for the end, history, view), as a script
 * calling ComfyUI's API would.
 */
async function bareClient(url: string, seed: number): Promise<void> {
  const clientId = randomUUID();
  const socket = new WebSocket(`${url.replace('http', 'ws')}/ws?clientId=${clientId}`);
  await new Promise((resolve) => socket.once('open', resolve));
  let promptId: string | null = null;
  const seen: string[] = [];
  const finished = new Promise<void>((resolve) => socket.on('message', (data: Buffer, binary: boolean) => {
    if (binary) return;
    const message = JSON.parse(data.toString());
    if (message.type === 'executing' && message.data.node === null) seen.push(message.data.prompt_id);
    if (promptId && seen.includes(promptId)) resolve();
  }));
  const filled = fillWorkflow(workflow(), {
    prompt: REQUEST.prompt, negative_prompt: '', seed, steps: STEPS, cfg: REQUEST.guidanceScale, width: 64, height: 64,
    batch_size: 1, sampler: 'euler', scheduler: 'normal',
  });
  const answer: any = await (await fetch(`${url}/prompt`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: filled, client_id: clientId }) })).json();
  promptId = answer.prompt_id as string;
  if (seen.includes(promptId)) socket.emit('message', Buffer.from('{}'), false);
  await finished;
  const history: any = await (await fetch(`${url}/history/${promptId}`)).json();
  for (const output of Object.values<any>(history[promptId].outputs)) {
    for (const image of output.images ?? []) await (await fetch(`${url}/view?${new URLSearchParams({ filename: image.filename, subfolder: image.subfolder, type: image.type })}`)).arrayBuffer();
  }
  socket.terminate();
}

/** `npm run bench -- backend`: a job through Atelier to the ComfyUI test server ÷ the same workflow sent by a bare client. */
export async function backendBench(): Promise<void> {
  console.log(`\n== backend (ComfyUI test server, ${STEPS} steps of ${STEP_DELAY_MS} ms) ==`);
  const server = await ComfyUiTestServer.start({ modelDir: path.join(await benchModels(), 'atelier-tiny'), stepDelayMs: STEP_DELAY_MS });
  const app = await startBenchApp();
  const user = await factory.user(app, { tier: 'ENTERPRISE' });
  const modelId = await remoteModel(app, { backend: 'COMFYUI', endpoints: [server.url], workflow: workflow() });
  const client = wsClient(app.url, user.token);
  // A new seed per run: ComfyUI (and its test server) caches a prompt whose inputs did not change.
  let seed = 1000;
  const throughAtelier = async () => (await time(async () => {
    seed += 1;
    const { createGeneration } = await gqlData<any>(app.url, 'mutation($i:GenerationInput!){ createGeneration(input:$i){ id } }', { i: { ...REQUEST, seed, modelId } }, user.token);
    await collect<any>(client, 'subscription($id:ID!){ jobUpdated(jobId:$id){ type } }', { id: createGeneration.id }).done;
  }))[0];
  const bare = async () => (await time(() => bareClient(server.url, (seed += 1))))[0];
  await throughAtelier();
  await bare();
  const ours: number[] = [];
  const baseline: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    baseline.push(await bare());
    ours.push(await throughAtelier());
  }
  // BENCH_TRACE=1: one more job with each event's time since submission, to see where the overhead goes.
  if (process.env.BENCH_TRACE) {
    const t0 = Date.now();
    const { createGeneration } = await gqlData<any>(app.url, 'mutation($i:GenerationInput!){ createGeneration(input:$i){ id } }', { i: { ...REQUEST, seed: (seed += 1), modelId } }, user.token);
    const t1 = Date.now();
    const feed = collect<any>(client, 'subscription($id:ID!){ jobUpdated(jobId:$id){ type at step } }', { id: createGeneration.id });
    await feed.done;
    console.log('submit ms', t1 - t0, feed.items.map((i) => `${i.jobUpdated.type}${i.jobUpdated.step ?? ''}@${Date.parse(i.jobUpdated.at) - t0}`).join(' '));
  }
  row('job through Atelier ÷ bare ComfyUI client', median(ours), median(baseline), 'ms', '≤ 1.05');
  console.log(`${''.padEnd(58)} overhead per job ≈ ${(median(ours) - median(baseline)).toFixed(1)} ms`);
  await client.dispose();
  await app.stop();
  await app.teardown();
  await server.close();
}
