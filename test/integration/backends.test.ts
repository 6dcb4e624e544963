import path from 'node:path';
import { In } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ComfyUiTestServer } from '../../scripts/test-servers/comfyui/server';
import type { ApiPrompt } from '../../scripts/test-servers/comfyui/validation';
import { OpenAiImagesTestServer } from '../../scripts/test-servers/openai-images/server';
import { syncModels } from '../../src/database/seed';
import { AiModel, Image, Job } from '../../src/entities';
import { startTestApp, type TestApp } from '../support/app';
import { closedPort, remoteModel } from '../support/backend-models';
import { exampleWorkflow } from '../support/comfyui-workflow';
import * as factory from '../support/factories';
import { collect, gql, gqlData, waitFor, wsClient } from '../support/graphql';

/*
 * Jobs through the ComfyUI and OpenAI-Images backends, against the protocol
 * test servers (docs/test-servers.md), on real PostgreSQL and Redis: the
 * images, the events, what the servers received, and the resilience policy
 * (docs/backends.md): retries on another endpoint, breakers, waiting jobs,
 * rejections and timeouts.
 */

const TIMEOUT_MS = 2500;
let app: TestApp;
let user: factory.TestUser;
const servers: { close(): Promise<void> }[] = [];
const modelDir = () => path.join(inject('modelsDir'), 'atelier-tiny');

beforeAll(async () => {
  app = await startTestApp({ LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    ATELIER_WORKER_CONCURRENCY: '4', ATELIER_BACKEND_TIMEOUT_MS: String(TIMEOUT_MS), ATELIER_BACKEND_ATTEMPTS: '3',
    ATELIER_BACKEND_BACKOFF_MS: '50', ATELIER_BACKEND_BREAKER_FAILURES: '2', ATELIER_BACKEND_HALF_OPEN_MS: '1000', ATELIER_BACKEND_WAIT_MS: '300',
  });
  user = await factory.user(app, { tier: 'ENTERPRISE' });
});
afterAll(async () => {
  for (const server of servers) await server.close();
  await app?.close();
});

/** A node's inputs in a prompt the ComfyUI test server received (undefined when the node or its inputs are missing). */
const inputsOf = (prompt: ApiPrompt | undefined, node: string) => prompt?.[node]?.inputs;

async function comfy(options: ConstructorParameters<typeof ComfyUiTestServer>[0] = {}): Promise<ComfyUiTestServer> {
  const server = await ComfyUiTestServer.start({ modelDir: modelDir(), ...options });
  servers.push(server);
  return server;
}

const JOB = 'query($id:ID!){ job(id:$id){ id status waitingFor etaSeconds error { code message } images { id url width height sha256 } } }';
const readJob = async (id: string) => (await gqlData<any>(app.url, JOB, { id }, user.token)).job;
const submit = (modelId: string, input: Record<string, unknown> = {}) => factory.job(app, user, { modelId, steps: 8, ...input });
const finished = (id: string, ms = 60_000) => waitFor(async () => {
  const job = await readJob(id);
  return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status) ? job : null;
}, ms);
const events = (id: string) => collect<any>(wsClient(app.url, user.token), 'subscription($id:ID!){ jobUpdated(jobId:$id){ type step totalSteps preview elapsedMs error { code } } }', { id },
  (items) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(items.at(-1)?.jobUpdated.type));
const metricsText = async () => (await fetch(`${app.url}/metrics`)).text();
const circuitState = async (modelName: string) => {
  const line = (await metricsText()).split('\n').find((l) => l.startsWith('atelier_backend_circuit_state{') && l.includes(`model="${modelName}"`));
  return line ? Number(line.split(' ').at(-1)) : null;
};
const socketClosedFailures = (metrics: string) => metrics.split('\n')
  .filter((l) => l.startsWith('atelier_backend_failures_total{') && l.includes('reason="socket_closed"'))
  .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
const modelName = async (id: string) => (await app.db.getRepository('AiModel').findOneByOrFail({ id }) as { name: string }).name;

