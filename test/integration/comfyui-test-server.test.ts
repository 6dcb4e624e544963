import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import type { HistoryEntry } from '../../scripts/test-servers/comfyui/executor';
import { ComfyUiTestServer } from '../../scripts/test-servers/comfyui/server';
import { exampleWorkflow, filledWorkflow } from '../support/comfyui-workflow';

/*
 * The ComfyUI test server, driven by a plain client (fetch + ws) the way a
 * ComfyUI API client drives ComfyUI: message order and shapes, binary
 * preview frames, history, /view, validation errors, queue, interrupt, kill.
 */

type Message = { type: string; data: any } | { binary: Buffer };
/** GET /queue's answer: each prompt as ComfyUI's tuple (number, prompt id, prompt, extra data, outputs). */
interface QueueAnswer { queue_running: HistoryEntry['prompt'][]; queue_pending: HistoryEntry['prompt'][] }

class PlainClient {
  readonly messages: Message[] = [];
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<void>;

  constructor(url: string, readonly clientId: string) {
    this.ws = new WebSocket(`${url.replace('http', 'ws')}/ws?clientId=${clientId}`);
    this.ws.on('message', (data: Buffer, isBinary) => this.messages.push(isBinary ? { binary: data } : JSON.parse(data.toString())));
    this.opened = new Promise((resolve) => this.ws.once('open', () => resolve()));
    this.closed = new Promise((resolve) => this.ws.once('close', () => resolve()));
  }

  /** Messages about one prompt, up to and including `executing {node: null}` for it. */
  async runOf(promptId: string): Promise<Message[]> {
    const end = (m: Message) => 'type' in m && m.type === 'executing' && m.data.node === null && m.data.prompt_id === promptId;
    await waitUntil(() => this.messages.some(end));
    const start = this.messages.findIndex((m) => 'type' in m && m.type === 'execution_start' && m.data.prompt_id === promptId);
    return this.messages.slice(start, this.messages.findIndex(end) + 1);
  }
}

