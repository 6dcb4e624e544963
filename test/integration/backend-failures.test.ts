import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ComfyUiTestServer } from '../../scripts/test-servers/comfyui/server';
import { OpenAiImagesTestServer, type OpenAiImagesTestServerOptions } from '../../scripts/test-servers/openai-images/server';
import { createLogger } from '../../src/observability/logger';
import { startTestApp, type TestApp } from '../support/app';
import { closedPort, remoteModel, unansweringServer } from '../support/backend-models';
import { exampleWorkflow } from '../support/comfyui-workflow';
import * as factory from '../support/factories';
import { gqlData, waitFor } from '../support/graphql';

/*
 * How remote backends fail, as the job's owner and the operator see it
 * (docs/backends.md, "Resilience" and "Who sees what"), against the protocol
 * test servers with their fault injection (docs/test-servers.md): answers of
 * the wrong shape fail the job at once with INFERENCE_FAILED, a timeout is
 * reported as one, a job's error names no endpoint, and a server that answers
 * fewer images than asked is asked again.
 */

const TIMEOUT_MS = 1500;
let app: TestApp;
let user: factory.TestUser;
let admin: factory.TestUser;
const logLines: Record<string, any>[] = [];
const servers: { close(): Promise<void> }[] = [];
const modelDir = () => path.join(inject('modelsDir'), 'atelier-tiny');

beforeAll(async () => {
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
      done();
    },
  });
  app = await startTestApp({
    ATELIER_BACKEND_TIMEOUT_MS: String(TIMEOUT_MS), ATELIER_BACKEND_ATTEMPTS: '3', ATELIER_BACKEND_BACKOFF_MS: '50',
    ATELIER_BACKEND_BREAKER_FAILURES: '2', ATELIER_BACKEND_HALF_OPEN_MS: '1000', ATELIER_BACKEND_WAIT_MS: '300',
  }, { logger: createLogger({ level: 'warn', destination }) });
  user = await factory.user(app, { tier: 'ENTERPRISE' });
  admin = await factory.user(app, { role: 'ADMIN' });
});
afterAll(async () => {
  for (const server of servers) await server.close();
  await app?.close();
});

async function comfy(stepDelayMs = 0): Promise<ComfyUiTestServer> {
  const server = await ComfyUiTestServer.start({ modelDir: modelDir(), stepDelayMs });
  servers.push(server);
  return server;
}

async function hosted(options: OpenAiImagesTestServerOptions = {}): Promise<OpenAiImagesTestServer> {
  const server = await OpenAiImagesTestServer.start({ modelDir: modelDir(), steps: 2, ...options });
  servers.push(server);
  return server;
}

const hostedModel = (server: OpenAiImagesTestServer, credential = server.apiKey) =>
  remoteModel(app, { backend: 'OPENAI_IMAGES', endpoints: [server.url], remoteModel: 'atelier-tiny', credential });
const comfyModel = (endpoints: string[]) => remoteModel(app, { backend: 'COMFYUI', endpoints, workflow: exampleWorkflow() });

const JOB = 'query($id:ID!){ job(id:$id){ id status error { code message } images { id sha256 } } }';
const submit = (modelId: string, input: Record<string, unknown> = {}) => factory.job(app, user, { modelId, steps: 4, ...input });
const finished = (id: string, ms = 30_000) => waitFor(async () => {
  const { job } = await gqlData<any>(app.url, JOB, { id }, user.token);
  return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status) ? job : null;
}, ms);
const modelName = async (id: string) => (await app.db.getRepository('AiModel').findOneByOrFail({ id }) as { name: string }).name;
const metric = async (name: string, labels: string[]) => (await (await fetch(`${app.url}/metrics`)).text()).split('\n')
  .filter((l) => l.startsWith(`${name}{`) && labels.every((label) => l.includes(label)))
  .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
const circuitState = async (id: string) => metric('atelier_backend_circuit_state', [`model="${await modelName(id)}"`]);
const backendLog = (jobId: string) => logLines.find((l) => l.msg === 'backend failure' && l.jobId === jobId);

