import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ComfyUiTestServer } from '../../scripts/test-servers/comfyui/server';
import { OpenAiImagesTestServer } from '../../scripts/test-servers/openai-images/server';
import { Job } from '../../src/entities';
import { startTestApp, type TestApp } from '../support/app';
import { exampleWorkflow } from '../support/comfyui-workflow';
import * as factory from '../support/factories';
import { gqlData, waitFor } from '../support/graphql';

// Workers probe every endpoint of every enabled remote model (docs/backends.md,
// "Probes"): a model registered while the worker runs shows its health without
// any job, a killed server opens its breaker and a restarted one closes it.
const PROBE_MS = 200;
let app: TestApp;
let admin: factory.TestUser;
let comfy: ComfyUiTestServer;
let hosted: OpenAiImagesTestServer;

beforeAll(async () => {
  const modelDir = path.join(inject('modelsDir'), 'atelier-tiny');
  comfy = await ComfyUiTestServer.start({ modelDir });
  hosted = await OpenAiImagesTestServer.start({ modelDir });
  app = await startTestApp({
    ATELIER_BACKEND_PROBE_MS: String(PROBE_MS), ATELIER_BACKEND_TIMEOUT_MS: '1000',
    ATELIER_BACKEND_BREAKER_FAILURES: '2', ATELIER_BACKEND_HALF_OPEN_MS: '300',
  });
  admin = await factory.user(app, { role: 'ADMIN' });
});
afterAll(async () => {
  await app?.close();
  await comfy?.close();
  await hosted?.close();
});

type Health = { state: string; inFlight: number; lastError: string | null; lastCheckedAt: string } | null;

async function health(name: string): Promise<Health> {
  const { models } = await gqlData<any>(app.url, '{ models { name endpoints { url health { state inFlight lastError lastCheckedAt } } } }', {}, admin.token);
  return models.find((m: any) => m.name === name).endpoints[0].health;
}

/** Waits for the endpoint's health to reach `state` with a check at most a few probe intervals old. */
const healthIs = (name: string, state: string) => waitFor(async () => {
  const seen = await health(name);
  return seen?.state === state && Date.now() - Date.parse(seen.lastCheckedAt) < PROBE_MS * 10 ? seen : null;
}, 15_000);

describe('endpoint probes', () => {
  it('shows a COMFYUI model registered live CLOSED without a job, OPEN once its server is killed, CLOSED once it is back', async () => {
    const input = { name: 'Probed Comfy', backend: 'COMFYUI', endpoints: [comfy.url], workflow: exampleWorkflow() };
    const { registerModel } = await gqlData<any>(app.url, 'mutation($input: ModelInput!) { registerModel(input: $input) { id } }', { input }, admin.token);
    expect(await healthIs('Probed Comfy', 'CLOSED')).toMatchObject({ inFlight: 0, lastError: null });

    await comfy.kill();
    const open = await healthIs('Probed Comfy', 'OPEN');
    expect(open.lastError).toMatch(new RegExp(comfy.url.replace(/[.:/]/g, '\\$&')));

    await comfy.start();
    expect(await healthIs('Probed Comfy', 'CLOSED')).toMatchObject({ lastError: null });
    // Only probes ran: no job was submitted and the server got no prompt.
    expect(await app.db.getRepository(Job).countBy({ modelId: registerModel.id })).toBe(0);
    expect(comfy.receivedPrompts).toHaveLength(0);
  });

  it('probes an OPENAI_IMAGES model (GET /v1/models) the same way, without a generation request', async () => {
    const input = { name: 'Probed Hosted', backend: 'OPENAI_IMAGES', endpoints: [hosted.url], remoteModel: 'atelier-tiny', credential: hosted.apiKey };
    await gqlData<any>(app.url, 'mutation($input: ModelInput!) { registerModel(input: $input) { id } }', { input }, admin.token);
    expect(await healthIs('Probed Hosted', 'CLOSED')).toMatchObject({ lastError: null });
    await hosted.kill();
    expect((await healthIs('Probed Hosted', 'OPEN')).lastError).toBeTruthy();
    await hosted.start();
    await healthIs('Probed Hosted', 'CLOSED');
    expect(hosted.receivedRequests).toHaveLength(0);
  });
});
