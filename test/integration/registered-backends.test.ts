import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ComfyUiTestServer } from '../../scripts/test-servers/comfyui/server';
import { OpenAiImagesTestServer } from '../../scripts/test-servers/openai-images/server';
import { startTestApp, type TestApp } from '../support/app';
import { exampleWorkflow } from '../support/comfyui-workflow';
import * as factory from '../support/factories';
import { gqlData, waitFor } from '../support/graphql';

// A model registered through the API runs on the worker that is already
// running (no restart), for each remote backend, with the sealed credential
// opened only where it is sent.
let app: TestApp;
let comfy: ComfyUiTestServer;
let hosted: OpenAiImagesTestServer;
let admin: factory.TestUser;
let editor: factory.TestUser;

const REGISTER = 'mutation($input: ModelInput!) { registerModel(input: $input) { id hasCredential } }';

beforeAll(async () => {
  comfy = await ComfyUiTestServer.start({ modelDir: path.join(inject('modelsDir'), 'atelier-tiny') });
  hosted = await OpenAiImagesTestServer.start({ modelDir: path.join(inject('modelsDir'), 'atelier-tiny') });
  app = await startTestApp();
  admin = await factory.user(app, { role: 'ADMIN' });
  editor = await factory.user(app, { tier: 'ENTERPRISE' });
});
afterAll(async () => {
  await app?.close();
  await comfy?.close();
  await hosted?.close();
});

async function generate(modelId: string, prompt: string): Promise<{ status: string; images: unknown[]; error: unknown }> {
  const { createGeneration } = await gqlData<any>(app.url, 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id } }',
    { input: { prompt, modelId, width: 64, height: 64, steps: 3, seed: 11 } }, editor.token);
  return waitFor(async () => {
    const { job } = await gqlData<any>(app.url, 'query($id: ID!) { job(id: $id) { status error { code message } images { id } } }', { id: createGeneration.id }, editor.token);
    return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status) ? job : null;
  }, 60_000);
}

describe('registered remote models', () => {
  it('a COMFYUI model registered live generates through the ComfyUI test server with the prompt substituted', async () => {
    const { registerModel } = await gqlData<any>(app.url, REGISTER,
      { input: { name: 'Comfy live', backend: 'COMFYUI', endpoints: [comfy.url], workflow: exampleWorkflow() } }, admin.token);
    const job = await generate(registerModel.id, 'a lighthouse registered live');
    expect(job).toMatchObject({ status: 'COMPLETED', error: null });
    expect(job.images).toHaveLength(1);
    expect(JSON.stringify(comfy.receivedPrompts.map((p) => p.body))).toContain('a lighthouse registered live');
  });

  it('an OPENAI_IMAGES model sends its sealed credential as the Bearer token', async () => {
    const { registerModel } = await gqlData<any>(app.url, REGISTER, {
      input: { name: 'Hosted live', backend: 'OPENAI_IMAGES', endpoints: [hosted.url], remoteModel: 'atelier-tiny', credential: hosted.apiKey },
    }, admin.token);
    expect(registerModel.hasCredential).toBe(true);
    const job = await generate(registerModel.id, 'a hosted fox');
    expect(job).toMatchObject({ status: 'COMPLETED', error: null });
    expect(hosted.receivedRequests.at(-1)).toMatchObject({ authorization: `Bearer ${hosted.apiKey}`, status: 200 });
    expect(hosted.receivedRequests.at(-1)?.body).toMatchObject({ model: 'atelier-tiny', prompt: 'a hosted fox' });
  });
});
