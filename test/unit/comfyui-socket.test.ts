import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { ComfySocket, type ComfyConnection, type PromptRoute } from '../../src/gpu-worker/backends/comfyui-socket';
import { runningPromptOf } from '../../src/gpu-worker/backends/comfyui-messages';
import { BackendError } from '../../src/gpu-worker/backends/backend-error';
import { unansweringServer } from '../support/backend-models';

/*
 * The shared ComfyUI socket (docs/backends.md, "One socket per endpoint")
 * against a scripted WebSocket server: frames are routed by prompt_id,
 * preview frames to the prompt running, frames that come before a prompt is
 * followed are kept for it, and a closed socket ends every prompt on it.
 */

let server: WebSocketServer | null = null;
const clients: { ws: WebSocket; clientId: string }[] = [];

async function scriptedServer(options: { autoPong?: boolean } = {}): Promise<string> {
  server = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  server.on('connection', (ws, req) => clients.push({ ws, clientId: new URL(req.url!, 'http://x').searchParams.get('clientId')! }));
  await new Promise((resolve) => server!.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const { ws } of clients.splice(0)) ws.terminate();
  const closing = server;
  server = null;
  if (closing) await new Promise((resolve) => closing.close(resolve));
});

const text = (type: string, data: Record<string, unknown>) => JSON.stringify({ type, data });
const preview = (n: number) => Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 0, 0, 1]), Buffer.from([0xff, 0xd8, n])]);

/** A route that writes down what it receives. */
function recorder() {
  const seen: string[] = [];
  const route: PromptRoute = {
    frame: (message, binary) => seen.push(binary ? `preview ${binary.at(-1)}` : `${message!.type}`),
    heard: () => undefined,
    closed: (error) => seen.push(`closed${error ? ` (${error.message})` : ''}`),
  };
  return { seen, route };
}

/** Sends frames in order and waits until `until` holds. */
async function send(ws: WebSocket, frames: (string | Buffer)[], until: () => boolean): Promise<void> {
  for (const frame of frames) ws.send(frame);
  for (let i = 0; i < 200 && !until(); i += 1) await new Promise((r) => setTimeout(r, 5));
  expect(until()).toBe(true);
}

describe('ComfyUI socket shared by prompts', () => {
  it('routes by prompt_id, gives previews to the running prompt, and keeps frames that come before a prompt is followed', async () => {
    const socket = new ComfySocket(await scriptedServer(), 2000);
    const signal = new AbortController().signal;
    const [one, two] = await Promise.all([socket.connect(signal), socket.connect(signal)]);
    expect(one).toBe(two);
    expect(clients.map((c) => c.clientId)).toEqual([one.clientId]);
    const ws = clients[0].ws;

    const a = recorder();
    const b = recorder();
    const submittingB = one.expect();
    one.follow('A', a.route);
    // B starts running before its POST /prompt answered: its frames wait for it to be followed.
    await send(ws, [
      text('status', { status: { exec_info: { queue_remaining: 2 } } }),
      text('execution_start', { prompt_id: 'A' }), text('progress', { value: 1, max: 2, prompt_id: 'A' }), preview(1),
      text('execution_success', { prompt_id: 'A' }), text('executing', { node: null, prompt_id: 'A' }),
      text('execution_start', { prompt_id: 'B' }), text('progress', { value: 1, max: 2, prompt_id: 'B' }), preview(2),
      text('progress_state', { prompt_id: 'someone else', nodes: {} }),
    ], () => a.seen.length === 5);
    one.follow('B', b.route);
    submittingB();
    expect(a.seen).toEqual(['execution_start', 'progress', 'preview 1', 'execution_success', 'executing']);
    expect(b.seen).toEqual(['execution_start', 'progress', 'preview 2']);
    await send(ws, [text('progress', { value: 2, max: 2, prompt_id: 'B' }), preview(3)], () => b.seen.length === 5);
    expect(b.seen.slice(3)).toEqual(['progress', 'preview 3']);
  });

  it('ends every prompt on a socket that closes, and connects again with a new client id', async () => {
    const socket = new ComfySocket(await scriptedServer(), 2000);
    const signal = new AbortController().signal;
    const first: ComfyConnection = await socket.connect(signal);
    const a = recorder();
    const b = recorder();
    first.follow('A', a.route);
    first.follow('B', b.route);
    clients[0].ws.terminate();
    for (let i = 0; i < 200 && b.seen.length === 0; i += 1) await new Promise((r) => setTimeout(r, 5));
    expect(a.seen).toEqual(['closed']);
    expect(b.seen).toEqual(['closed']);
    // A prompt followed on the closed socket hears at once that it is closed.
    const late = recorder();
    first.follow('C', late.route);
    expect(late.seen).toEqual(['closed']);

    const second = await socket.connect(signal);
    expect(second).not.toBe(first);
    expect(second.clientId).not.toBe(first.clientId);
    expect(clients.map((c) => c.clientId)).toEqual([first.clientId, second.clientId]);
  });

  it('pings an idle socket and drops it when the server stops answering (a socket that died silently)', async () => {
    const answering = new ComfySocket(await scriptedServer(), 50);
    const alive = await answering.connect(new AbortController().signal);
    await new Promise((r) => setTimeout(r, 300));
    expect(alive.isOpen).toBe(true);
    for (const { ws } of clients.splice(0)) ws.terminate();
    await new Promise((resolve) => server!.close(resolve));

    const silent = new ComfySocket(await scriptedServer({ autoPong: false }), 50);
    const dead = await silent.connect(new AbortController().signal);
    const waiting = recorder();
    dead.follow('A', waiting.route);
    for (let i = 0; i < 100 && waiting.seen.length === 0; i += 1) await new Promise((r) => setTimeout(r, 5));
    expect(waiting.seen).toEqual(['closed (no answer to a ping within 50 ms)']);
    expect(dead.isOpen).toBe(false);
    expect(await silent.connect(new AbortController().signal)).not.toBe(dead);
  });

  it('reports a server that accepts the connection but never answers the upgrade as a timeout, not as unreachable', async () => {
    const hung = await unansweringServer();
    try {
      const started = Date.now();
      const refused = await new ComfySocket(hung.url, 200).connect(new AbortController().signal).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(BackendError);
      expect(refused).toMatchObject({ kind: 'transient', reason: 'timeout', message: 'an endpoint did not answer within 200 ms' });
      expect((refused as BackendError).detail).toMatch(new RegExp(`^${hung.url.replace(/^http/, 'ws').replace(/\./g, '\\.')}/ws\\?clientId=[0-9a-f]{32} did not answer within 200 ms$`));
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await hung.close();
    }
  });

  it('knows which prompt runs from the messages that name one', () => {
    const message = (type: string, data: Record<string, unknown>) => ({ type, data });
    let running: string | null = null;
    running = runningPromptOf(message('status', { status: {} }), running);
    expect(running).toBeNull();
    running = runningPromptOf(message('execution_start', { prompt_id: 'A' }), running);
    expect(running).toBe('A');
    running = runningPromptOf(message('executing', { node: null, prompt_id: 'A' }), running);
    expect(running).toBeNull();
    running = runningPromptOf(message('progress', { value: 1, max: 2, prompt_id: 'B' }), running);
    expect(running).toBe('B');
    // The end of a prompt not running leaves the running one.
    expect(runningPromptOf(message('execution_interrupted', { prompt_id: 'A' }), running)).toBe('B');
  });
});