async function waitUntil(check: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

let server: ComfyUiTestServer;
let client: PlainClient;

async function post(route: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${server.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

async function get(route: string): Promise<any> {
  return (await fetch(`${server.url}${route}`)).json();
}

/** The sequence of a run with progress and previews folded: type names, 'preview' for binary frames. */
function kinds(run: Message[]): string[] {
  return run.filter((m) => !('type' in m) || m.type !== 'progress_state' && m.type !== 'status')
    .map((m) => ('binary' in m ? 'preview' : m.type === 'executing' || m.type === 'executed' ? `${m.type}:${m.data.node}` : m.type));
}

beforeAll(async () => {
  server = await ComfyUiTestServer.start({ modelDir: path.join(inject('modelsDir'), 'atelier-tiny') });
  client = new PlainClient(server.url, 'client-a');
  await client.opened;
});
afterAll(async () => {
  client?.ws.close();
  await server?.close();
});

describe('ComfyUI test server', () => {
  it('greets a socket with status and its sid', () => {
    expect(client.messages[0]).toEqual({ type: 'status', data: { status: { exec_info: { queue_remaining: 0 } }, sid: 'client-a' } });
  });

  it('runs the example workflow with ComfyUI\'s messages, in ComfyUI\'s order', async () => {
    const submitted = await post('/prompt', { prompt: filledWorkflow({ steps: 3, seed: 11 }), client_id: 'client-a' });
    expect(submitted.status).toBe(200);
    expect(submitted.json).toEqual({ prompt_id: expect.any(String), number: expect.any(Number), node_errors: {} });
    const promptId = submitted.json.prompt_id;
    const run = await client.runOf(promptId);
    expect(kinds(run)).toEqual([
      'execution_start', 'execution_cached',
      'executing:4', 'executing:6', 'executing:7', 'executing:5', 'executing:3',
      'progress', 'preview', 'progress', 'preview', 'progress', 'preview',
      'executing:8', 'executing:9', 'executed:9', 'execution_success', 'executing:null',
    ]);
    const json = run.filter((m): m is { type: string; data: any } => 'type' in m);
    expect(json[0].data).toEqual({ prompt_id: promptId, timestamp: expect.any(Number) });
    expect(json[1].data).toEqual({ nodes: [], prompt_id: promptId, timestamp: expect.any(Number) });
    expect(json.find((m) => m.type === 'executing')!.data).toEqual({ node: '4', display_node: '4', prompt_id: promptId });
    expect(json.filter((m) => m.type === 'progress').map((m) => m.data)).toEqual([1, 2, 3].map((value) => ({ value, max: 3, prompt_id: promptId, node: '3' })));
    const executed = json.find((m) => m.type === 'executed')!.data;
    expect(executed).toEqual({ node: '9', display_node: '9', prompt_id: promptId, output: { images: [{ filename: expect.stringMatching(/^atelier_\d{5}_\.png$/), subfolder: '', type: 'output' }] } });
    const frame = (run.find((m) => 'binary' in m) as { binary: Buffer }).binary;
    expect(frame.readUInt32BE(0)).toBe(1); // PREVIEW_IMAGE
    expect(frame.readUInt32BE(4)).toBe(1); // JPEG
    expect(frame.subarray(8, 10)).toEqual(Buffer.from([0xff, 0xd8]));

    const history = (await get(`/history/${promptId}`))[promptId];
    expect(history.outputs).toEqual({ 9: executed.output });
    expect(history.status).toMatchObject({ status_str: 'success', completed: true });
    expect(history.status.messages.map((m: [string]) => m[0])).toEqual(['execution_start', 'execution_cached', 'execution_success']);
    expect(history.prompt.slice(0, 2)).toEqual([submitted.json.number, promptId]);
    const image = executed.output.images[0];
    const png = await fetch(`${server.url}/view?filename=${image.filename}&subfolder=&type=output`);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await png.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');
  });

  it('renders images that depend on the prompt and the seed, and caches an unchanged graph', async () => {
    const bytes = async (values: Record<string, string | number>) => {
      const { json } = await post('/prompt', { prompt: filledWorkflow({ steps: 2, ...values }), client_id: 'client-a' });
      const run = await client.runOf(json.prompt_id);
      const image = (await get(`/history/${json.prompt_id}`))[json.prompt_id].outputs['9'].images[0];
      return { run, png: Buffer.from(await (await fetch(`${server.url}/view?filename=${image.filename}&type=output`)).arrayBuffer()) };
    };
    const a = await bytes({ seed: 1, prompt: 'a red fox' });
    const again = await bytes({ seed: 1, prompt: 'a red fox' });
    const otherSeed = await bytes({ seed: 2, prompt: 'a red fox' });
    const otherPrompt = await bytes({ seed: 1, prompt: 'a blue whale' });
    expect(again.png.equals(a.png)).toBe(true);
    expect(otherSeed.png.equals(a.png)).toBe(false);
    expect(otherPrompt.png.equals(a.png)).toBe(false);
    const cached = again.run.find((m) => 'type' in m && m.type === 'execution_cached') as { data: any };
    expect(cached.data.nodes.sort()).toEqual(['3', '4', '5', '6', '7', '8', '9']);
    expect(kinds(again.run)).toEqual(['execution_start', 'execution_cached', 'executed:9', 'execution_success', 'executing:null']);
    expect(kinds(otherSeed.run)).toContain('executing:3');
    expect(kinds(otherSeed.run)).not.toContain('executing:4');
  });

  it('answers 400 with ComfyUI\'s error and node_errors for invalid graphs', async () => {
    const unknown = filledWorkflow();
    unknown['3'].class_type = 'KSamplerAdvancedPlus';
    const missing = filledWorkflow();
    delete missing['3'].inputs.steps;
    const noOutput = filledWorkflow();
    delete noOutput['9'];
    const badSampler = filledWorkflow({ sampler: 'heun_9000' });

    const a = await post('/prompt', { prompt: unknown, client_id: 'client-a' });
    expect(a.status).toBe(400);
    expect(a.json).toEqual({ error: { type: 'missing_node_type', message: "Node 'KSampler' not found. The custom node may not be installed.", details: "Node ID '#3'", extra_info: { node_id: '3', class_type: 'KSamplerAdvancedPlus', node_title: 'KSampler' } }, node_errors: {} });
    const b = await post('/prompt', { prompt: missing });
    expect(b.status).toBe(400);
    expect(b.json.error).toEqual({ type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: 'Required input is missing: steps', extra_info: {} });
    expect(b.json.node_errors).toEqual({ 3: { errors: [{ type: 'required_input_missing', message: 'Required input is missing', details: 'steps', extra_info: { input_name: 'steps' } }], dependent_outputs: ['9'], class_type: 'KSampler' } });
    const c = await post('/prompt', { prompt: noOutput });
    expect(c.status).toBe(400);
    expect(c.json).toEqual({ error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {} }, node_errors: {} });
    const d = await post('/prompt', { prompt: badSampler });
    expect(d.json.node_errors['3'].errors[0]).toMatchObject({ type: 'value_not_in_list', details: expect.stringContaining("sampler_name: 'heun_9000' not in [") });
    const placeholders = await post('/prompt', { prompt: exampleWorkflow() });
    expect(placeholders.json.node_errors['3'].errors[0]).toMatchObject({ type: 'invalid_input_type', message: 'Failed to convert an input value to a INT value' });
    expect(server.receivedPrompts.slice(-5).every((p) => !p.accepted && p.promptId === null)).toBe(true);
  });

  it('keeps a queue: GET /queue, POST /queue delete, POST /interrupt', async () => {
    const slow = await ComfyUiTestServer.start({ modelDir: path.join(inject('modelsDir'), 'atelier-tiny'), stepDelayMs: 150 });
    const watcher = new PlainClient(slow.url, 'client-b');
    await watcher.opened;
    try {
      const submit = async (seed: number) => {
        const res = await fetch(`${slow.url}/prompt`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: filledWorkflow({ seed, steps: 50 }), client_id: 'client-b', prompt_id: `prompt-${seed}` }) });
        return (await res.json()) as { prompt_id: string };
      };
      expect((await submit(1)).prompt_id).toBe('prompt-1');
      await submit(2);
      await waitUntil(() => watcher.messages.some((m) => 'type' in m && m.type === 'progress'));
      const queue = (await (await fetch(`${slow.url}/queue`)).json()) as QueueAnswer;
      expect(queue.queue_running.map((q) => q[1])).toEqual(['prompt-1']);
      expect(queue.queue_pending.map((q) => q[1])).toEqual(['prompt-2']);
      expect(queue.queue_running[0][3]).toEqual({ client_id: 'client-b' });
      await fetch(`${slow.url}/queue`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ delete: ['prompt-2'] }) });
      expect(((await (await fetch(`${slow.url}/queue`)).json()) as QueueAnswer).queue_pending).toEqual([]);
      await fetch(`${slow.url}/interrupt`, { method: 'POST' });
      const run = await watcher.runOf('prompt-1');
      const interrupted = run.find((m) => 'type' in m && m.type === 'execution_interrupted') as { data: any };
      expect(interrupted.data).toEqual({ prompt_id: 'prompt-1', node_id: '3', node_type: 'KSampler', executed: ['4', '6', '7', '5', '3'], timestamp: expect.any(Number) });
      const history = (await (await fetch(`${slow.url}/history/prompt-1`)).json()) as Record<string, HistoryEntry>;
      expect(history['prompt-1'].status).toMatchObject({ status_str: 'error', completed: false });
      expect(await (await fetch(`${slow.url}/history/prompt-2`)).json()).toEqual({});

      slow.failNextSampler('CUDA out of memory (simulated)');
      await submit(3);
      const failed = (await watcher.runOf('prompt-3')).find((m) => 'type' in m && m.type === 'execution_error') as { data: any };
      expect(failed.data).toMatchObject({ prompt_id: 'prompt-3', node_id: '3', node_type: 'KSampler', exception_message: 'CUDA out of memory (simulated)', exception_type: expect.any(String), traceback: [] });

      await submit(4);
      await waitUntil(() => watcher.messages.some((m) => 'type' in m && m.type === 'progress' && m.data.prompt_id === 'prompt-4'));
      await slow.kill();
      await watcher.closed;
      await expect(fetch(`${slow.url}/queue`)).rejects.toThrow();
      await slow.start();
      expect(await (await fetch(`${slow.url}/queue`)).json()).toEqual({ queue_running: [], queue_pending: [] });
      expect(await (await fetch(`${slow.url}/history/prompt-1`)).json()).toEqual({});
    } finally {
      watcher.ws.close();
      await slow.close();
    }
  });

  it('describes its nodes in /object_info and itself in /system_stats', async () => {
    const info = await get('/object_info');
    expect(Object.keys(info)).toEqual(expect.arrayContaining(['CheckpointLoaderSimple', 'CLIPTextEncode', 'EmptyLatentImage', 'KSampler', 'VAEDecode', 'SaveImage', 'LoraLoader']));
    expect(info.KSampler.input.required.steps).toEqual(['INT', { default: 20, min: 1, max: 10000 }]);
    expect(info.KSampler.input.required.sampler_name[0]).toContain('dpmpp_2m');
    expect(info.SaveImage.output_node).toBe(true);
    expect((await get('/system_stats')).devices[0]).toMatchObject({ type: 'cpu' });
  });

  it('answers one POST /prompt or GET /history with an injected 200 body, queueing nothing, then as ComfyUI again', async () => {
    const workflow = filledWorkflow({ prompt: 'injected', seed: 3 });
    const queued = server.receivedPrompts.filter((p) => p.accepted).length;
    server.answerNext('POST /prompt', '<html>a proxy</html>', 'text/html');
    const injected = await fetch(`${server.url}/prompt`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: workflow }) });
    expect({ status: injected.status, type: injected.headers.get('content-type'), body: await injected.text() }).toEqual({ status: 200, type: 'text/html; charset=utf-8', body: '<html>a proxy</html>' });
    expect(server.receivedPrompts.filter((p) => p.accepted)).toHaveLength(queued);
    const { status, json } = await post('/prompt', { prompt: workflow });
    expect(status).toBe(200);
    expect(json.prompt_id).toEqual(expect.any(String));
    server.answerNext('GET /history/{prompt_id}', 'null');
    expect(await get(`/history/${json.prompt_id}`)).toBeNull();
    await waitUntil(() => server.history.has(json.prompt_id));
    expect(Object.keys(await get(`/history/${json.prompt_id}`))).toEqual([json.prompt_id]);
  });
});
