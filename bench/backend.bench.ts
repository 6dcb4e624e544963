import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import { AiModel, InferenceBackend } from '../src/entities';
import type { ComfyWorkflow } from '../src/kernel/backends';
import { exampleWorkflow } from '../test/support/comfyui-workflow';
import * as factory from '../test/support/factories';
import { collect, gqlData, wsClient } from '../test/support/graphql';
import { PhaseTrace } from './backend-phases';
import { benchModels, median, row, startBenchApp, time } from './harness';

/** Runs per side; `BACKEND_RUNS` raises it when a loaded machine makes medians of 9 move. */
const RUNS = Number(process.env.BACKEND_RUNS ?? 9);
const STEPS = 20;
const STEP_DELAY_MS = 25;
const REQUEST = { prompt: 'a lighthouse on a cliff at dusk', width: 64, height: 64, steps: STEPS, guidanceScale: 7.5, count: 1 };

/** A job through Atelier to the ComfyUI backend, submitted over GraphQL and followed to COMPLETED on its subscription. */
async function throughAtelier(url: string, token: string, client: Client, modelId: string, seed: number, trace?: PhaseTrace): Promise<number> {
  const [ms] = await time(async () => {
    trace?.begin();
    const { createGeneration } = await gqlData<any>(url, 'mutation($i:GenerationInput!){ createGeneration(input:$i){ id } }', { i: { ...REQUEST, seed, modelId } }, token);
    trace?.mark('mutation answered');
    const stream = collect<any>(client, 'subscription($id:ID!){ jobUpdated(jobId:$id){ type error { code message } } }', { id: createGeneration.id }, (items) => {
      if (items.at(-1)?.jobUpdated?.type === 'COMPLETED') trace?.mark('COMPLETED received');
      return false;
    });
    await stream.done;
    trace?.mark('subscription complete');
    const last = stream.items.at(-1)?.jobUpdated;
    if (last?.type !== 'COMPLETED') throw new Error(`bench job ended ${last?.type}: ${JSON.stringify(last?.error)}`);
  });
  return ms;
}

/**
 * The same workflow sent straight to the server the way ComfyUI's own
 * websockets_api_example.py does: open /ws, POST /prompt, wait for
 * `executing {node: null}`, read /history, fetch every image with /view.
 */
export async function bareClient(baseUrl: string, workflow: ComfyWorkflow, seed: number): Promise<number> {
  const prompt = structuredClone(workflow) as Record<string, any>;
  prompt['3'].inputs.seed = seed;
  const clientId = `bare-${seed}`;
  const [ms] = await time(async () => {
    const ws = new WebSocket(`${baseUrl.replace('http', 'ws')}/ws?clientId=${clientId}`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const finished = new Promise<string>((resolve) => ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const message = JSON.parse(data.toString());
      if (message.type === 'executing' && message.data.node === null) resolve(message.data.prompt_id);
    }));
    const res = await fetch(`${baseUrl}/prompt`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt, client_id: clientId }) });
    const { prompt_id: promptId } = await res.json() as { prompt_id: string };
    if ((await finished) !== promptId) throw new Error('another prompt finished first');
    const history = (await (await fetch(`${baseUrl}/history/${promptId}`)).json() as Record<string, { outputs: object }>)[promptId];
    for (const output of Object.values(history.outputs) as { images: { filename: string; subfolder: string; type: string }[] }[]) {
      for (const image of output.images) {
        const query = new URLSearchParams({ filename: image.filename, subfolder: image.subfolder, type: image.type });
        await (await fetch(`${baseUrl}/view?${query}`)).arrayBuffer();
      }
    }
    ws.close();
  });
  return ms;
}

/** The ComfyUI test server in a process of its own, as a ComfyUI box is: `npm run comfyui:dev`'s entry. */
async function startComfyProcess(modelDir: string, stepDelayMs = STEP_DELAY_MS): Promise<{ url: string; proc: ChildProcess }> {
  const main = path.resolve(__dirname, '../scripts/test-servers/comfyui/main.js');
  const proc = spawn(process.execPath, [main, '--port', '0', '--step-delay', String(stepDelayMs), '--model-dir', modelDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]);
    });
    proc.once('exit', (code) => reject(new Error(`ComfyUI test server exited (${code}): ${out}`)));
  });
  return { url, proc };
}

/** The workflow of the last prompt the server ran (what Atelier substituted), from GET /history. */
export async function lastPrompt(baseUrl: string): Promise<ComfyWorkflow> {
  const history = Object.values(await (await fetch(`${baseUrl}/history`)).json() as Record<string, { prompt: unknown[] }>);
  return history.at(-1)!.prompt[2] as ComfyWorkflow;
}