describe('ComfyUI backend', () => {
  it('runs a job through ComfyUI: substituted workflow, step progress with previews, a real PNG in the store', async () => {
    const server = await comfy({ stepDelayMs: 20 });
    const modelId = await remoteModel(app, { backend: 'COMFYUI', endpoints: [server.url], workflow: exampleWorkflow() });
    const job = await submit(modelId, { prompt: 'a lighthouse at dusk', seed: 1234, sampler: 'EULER_ANCESTRAL', guidanceScale: 6 });
    const feed = events(job.id);
    await feed.done;
    const types = feed.items.map((i) => i.jobUpdated.type);
    expect(types.at(-1), JSON.stringify(await readJob(job.id))).toBe('COMPLETED');
    expect(types).toContain('STARTED');
    const progress = feed.items.map((i) => i.jobUpdated).filter((e) => e.type === 'PROGRESS');
    expect(progress.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(progress.every((e) => e.totalSteps === 8)).toBe(true);
    expect(progress.filter((e) => e.preview?.startsWith('data:image/jpeg;base64,')).length).toBeGreaterThan(0);

    const done = await readJob(job.id);
    expect(done.status).toBe('COMPLETED');
    expect(done.images).toHaveLength(1);
    const png = Buffer.from(await (await fetch(done.images[0].url)).arrayBuffer());
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect({ width: done.images[0].width, height: done.images[0].height }).toEqual({ width: 64, height: 64 });

    const received = server.receivedPrompts.at(-1)!.body;
    expect(typeof received.client_id).toBe('string');
    expect(inputsOf(received.prompt, '3')).toMatchObject({ seed: 1234, steps: 8, cfg: 6, sampler_name: 'euler_ancestral' });
    expect(inputsOf(received.prompt, '5')).toEqual({ width: 64, height: 64, batch_size: 1 });
    expect(inputsOf(received.prompt, '6')?.text).toBe('a lighthouse at dusk');
  });

  it('fails at once with BACKEND_REJECTED on a 400 with node_errors, without retrying', async () => {
    const server = await comfy();
    const workflow = exampleWorkflow();
    workflow['4'].inputs.ckpt_name = 'missing.safetensors';
    const modelId = await remoteModel(app, { backend: 'COMFYUI', endpoints: [server.url], workflow });
    const job = await finished((await submit(modelId)).id);
    expect(job.status).toBe('FAILED');
    expect(job.error.code).toBe('BACKEND_REJECTED');
    expect(job.error.message).toMatch(/node 4 \(CheckpointLoaderSimple\)/);
    expect(server.receivedPrompts).toHaveLength(1);
  });

  it('fails with ComfyUI\'s message on execution_error', async () => {
    const server = await comfy();
    const modelId = await remoteModel(app, { backend: 'COMFYUI', endpoints: [server.url], workflow: exampleWorkflow() });
    server.failNextSampler('CUDA out of memory');
    const job = await finished((await submit(modelId)).id);
    expect(job.error).toEqual({ code: 'INFERENCE_FAILED', message: expect.stringContaining('CUDA out of memory') });
    expect(job.error.message).toMatch(/node 3 \(KSampler\)/);
    // A failure inside the workflow is not retried: retrying the same workflow would fail the same way.
    expect(server.receivedPrompts).toHaveLength(1);
  });

  it('refuses LoRAs on a ComfyUI model with BAD_USER_INPUT on loras, creating no job', async () => {
    const server = await comfy();
    const modelId = await remoteModel(app, { backend: 'COMFYUI', endpoints: [server.url], workflow: exampleWorkflow() });
    const before = await app.db.getRepository(Job).countBy({ modelId });
    const res = await gql<any>(app.url, 'mutation($m:ID!){ createGeneration(input:{ prompt:"x", modelId:$m, loras:[{ loraId:"00000000-0000-4000-8000-000000000000", weight:1 }] }) { id } }', { m: modelId }, user.token);
    expect(res.errors?.[0]).toMatchObject({ message: expect.stringContaining('takes no LoRAs'), extensions: { code: 'BAD_USER_INPUT', field: 'loras' } });
    expect(await app.db.getRepository(Job).countBy({ modelId })).toBe(before);
  });

  it('cancels a prompt queued in ComfyUI (deleted) and a running one (interrupted)', async () => {
    const server = await comfy({ stepDelayMs: 150 });
    const modelId = await remoteModel(app, { backend: 'COMFYUI', endpoints: [server.url], workflow: exampleWorkflow() });
    const running = await submit(modelId, { steps: 30 });
    const queued = await submit(modelId, { steps: 30, prompt: 'second' });
    await waitFor(async () => server.receivedPrompts.length >= 2 && server.running !== null);
    const queuedPromptId = server.receivedPrompts.find((p) => inputsOf(p.body.prompt, '6')?.text === 'second')!.promptId!;
    const cancel = (id: string) => gqlData<any>(app.url, 'mutation($id:ID!){ cancelJob(id:$id){ id } }', { id }, user.token);
    await cancel(queued.id);
    await waitFor(async () => !server.pending.some((item) => item.promptId === queuedPromptId));
    await cancel(running.id);
    expect((await finished(running.id)).status).toBe('CANCELLED');
    expect((await finished(queued.id)).status).toBe('CANCELLED');
    await waitFor(async () => server.running === null, 10_000);
    const history = server.history.get(queuedPromptId);
    expect(history).toBeUndefined();
    expect(await app.db.getRepository(Image).countBy({ jobId: In([running.id, queued.id]) })).toBe(0);
  });

  it('fails a slow server past the timeout with BACKEND_UNAVAILABLE after the retries', async () => {
    const server = await comfy({ responseDelayMs: TIMEOUT_MS * 2 });
    const modelId = await remoteModel(app, { backend: 'COMFYUI', endpoints: [server.url], workflow: exampleWorkflow() });
    const job = await finished((await submit(modelId)).id);
    expect(job.error.code).toBe('BACKEND_UNAVAILABLE');
    // The breaker opens after two: the third finds it open. Past the timeout is a timeout, not "unreachable".
    expect(job.error.message).toBe(`ComfyUI unavailable after 2 attempts: an endpoint did not answer within ${TIMEOUT_MS} ms`);
  });
});

describe('backends that cannot be reached', () => {
  // A refused connection or a host name that does not resolve is the backend's outage, not the
  // database's or Redis's: the job fails BACKEND_UNAVAILABLE after the retries and the worker keeps
  // taking jobs (docs/backends.md, "Resilience").

  it.each([
    // Two endpoints: the attempts are spent before either breaker opens, so the last word is the refusal itself.
    ['COMFYUI', 'refused', async () => [`127.0.0.1:${await closedPort()}`, `127.0.0.1:${await closedPort()}`]],
    ['COMFYUI', 'unresolvable', async () => ['atelier-no-such-host.invalid:8188', 'atelier-no-such-host-2.invalid:8188']],
    ['OPENAI_IMAGES', 'refused', async () => [`127.0.0.1:${await closedPort()}`, `127.0.0.1:${await closedPort()}`]],
  ] as const)('fails a %s job whose endpoints are %s with BACKEND_UNAVAILABLE, and the worker keeps taking jobs', async (backend, _how, hosts) => {
    const endpoints = (await hosts()).map((host) => backend === 'COMFYUI' ? `http://${host}` : `http://${host}`);
    const modelId = await remoteModel(app, backend === 'COMFYUI'
      ? { backend, endpoints, workflow: exampleWorkflow() }
      : { backend, endpoints, remoteModel: 'tiny-xl', credential: 'sk-test' });
    const job = await finished((await submit(modelId)).id, 20_000);
    expect(job.status).toBe('FAILED');
    expect(job.error.code).toBe('BACKEND_UNAVAILABLE');
    expect(job.error.message).toMatch(/unavailable after 3 attempts: an endpoint could not be reached \((ECONNREFUSED|ENOTFOUND|EAI_AGAIN)\)$/);
    const local = await finished((await factory.job(app, user, { steps: 2 })).id, 20_000);
    expect(local.status).toBe('COMPLETED');
  });
});

describe('ComfyUI: one socket per endpoint', () => {
  const clientOf = (server: ComfyUiTestServer, jobPrompt: string) => server.receivedPrompts.filter((p) => inputsOf(p.body.prompt, '6')?.text === jobPrompt).map((p) => p.body.client_id);
  const progressOf = (feed: ReturnType<typeof events>) => feed.items.map((i) => i.jobUpdated).filter((e) => e.type === 'PROGRESS');

  it('runs two prompts at once over one socket, each with its own progress, previews (every ATELIER_PREVIEW_EVERY steps) and image', async () => {
    const server = await comfy({ stepDelayMs: 30 });
    const modelId = await remoteModel(app, { backend: 'COMFYUI', endpoints: [server.url], workflow: exampleWorkflow() });
    // Previews go out live only (the log keeps steps without them): the jobs wait until both streams are open.
    await app.worker!.bullWorker.pause();
    const jobs = await Promise.all([submit(modelId, { prompt: 'first of two', steps: 6 }), submit(modelId, { prompt: 'second of two', steps: 10 })]);
    const feeds = jobs.map((j) => events(j.id));
    await waitFor(async () => feeds.every((f) => f.items.length > 0));
    app.worker!.bullWorker.resume();
    await Promise.all(feeds.map((f) => f.done));
    const done = await Promise.all(jobs.map((j) => readJob(j.id)));
    expect(done.map((j) => j.status)).toEqual(['COMPLETED', 'COMPLETED']);
    // Each job saw its own prompt's steps only (6 and 10), with previews, though both followed one socket.
    expect(progressOf(feeds[0]).map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(progressOf(feeds[1]).map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // ComfyUI previews every step; the jobs carry one every ATELIER_PREVIEW_EVERY (2) steps, each its own prompt's.
    for (const feed of feeds) {
      expect(progressOf(feed).map((e) => e.preview?.startsWith('data:image/jpeg;base64,') ?? false)).toEqual(progressOf(feed).map((e) => e.step % 2 === 0));
    }
    expect(done[0].images[0].sha256).not.toBe(done[1].images[0].sha256);
    // Both prompts went out with one client_id: the one socket's.
    const [first, second] = [clientOf(server, 'first of two'), clientOf(server, 'second of two')];
    expect(first).toHaveLength(1);
    expect(second).toEqual(first);
    expect(server.socketCount).toBe(1);
  });

  it('retries a job whose socket drops mid-run, and connects again, with a new client id, for the next job', async () => {
    const server = await comfy({ stepDelayMs: 60 });
    const modelId = await remoteModel(app, { backend: 'COMFYUI', endpoints: [server.url], workflow: exampleWorkflow() });
    expect((await finished((await submit(modelId, { prompt: 'before the drop', steps: 2 })).id)).status).toBe('COMPLETED');
    const failuresBefore = socketClosedFailures(await metricsText());
    const dropped = await submit(modelId, { prompt: 'dropped mid-run', steps: 12 });
    await waitFor(async () => inputsOf(server.running?.item.prompt, '6')?.text === 'dropped mid-run');
    server.dropSockets();
    const retried = await finished(dropped.id);
    expect(retried.status).toBe('COMPLETED');
    expect(retried.images).toHaveLength(1);
    expect(socketClosedFailures(await metricsText())).toBe(failuresBefore + 1);
    // The dropped prompt went out on the first socket; its retry and the next job on a new one.
    const after = await finished((await submit(modelId, { prompt: 'after the drop', steps: 2 })).id);
    expect(after.status).toBe('COMPLETED');
    const [before, drop, next] = [clientOf(server, 'before the drop'), clientOf(server, 'dropped mid-run'), clientOf(server, 'after the drop')];
    expect(drop).toEqual([before[0], expect.any(String)]);
    expect(drop[1]).not.toBe(before[0]);
    expect(next).toEqual([drop[1]]);
    expect(server.socketCount).toBe(1);
  });
});

describe('ComfyUI resilience', () => {
  it('keeps every job of a two-server pool when one server is killed under load: none fails, none runs twice', async () => {
    const [a, b] = [await comfy({ stepDelayMs: 40 }), await comfy({ stepDelayMs: 40 })];
    const modelId = await remoteModel(app, { backend: 'COMFYUI', endpoints: [a.url, b.url], workflow: exampleWorkflow() });
    const jobs = await Promise.all(Array.from({ length: 8 }, (_, i) => submit(modelId, { prompt: `load ${i}`, steps: 10 })));
    await waitFor(async () => a.running !== null);
    await a.kill();
    const results = await Promise.all(jobs.map((j) => finished(j.id, 120_000)));
    const counts = {
      submitted: jobs.length,
      completed: results.filter((j) => j.status === 'COMPLETED').length,
      failed: results.filter((j) => j.status === 'FAILED').length,
      processing: await app.db.getRepository(Job).countBy({ id: In(jobs.map((j) => j.id)), status: 'PROCESSING' as never }),
      images: await app.db.getRepository(Image).countBy({ jobId: In(jobs.map((j) => j.id)) }),
      // Prompts that ran to the end on either server: one per job, or a job ran twice.
      promptsCompleted: [...a.history.values(), ...b.history.values()].filter((h) => h.status.status_str === 'success').length,
    };
    console.log('chaos, one of two servers killed:', JSON.stringify(counts));
    expect(counts).toEqual({ submitted: 8, completed: 8, failed: 0, processing: 0, images: 8, promptsCompleted: 8 });
    // Each job's image came from one finished prompt: the killed server's unfinished ones ran again on b only.
    const images = await app.db.getRepository(Image).findBy({ jobId: In(jobs.map((j) => j.id)) });
    expect(new Set(images.map((i) => i.jobId)).size).toBe(8);
  });

  it('fails the job BACKEND_UNAVAILABLE when the only server dies mid-run, opens the breaker, keeps the API up; a restart resumes waiting jobs', async () => {
    const server = await comfy({ stepDelayMs: 100 });
    const modelId = await remoteModel(app, { backend: 'COMFYUI', endpoints: [server.url], workflow: exampleWorkflow() });
    const name = await modelName(modelId);
    const doomed = await submit(modelId, { steps: 20 });
    await waitFor(async () => server.running !== null);
    await server.kill();
    const failed = await finished(doomed.id);
    expect(failed.status).toBe('FAILED');
    expect(failed.error.code).toBe('BACKEND_UNAVAILABLE');
    expect(failed.error.message).toMatch(/ComfyUI/);
    expect(await app.db.getRepository(Job).countBy({ modelId, status: 'PROCESSING' as never })).toBe(0);
    expect(await circuitState(name)).toBe(2);
    expect((await gqlData<any>(app.url, '{ me { id } }', {}, user.token)).me.id).toBe(user.id);

    // While the breaker is open, new jobs wait (PENDING, waiting for COMFYUI, no ETA) instead of failing.
    const waiting = await Promise.all([submit(modelId, { steps: 4 }), submit(modelId, { steps: 4 })]);
    const held = await waitFor(async () => {
      const job = await readJob(waiting[0].id);
      return job.waitingFor === 'COMFYUI' ? job : null;
    });
    expect(held).toMatchObject({ status: 'PENDING', etaSeconds: null });
    // One with a deadline fails at it, not before; the others keep waiting.
    const late = await submit(modelId, { steps: 4, deadlineSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await readJob(waiting[1].id)).status).toBe('PENDING');
    expect((await finished(late.id)).error.code).toBe('DEADLINE_EXCEEDED');

    await server.start();
    const resumed = await Promise.all(waiting.map((j) => finished(j.id)));
    expect(resumed.map((j) => j.status)).toEqual(['COMPLETED', 'COMPLETED']);
    expect(await circuitState(name)).toBe(0);
    const ready = (await (await fetch(`${app.url}/readyz`)).json()) as { backends: unknown[] };
    expect(ready.backends).toContainEqual({ model: name, backend: 'COMFYUI', state: 'CLOSED', endpoints: 1, openEndpoints: 0 });
    const admin = await factory.user(app, { role: 'ADMIN' });
    const stats = await waitFor(async () => {
      const { systemStats } = await gqlData<any>(app.url, '{ systemStats { workers { backends { model backend state endpoints openEndpoints } } } }', {}, admin.token);
      const seen = systemStats.workers.flatMap((w: any) => w.backends).find((b: any) => b.model === name);
      return seen?.state === 'CLOSED' ? seen : null;
    });
    expect(stats).toEqual({ model: name, backend: 'COMFYUI', state: 'CLOSED', endpoints: 1, openEndpoints: 0 });
  });
});

describe('OpenAI Images backend', () => {
  it('runs a job with the Bearer credential, elapsed-time progress and a b64_json PNG', async () => {
    const server = await OpenAiImagesTestServer.start({ modelDir: modelDir(), delayMs: 1500, models: ['tiny-xl'] });
    servers.push(server);
    const modelId = await remoteModel(app, { backend: 'OPENAI_IMAGES', endpoints: [server.url], remoteModel: 'tiny-xl', credential: server.apiKey });
    const job = await submit(modelId, { prompt: 'a paper boat', count: 2 });
    const feed = events(job.id);
    await feed.done;
    const types = feed.items.map((i) => i.jobUpdated.type);
    expect(types.filter((t) => t !== 'PROGRESS')).toEqual(['QUEUED', 'STARTED', 'COMPLETED']);
    expect(types.indexOf('PROGRESS')).toBeGreaterThan(types.indexOf('STARTED'));
    const progress = feed.items.map((i) => i.jobUpdated).filter((e) => e.type === 'PROGRESS');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0]).toMatchObject({ step: 0, totalSteps: 8 });
    expect(progress[0].elapsedMs).toBeGreaterThanOrEqual(900);

    const done = await readJob(job.id);
    expect(done.images).toHaveLength(2);
    const png = Buffer.from(await (await fetch(done.images[0].url)).arrayBuffer());
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    const request = server.receivedRequests.at(-1)!;
    expect(request.authorization).toBe(`Bearer ${server.apiKey}`);
    expect(request.body).toEqual({ model: 'tiny-xl', prompt: 'a paper boat', n: 2, size: '64x64', response_format: 'b64_json' });
  });
});

describe('registered models and the folder scan', () => {
  it('leaves registered remote models enabled when the models folder is scanned again (a restart)', async () => {
    const modelId = await remoteModel(app, { backend: 'COMFYUI', endpoints: ['http://127.0.0.1:9'], workflow: exampleWorkflow() });
    await syncModels(app.db, [], 'atelier-tiny');
    expect((await app.db.getRepository(AiModel).findOneByOrFail({ id: modelId })).enabled).toBe(true);
  });
});
