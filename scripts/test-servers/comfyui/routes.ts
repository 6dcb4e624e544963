import { randomUUID } from 'node:crypto';
import os from 'node:os';
import express, { type Request, type Response } from 'express';
import { delay } from '../renderer';
import { objectInfo } from './nodes';
import type { ComfyUiTestServer } from './server';
import { validatePrompt, type ApiPrompt, type PromptBody } from './validation';

/**
 * server.py's routes with the shapes ComfyUI answers, each also under /api
 * as ComfyUI serves them. Only what a client of the API needs; the UI's
 * routes (/, /extensions, /userdata, uploads) are left out.
 */
export function comfyRoutes(server: ComfyUiTestServer): express.Express {
  const app = express();
  const routes = express.Router();
  app.use(express.json({ limit: '50mb' }));
  app.use(async (_req, _res, next) => {
    await delay(server.options.responseDelayMs ?? 0);
    next();
  });
  routes.post('/prompt', (req, res) => postPrompt(server, req, res));
  routes.get('/prompt', (_req, res) => { res.json({ exec_info: { queue_remaining: server.queueRemaining() } }); });
  routes.get('/queue', (_req, res) => {
    const tuple = (i: typeof server.pending[number]) => [i.number, i.promptId, i.prompt, i.extraData, i.outputs];
    res.json({ queue_running: server.running ? [tuple(server.running.item)] : [], queue_pending: server.pending.map(tuple) });
  });
  routes.post('/queue', (req, res) => {
    const body = req.body ?? {};
    if (body.clear) server.removePending(() => true);
    if (Array.isArray(body.delete)) server.removePending((item) => body.delete.includes(item.promptId));
    res.status(200).end();
  });
  routes.post('/interrupt', (req, res) => {
    server.interrupt(typeof req.body?.prompt_id === 'string' ? req.body.prompt_id : undefined);
    res.status(200).end();
  });
  routes.get('/history', (req, res) => {
    const max = req.query.max_items ? Number(req.query.max_items) : Infinity;
    res.json(Object.fromEntries([...server.history].slice(-max)));
  });
  routes.get('/history/:promptId', (req, res) => {
    const injected = server.takeInjected('GET /history/{prompt_id}');
    if (injected) return void res.status(200).type(injected.contentType).send(injected.body);
    const entry = server.history.get(req.params.promptId);
    res.json(entry ? { [req.params.promptId]: entry } : {});
  });
  routes.post('/history', (req, res) => {
    if (req.body?.clear) server.history.clear();
    for (const id of Array.isArray(req.body?.delete) ? req.body.delete : []) server.history.delete(id);
    res.status(200).end();
  });
  routes.get('/view', async (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    if (!q.filename) return void res.status(404).end();
    const file = await server.folder.read(q.filename, q.subfolder ?? '', q.type ?? 'output');
    if (typeof file === 'number') return void res.status(file).end();
    res.type('image/png').set('Content-Disposition', `filename="${q.filename}"`).send(file);
  });
  routes.get('/object_info', (_req, res) => {
    res.json(Object.fromEntries(Object.entries(server.defs).map(([name, def]) => [name, objectInfo(name, def)])));
  });
  routes.get('/object_info/:nodeClass', (req, res) => {
    const def = server.defs[req.params.nodeClass];
    res.json(def ? { [req.params.nodeClass]: objectInfo(req.params.nodeClass, def) } : {});
  });
  routes.get('/system_stats', (_req, res) => { res.json(systemStats()); });
  routes.get('/features', (_req, res) => { res.json({ supports_preview_metadata: true, max_upload_size: 100 * 1024 * 1024 }); });
  app.use('/api', routes);
  app.use('/', routes);
  return app;
}

/** server.py's post_prompt: number, validation, prompt_id, client_id into extra_data. */
function postPrompt(server: ComfyUiTestServer, req: Request, res: Response): void {
  const body = (req.body ?? {}) as PromptBody;
  const received = { body, promptId: null as string | null, accepted: false };
  server.receivedPrompts.push(received);
  const injected = server.takeInjected('POST /prompt');
  if (injected) return void res.status(200).type(injected.contentType).send(injected.body);
  let number: number;
  if ('number' in body) number = Number(body.number);
  else {
    number = body.front ? -server.number : server.number;
    server.number += 1;
  }
  if (!('prompt' in body)) {
    const error = { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {} };
    return void res.status(400).json({ error, node_errors: {} });
  }
  const prompt = body.prompt as ApiPrompt;
  if (prompt === null || typeof prompt !== 'object' || Array.isArray(prompt)) {
    const error = { type: 'invalid_prompt', message: 'Invalid prompt: the prompt must be an object of nodes', details: '', extra_info: {} };
    return void res.status(400).json({ error, node_errors: {} });
  }
  const promptId = String(body.prompt_id ?? randomUUID());
  const valid = validatePrompt(prompt, server.defs);
  if (!valid.ok) return void res.status(400).json({ error: valid.error, node_errors: valid.nodeErrors });
  const extraData = { ...(body.extra_data ?? {}) } as Record<string, unknown>;
  if ('client_id' in body) extraData.client_id = body.client_id;
  Object.assign(received, { promptId, accepted: true });
  server.enqueue({ number, promptId, prompt, extraData, outputs: valid.outputs });
  res.json({ prompt_id: promptId, number, node_errors: valid.nodeErrors });
}

function systemStats(): Record<string, unknown> {
  return {
    system: {
      os: process.platform === 'win32' ? 'nt' : 'posix',
      ram_total: os.totalmem(), ram_free: os.freemem(),
      comfyui_version: 'atelier-test-server', python_version: 'none (Node.js test server)', pytorch_version: 'none',
      embedded_python: false, argv: process.argv.slice(1),
    },
    devices: [{ name: 'cpu (Atelier tiny ONNX model)', type: 'cpu', index: null, vram_total: 0, vram_free: 0, torch_vram_total: 0, torch_vram_free: 0 }],
  };
}