describe('a 2xx answer of the wrong shape fails the job at once with INFERENCE_FAILED', () => {
  let server: OpenAiImagesTestServer;
  let modelId: string;
  beforeAll(async () => {
    server = await hosted();
    modelId = await hostedModel(server);
  });

  it.each([
    ['null', 'application/json', 'without a data list (the body is null)'],
    ['42', 'application/json', 'without a data list (the body is a number)'],
    ['{"created":1}', 'application/json', 'without a data list (the body is an object)'],
    ['{"created":1,"data":[null,{"url":"http://elsewhere/x.png"}]}', 'application/json', 'without b64_json images'],
    ['<html>bad gateway-ish</html>', 'text/html', 'with something that is not JSON'],
  ])('OpenAI Images answering %s', async (body, contentType, problem) => {
    server.answerNext(body, contentType);
    const prompt = `bad answer ${body}`;
    const job = await finished((await submit(modelId, { prompt })).id);
    expect(job).toMatchObject({ status: 'FAILED', error: { code: 'INFERENCE_FAILED', message: `The image API answered POST /v1/images/generations ${problem}` } });
    // Not retried (by the pool or as a worker crash): asking again would get the same answer.
    expect(server.receivedRequests.filter((r) => r.body.prompt === prompt)).toHaveLength(1);
    expect(backendLog(job.id)).toMatchObject({ reason: 'bad_response', detail: expect.stringContaining(`${server.url}/v1/images/generations answered`) });
  });

  it('leaves the breaker closed and counts bad_response: the next job runs at once', async () => {
    expect(await metric('atelier_backend_failures_total', [`model="${await modelName(modelId)}"`, 'reason="bad_response"'])).toBe(5);
    expect(await circuitState(modelId)).toBe(0);
    const started = Date.now();
    expect((await finished((await submit(modelId)).id)).status).toBe('COMPLETED');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it.each([
    ['POST /prompt', 'null', 'ComfyUI answered POST /prompt without a prompt_id (the body is null)'],
    ['POST /prompt', '{"number":3,"node_errors":{}}', 'ComfyUI answered POST /prompt without a prompt_id (the body is an object)'],
    ['POST /prompt', '<html>oops</html>', 'ComfyUI answered POST /prompt with something that is not JSON'],
    ['GET /history/{prompt_id}', 'null', 'ComfyUI answered GET /history with null instead of a history object'],
    ['GET /history/{prompt_id}', '{"PROMPT":7}', 'ComfyUI answered GET /history with a history entry without an outputs object'],
    ['GET /history/{prompt_id}', '{"PROMPT":{"outputs":{"9":null}}}', 'ComfyUI finished the prompt without output images'],
  ] as const)('ComfyUI answering %s with %s', async (route, body, message) => {
    // A history entry is keyed by the prompt's id, known once it was submitted: the prompt runs slowly enough to set it.
    const keyed = body.includes('PROMPT');
    const comfyServer = await comfy(keyed ? 250 : 0);
    const id = await comfyModel([comfyServer.url]);
    if (!keyed) comfyServer.answerNext(route, body, body.startsWith('<') ? 'text/html' : 'application/json');
    const job = await submit(id, { prompt: `comfy bad answer ${route} ${body}` });
    if (keyed) {
      const submitted = await waitFor(async () => comfyServer.receivedPrompts.find((p) => p.promptId), 10_000, 20);
      comfyServer.answerNext(route, body.replace('PROMPT', submitted.promptId!));
    }
    const failed = await finished(job.id);
    expect(failed).toMatchObject({ status: 'FAILED', error: { code: 'INFERENCE_FAILED', message } });
    expect(comfyServer.receivedPrompts).toHaveLength(1);
    expect(await circuitState(id)).toBe(0);
  });
});

describe('a hosted API past the timeout', () => {
  it('is reported as a timeout (message and metric), not as unreachable', async () => {
    const server = await hosted({ delayMs: TIMEOUT_MS * 3 });
    const modelId = await hostedModel(server);
    const job = await finished((await submit(modelId)).id);
    expect(job.error).toEqual({ code: 'BACKEND_UNAVAILABLE', message: `OpenAI Images unavailable after 2 attempts: an endpoint did not answer within ${TIMEOUT_MS} ms` });
    const name = await modelName(modelId);
    expect(await metric('atelier_backend_failures_total', [`model="${name}"`, 'reason="timeout"'])).toBe(2);
    expect(await metric('atelier_backend_failures_total', [`model="${name}"`, 'reason="connection"'])).toBe(0);
    expect(backendLog(job.id)?.detail).toContain(`${server.url}/v1/images/generations did not answer within ${TIMEOUT_MS} ms`);
  });
});

describe('a ComfyUI server that never answers the WebSocket upgrade', () => {
  it('is reported as a timeout (message, metric, log and endpoint health), not as unreachable', async () => {
    const hung = await unansweringServer();
    servers.push(hung);
    const modelId = await comfyModel([hung.url]);
    const job = await finished((await submit(modelId)).id);
    expect(job.error).toEqual({ code: 'BACKEND_UNAVAILABLE', message: `ComfyUI unavailable after 2 attempts: an endpoint did not answer within ${TIMEOUT_MS} ms` });
    const name = await modelName(modelId);
    expect(await metric('atelier_backend_failures_total', [`model="${name}"`, 'reason="timeout"'])).toBe(2);
    expect(await metric('atelier_backend_failures_total', [`model="${name}"`, 'reason="connection"'])).toBe(0);
    const socketUrl = `${hung.url.replace(/^http/, 'ws').replace(/\./g, '\\.')}/ws\\?clientId=[0-9a-f]{32}`;
    expect(backendLog(job.id)?.detail).toMatch(new RegExp(`^ComfyUI unavailable after 2 attempts: ${socketUrl} did not answer within ${TIMEOUT_MS} ms$`));
    const { models } = await gqlData<any>(app.url, '{ models { id endpoints { health { lastError } } } }', {}, admin.token);
    expect(models.find((m: any) => m.id === modelId).endpoints[0].health?.lastError).toMatch(new RegExp(`^${socketUrl} did not answer within ${TIMEOUT_MS} ms$`));
  });
});

describe('what a job\'s owner reads of a backend failure', () => {

  it('a hosted API\'s 401: the status and OpenAI\'s code, not its message, URL or body; the log has them', async () => {
    const server = await hosted();
    const modelId = await hostedModel(server, 'sk-wrong-key-1234');
    const job = await finished((await submit(modelId)).id);
    expect(job.error).toEqual({ code: 'BACKEND_REJECTED', message: 'The image API refused POST /v1/images/generations (HTTP 401): code invalid_api_key' });
    expect(backendLog(job.id)?.detail).toContain(`POST ${server.url}/v1/images/generations answered 401: {"error":{"message":"Incorrect API key provided`);
  });

  it('a ComfyUI server that refuses connections: no host, port or client id for the owner; the URL for admins and the log', async () => {
    const port = await closedPort();
    const modelId = await comfyModel([`http://127.0.0.1:${port}`]);
    const job = await finished((await submit(modelId)).id);
    expect(job.error).toEqual({ code: 'BACKEND_UNAVAILABLE', message: 'ComfyUI unavailable after 2 attempts: an endpoint could not be reached (ECONNREFUSED)' });
    expect(backendLog(job.id)?.detail).toMatch(new RegExp(`^ComfyUI unavailable after 2 attempts: ws://127\\.0\\.0\\.1:${port}/ws\\?clientId=[0-9a-f]{32} unreachable \\(ECONNREFUSED\\)$`));
    const endpoints = async (token: string) => (await gqlData<any>(app.url, '{ models { id endpoints { url health { state lastError } } } }', {}, token)).models
      .find((m: any) => m.id === modelId).endpoints;
    expect(await endpoints(user.token)).toBeNull();
    const seen = await waitFor(async () => {
      const [endpoint] = await endpoints(admin.token);
      return endpoint.health?.state === 'OPEN' ? endpoint : null;
    });
    expect(seen.health.lastError).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:${port}/ws\\?clientId=[0-9a-f]{32} unreachable \\(ECONNREFUSED\\)$`));
  });
});

describe('a hosted API answering fewer images than asked', () => {
  it('is asked again for the missing ones: the job gets every image it asked for', async () => {
    const server = await hosted({ maxImages: 1 });
    const modelId = await hostedModel(server);
    const job = await finished((await submit(modelId, { prompt: 'three boats', count: 3 })).id);
    expect(job.status).toBe('COMPLETED');
    expect(job.images).toHaveLength(3);
    expect(new Set(job.images.map((i: any) => i.sha256)).size).toBe(3);
    expect(server.receivedRequests.map((r) => r.body.n)).toEqual([3, 2, 1]);
  });
});