/**
 * Where a run's time went: before ComfyUI started the prompt, ComfyUI's own
 * run (slower when the client's process competes with it for the CPU), and
 * after it finished (its history's timestamps; same machine clock).
 */
interface Phases { before: number; run: number; after: number }

async function phasesOf(baseUrl: string, startedAt: number, endedAt: number, trace?: PhaseTrace): Promise<Phases> {
  const history = Object.values(await (await fetch(`${baseUrl}/history`)).json() as Record<string, { status: { messages: [string, { timestamp: number }][] } }>);
  const at = (event: string) => history.at(-1)!.status.messages.find(([name]) => name === event)![1].timestamp;
  trace?.markAt('ComfyUI execution_start', at('execution_start'), startedAt);
  trace?.markAt('ComfyUI execution_success', at('execution_success'), startedAt);
  trace?.end();
  return { before: at('execution_start') - startedAt, run: at('execution_success') - at('execution_start'), after: endedAt - at('execution_success') };
}

async function timed(baseUrl: string, run: () => Promise<number>, into: number[], phases: Phases[], trace?: PhaseTrace): Promise<void> {
  const startedAt = Date.now();
  into.push(await run());
  phases.push(await phasesOf(baseUrl, startedAt, Date.now(), trace));
}

const medianOf = (phases: Phases[], key: keyof Phases): string => median(phases.map((p) => p[key])).toFixed(0);

/** `npm run bench -- backend`: Atelier's overhead in front of ComfyUI, goal ≤ 1.05 (docs/test-servers.md, "Bench"; docs/performance.md). */
export async function backendBench(): Promise<void> {
  console.log(`\n== backend (ComfyUI test server in its own process, ${STEPS} steps of ${STEP_DELAY_MS} ms, ${REQUEST.width}²) ==`);
  await withComfyModel(STEP_DELAY_MS, async (app, modelId, comfyUrl) => {
    const user = await factory.user(app, { tier: 'ENTERPRISE' });
    const client = wsClient(app.url, user.token);
    // Warm both paths; the bare client then replays exactly the workflow Atelier sent.
    await throughAtelier(app.url, user.token, client, modelId, 1);
    const sent = await lastPrompt(comfyUrl);
    await bareClient(comfyUrl, sent, 2);
    const trace = new PhaseTrace();
    trace.install(app.worker ? (app.worker as unknown as { o: { store: never } }).o.store : undefined);
    const [ours, bare]: number[][] = [[], []];
    const [ourPhases, barePhases]: Phases[][] = [[], []];
    // A seed per run, so ComfyUI's cache never skips the sampler; interleaved so both see the same machine load.
    for (let i = 0; i < RUNS; i += 1) {
      await timed(comfyUrl, () => throughAtelier(app.url, user.token, client, modelId, 100 + i, trace), ours, ourPhases, trace);
      await timed(comfyUrl, () => bareClient(comfyUrl, sent, 200 + i), bare, barePhases);
    }
    row(`job through Atelier ÷ bare ComfyUI client (${STEPS} × ${STEP_DELAY_MS} ms)`, median(ours), median(bare), 'ms', '≤ 1.05');
    console.log(`${''.padEnd(58)} Atelier's overhead per job ≈ ${(median(ours) - median(bare)).toFixed(1)} ms: until ComfyUI starts ${medianOf(ourPhases, 'before')} ms (bare ${medianOf(barePhases, 'before')}), ComfyUI's run ${medianOf(ourPhases, 'run')} ms (bare ${medianOf(barePhases, 'run')}), after it finishes ${medianOf(ourPhases, 'after')} ms (bare ${medianOf(barePhases, 'after')})`);
    trace.print();
    await client.dispose();
  });
}

/**
 * The ComfyUI test server in its own process (`stepDelayMs` a step) and a
 * bench app with a model that runs on it; both are stopped after `use`.
 */
export async function withComfyModel(
  stepDelayMs: number, use: (app: Awaited<ReturnType<typeof startBenchApp>>, modelId: string, comfyUrl: string) => Promise<void>,
): Promise<void> {
  const comfy = await startComfyProcess(path.join(await benchModels(), 'atelier-tiny'), stepDelayMs);
  const app = await startBenchApp();
  try {
    const models = app.db.getRepository(AiModel);
    const model = models.create({
      name: 'bench-comfyui', description: null, sha256: '', bytes: 0, files: [], enabled: true, isDefault: false,
      backend: InferenceBackend.COMFYUI, endpoints: [comfy.url], workflow: exampleWorkflow() as ComfyWorkflow,
    });
    await models.insert(model);
    await use(app, model.id, comfy.url);
  } finally {
    await app.stop();
    await app.teardown();
    await new Promise((resolve) => {
      comfy.proc.once('exit', resolve);
      comfy.proc.kill('SIGTERM');
    });
  }
}
