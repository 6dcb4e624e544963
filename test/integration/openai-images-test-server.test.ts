import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { OpenAiImagesTestServer } from '../../scripts/test-servers/openai-images/server';

/* The OpenAI-Images-compatible test server, driven with fetch as an OpenAI client would. */

let server: OpenAiImagesTestServer;

beforeAll(async () => {
  server = await OpenAiImagesTestServer.start({ modelDir: path.join(inject('modelsDir'), 'atelier-tiny'), steps: 2 });
});
afterAll(async () => server?.close());

async function generate(body: Record<string, unknown>, key: string | null = server.apiKey): Promise<{ status: number; json: any }> {
  const res = await fetch(`${server.url}/v1/images/generations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === null ? {} : { authorization: `Bearer ${key}` }) },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

describe('OpenAI Images test server', () => {
  it('generates n PNGs as b64_json, depending on prompt and seed', async () => {
    const { status, json } = await generate({ model: 'atelier-tiny', prompt: 'a red fox', n: 2, size: '64x64', response_format: 'b64_json', seed: 5 });
    expect(status).toBe(200);
    expect(json).toEqual({ created: expect.any(Number), data: [{ b64_json: expect.any(String), revised_prompt: 'a red fox' }, { b64_json: expect.any(String), revised_prompt: 'a red fox' }] });
    const [first, second] = json.data.map((d: { b64_json: string }) => Buffer.from(d.b64_json, 'base64'));
    expect(first.subarray(0, 4)).toEqual(PNG);
    expect(first.equals(second)).toBe(false);
    const again = await generate({ prompt: 'a red fox', size: '64x64', response_format: 'b64_json', seed: 5 });
    expect(Buffer.from(again.json.data[0].b64_json, 'base64').equals(first)).toBe(true);
    const other = await generate({ prompt: 'a blue whale', size: '64x64', response_format: 'b64_json', seed: 5 });
    expect(Buffer.from(other.json.data[0].b64_json, 'base64').equals(first)).toBe(false);
  });

  it('answers url responses with a fetchable image', async () => {
    const { json } = await generate({ prompt: 'a lighthouse', size: '64x64' });
    const image = await fetch(json.data[0].url);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await image.arrayBuffer()).subarray(0, 4)).toEqual(PNG);
  });

  it('refuses a missing or wrong key with 401 in OpenAI\'s error shape', async () => {
    const none = await generate({ prompt: 'x', size: '64x64' }, null);
    expect(none.status).toBe(401);
    expect(none.json).toEqual({ error: { message: expect.stringContaining("You didn't provide an API key"), type: 'invalid_request_error', param: null, code: null } });
    const wrong = await generate({ prompt: 'x', size: '64x64' }, 'sk-wrong-key-1234');
    expect(wrong.status).toBe(401);
    expect(wrong.json.error).toMatchObject({ type: 'invalid_request_error', param: null, code: 'invalid_api_key', message: expect.stringContaining('Incorrect API key provided: sk-***1234') });
  });

  it('refuses bad parameters with 400 and the param, and an unknown model with 404', async () => {
    expect((await generate({ size: '64x64' })).json.error).toMatchObject({ param: 'prompt', code: 'missing_required_parameter' });
    expect((await generate({ prompt: 'x', size: 'huge' })).json.error).toMatchObject({ param: 'size', type: 'invalid_request_error' });
    expect((await generate({ prompt: 'x', n: 11 })).json.error).toMatchObject({ param: 'n' });
    expect((await generate({ prompt: 'x', size: '64x64', response_format: 'webp' })).json.error).toMatchObject({ param: 'response_format' });
    const model = await generate({ prompt: 'x', model: 'dall-e-9' });
    expect(model.status).toBe(404);
    expect(model.json.error.code).toBe('model_not_found');
  });

  it('fails once on request, is killed and restarted on the same port', async () => {
    server.failNext(503);
    const failed = await generate({ prompt: 'x', size: '64x64' });
    expect(failed.status).toBe(503);
    expect(failed.json.error.type).toBe('server_error');
    const url = server.url;
    await server.kill();
    await expect(generate({ prompt: 'x', size: '64x64' })).rejects.toThrow();
    await server.start();
    expect(server.url).toBe(url);
    expect((await generate({ prompt: 'x', size: '64x64', response_format: 'b64_json' })).status).toBe(200);
    expect(server.receivedRequests.at(-1)).toMatchObject({ body: { prompt: 'x' }, authorization: `Bearer ${server.apiKey}`, status: 200 });
  });

  it('answers one generation with an injected 200 body, then as the API again', async () => {
    server.answerNext('null');
    const injected = await fetch(`${server.url}/v1/images/generations`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${server.apiKey}` }, body: JSON.stringify({ prompt: 'x', size: '64x64' }),
    });
    expect({ status: injected.status, type: injected.headers.get('content-type'), body: await injected.text() }).toEqual({ status: 200, type: 'application/json; charset=utf-8', body: 'null' });
    expect((await generate({ prompt: 'x', size: '64x64', response_format: 'b64_json' })).json.data).toHaveLength(1);
  });

  it('answers at most maxImages images whatever n asks, as servers that cap n do', async () => {
    const capped = await OpenAiImagesTestServer.start({ modelDir: path.join(inject('modelsDir'), 'atelier-tiny'), steps: 2, maxImages: 1 });
    try {
      const res = await fetch(`${capped.url}/v1/images/generations`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${capped.apiKey}` }, body: JSON.stringify({ prompt: 'x', n: 3, size: '64x64', response_format: 'b64_json' }),
      });
      expect(((await res.json()) as { data: unknown[] }).data).toHaveLength(1);
    } finally {
      await capped.close();
    }
  });
});
