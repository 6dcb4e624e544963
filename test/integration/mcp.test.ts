import net from 'node:net';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, gqlData, signUp, waitFor } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { seedImages } from '../support/library';

const MAIN = path.join(__dirname, '../../dist/src/mcp/main.js');
const CLI = path.join(__dirname, '../../dist/src/cli/main.js');
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let app: TestApp;
let client: Client;
let token: string;

/** Spawns the built MCP server (as an MCP client config would) with an API key made through the API. */
async function connect(url: string, apiKey: string, args = [MAIN]): Promise<Client> {
  const mcp = new Client({ name: 'atelier-test', version: '1.0.0' });
  await mcp.connect(new StdioClientTransport({
    command: process.execPath,
    args,
    env: { PATH: process.env.PATH ?? '', ATELIER_URL: url, ATELIER_API_KEY: apiKey },
    stderr: 'inherit',
  }));
  return mcp;
}

/** A TCP proxy in front of the app whose connections a test can cut, as a restart or a network fault would. */
async function cuttableProxy(target: string): Promise<{ url: string; cut: () => void; close: () => Promise<void> }> {
  const { hostname, port } = new URL(target);
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    cut: () => {
      for (const socket of open) socket.destroy();
    },
    close: () => new Promise<void>((resolve) => {
      for (const socket of open) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

/** A user with an API key and an MCP client acting with it. */
async function keyedClient(prefix: string): Promise<{ id: string; token: string; mcp: Client }> {
  const user = await signUp(app.url, prefix);
  const { createApiKey } = await gqlData<any>(app.url, 'mutation($n:String!) { createApiKey(name:$n) { secret } }', { n: prefix }, user.token);
  return { ...user, mcp: await connect(app.url, createApiKey.secret) };
}

function textOf(result: Awaited<ReturnType<Client['callTool']>>): string {
  return (result.content as { type: string; text?: string }[]).filter((item) => item.type === 'text').map((item) => item.text).join('\n');
}

beforeAll(async () => {
  app = await startTestApp();
  ({ token } = await signUp(app.url, 'mcp'));
  const { createApiKey } = await gqlData<any>(app.url, 'mutation { createApiKey(name:"mcp") { secret } }', {}, token);
  client = await connect(app.url, createApiKey.secret);
}, 60_000);

afterAll(async () => {
  await client?.close();
  await app?.close();
});

describe('MCP server', () => {
  it('is also `atelier mcp` on the command line', async () => {
    const { createApiKey } = await gqlData<any>(app.url, 'mutation { createApiKey(name:"mcp-cli") { secret } }', {}, token);
    const viaCli = await connect(app.url, createApiKey.secret, [CLI, 'mcp']);
    try {
      expect((await viaCli.listTools()).tools.map((tool) => tool.name)).toContain('generate_image');
    } finally {
      await viaCli.close();
    }
  });

  it('lists its tools', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(
      ['apply_preset', 'generate_image', 'get_job', 'list_favorites', 'list_history', 'suggest_prompts'],
    );
  });

  it('generates an image with progress notifications, then get_job, list_history and list_favorites see it', async () => {
    const progress: Progress[] = [];
    const result = await client.callTool(
      { name: 'generate_image', arguments: { prompt: 'a lighthouse at dusk', steps: 4, seed: 7, width: 64, height: 64 } },
      undefined,
      { onprogress: (update) => progress.push(update), timeout: 120_000, resetTimeoutOnProgress: true },
    );
    expect(result.isError).toBeFalsy();
    const content = result.content as { type: string; data?: string; mimeType?: string; text?: string }[];
    const image = content.find((item) => item.type === 'image');
    expect(image?.mimeType).toBe('image/png');
    expect(Buffer.from(image!.data!, 'base64').subarray(0, 8)).toEqual(PNG_SIGNATURE);
    const summary = JSON.parse(content[0].text!);
    expect(content.some((item) => item.type === 'text' && item.text === summary.images[0].url)).toBe(true);

    expect(progress.at(-1)).toMatchObject({ progress: 4, total: 4 });
    const values = progress.map((update) => update.progress);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(new Set(values).size).toBe(values.length);
    expect(values.length).toBeGreaterThanOrEqual(3);

    const job = await client.callTool({ name: 'get_job', arguments: { id: summary.jobId } });
    expect(job.structuredContent).toMatchObject({ job: { id: summary.jobId, status: 'COMPLETED', seed: 7, steps: 4 } });

    const history = await client.callTool({ name: 'list_history', arguments: { first: 5 } });
    expect((history.structuredContent as any).jobs.edges.map((edge: any) => edge.node.id)).toContain(summary.jobId);

    await gqlData(app.url, 'mutation($i:ID!){ favoriteImage(imageId:$i){ id } }', { i: summary.images[0].id }, token);
    const favorites = await client.callTool({ name: 'list_favorites', arguments: {} });
    expect((favorites.structuredContent as any).favorites.edges.map((edge: any) => edge.node.id)).toEqual([summary.images[0].id]);
  }, 120_000);

  it('answers bad input with a tool error carrying the GraphQL code and field', async () => {
    const jobCount = async () => ((await client.callTool({ name: 'list_history', arguments: {} })).structuredContent as any).jobs.edges.length;
    const before = await jobCount();
    const result = await client.callTool({ name: 'generate_image', arguments: { prompt: 'x', steps: 0 } });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toMatchObject({ error: { code: 'BAD_USER_INPUT', field: 'steps' } });
    expect(textOf(result)).toMatch(/^BAD_USER_INPUT \(field: steps\): /);
    expect(await jobCount()).toBe(before);
  });

  it('applies a preset and suggests prompts', async () => {
    const { presets } = await gqlData<any>(app.url, '{ presets(category: IMAGE) { id name } }', {}, token);
    const applied = await client.callTool({ name: 'apply_preset', arguments: { presetId: presets[0].id, prompt: 'a fox' } });
    expect(applied.structuredContent).toMatchObject({ applyPreset: { preset: { id: presets[0].id } } });
    expect((applied.structuredContent as any).applyPreset.prompt).toContain('a fox');

    const random = await client.callTool({ name: 'suggest_prompts', arguments: { limit: 3 } });
    expect((random.structuredContent as any).randomPrompts).toHaveLength(3);
    const typed = await client.callTool({ name: 'suggest_prompts', arguments: { query: 'oil', limit: 5 } });
    expect((typed.structuredContent as any).suggestions.length).toBeGreaterThan(0);
  });

  it('refuses a wrong API key with the API\'s code', async () => {
    const stranger = await connect(app.url, 'atl_not-a-real-key');
    try {
      const result = await stranger.callTool({ name: 'list_history', arguments: {} });
      expect(result.isError).toBe(true);
      expect((result.structuredContent as any).error.code).toBe('UNAUTHENTICATED');
    } finally {
      await stranger.close();
    }
  });

  it('names the tool\'s own inputs in its errors, not the GraphQL arguments behind them', async () => {
    const preset = await client.callTool({ name: 'apply_preset', arguments: { presetId: 'bad', prompt: 'a fox' } });
    expect(preset.isError).toBe(true);
    expect(preset.structuredContent).toMatchObject({ error: { code: 'BAD_USER_INPUT', field: 'presetId' } });
    expect(textOf(preset)).toMatch(/^BAD_USER_INPUT \(field: presetId\): /);
    const random = await client.callTool({ name: 'suggest_prompts', arguments: { limit: 0 } });
    expect(random.structuredContent).toMatchObject({ error: { code: 'BAD_USER_INPUT', field: 'limit' } });
    expect((random.structuredContent as any).error.message).toMatch(/^limit must be/);
    expect(textOf(random)).not.toMatch(/count/);
  });

  it('generate_image resumes its live events after the connection drops: one job, its image returned', async () => {
    const { token: owner } = await signUp(app.url, 'mcp-drop');
    const { createApiKey } = await gqlData<any>(app.url, 'mutation { createApiKey(name:"mcp-drop") { secret } }', {}, owner);
    const proxy = await cuttableProxy(app.url);
    const mcp = await connect(proxy.url, createApiKey.secret);
    await app.worker!.bullWorker.pause();
    try {
      let cut = false;
      const result = await mcp.callTool(
        { name: 'generate_image', arguments: { prompt: 'through a dropped connection', steps: 4, width: 64, height: 64 } },
        undefined,
        {
          timeout: 60_000,
          // At the first notification (queued) the stream is open: cut every connection, then let the job run.
          onprogress: () => {
            if (cut) return;
            cut = true;
            proxy.cut();
            app.worker!.bullWorker.resume();
          },
        },
      );
      expect(cut).toBe(true);
      expect(result.isError, textOf(result)).toBeFalsy();
      const summary = JSON.parse((result.content as { text: string }[])[0].text);
      const { jobs } = await gqlData<any>(app.url, '{ jobs(first: 10) { edges { node { id status } } } }', {}, owner);
      expect(jobs.edges.map((edge: any) => edge.node)).toEqual([{ id: summary.jobId, status: 'COMPLETED' }]);
    } finally {
      app.worker!.bullWorker.resume();
      await mcp.close();
      await proxy.close();
    }
  }, 60_000);

  it('cancels the job when the client cancels generate_image', async () => {
    const { token: owner } = await signUp(app.url, 'mcp-cancel');
    const { createApiKey } = await gqlData<any>(app.url, 'mutation { createApiKey(name:"mcp-cancel") { secret } }', {}, owner);
    const mcp = await connect(app.url, createApiKey.secret);
    await app.worker!.bullWorker.pause();
    try {
      const abort = new AbortController();
      const call = mcp.callTool(
        { name: 'generate_image', arguments: { prompt: 'abandoned', steps: 4, width: 64, height: 64 } },
        undefined,
        { signal: abort.signal, onprogress: () => abort.abort() },
      );
      await expect(call).rejects.toThrow();
      const jobs = async () => (await gqlData<any>(app.url, '{ jobs(first: 10) { edges { node { id status } } } }', {}, owner)).jobs.edges;
      const [cancelled] = await waitFor(async () => {
        const edges = await jobs();
        return edges.length === 1 && edges[0].node.status === 'CANCELLED' && edges;
      }, 10_000);
      app.worker!.bullWorker.resume();
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await jobs()).map((edge: any) => edge.node)).toEqual([{ id: cancelled.node.id, status: 'CANCELLED' }]);
    } finally {
      app.worker!.bullWorker.resume();
      await mcp.close();
    }
  }, 60_000);
  it('generate_image with a VIDEO preset returns the clip: its poster, the MP4\'s signed URL and a link to it', async () => {
    const admin = await factory.user(app, { role: 'ADMIN', prefix: 'mcp-admin' });
    await gqlData(app.url, 'mutation { updateTierPolicy(tier: FREE, input: { maxVideoSide: 64 }) { maxVideoSide } }', {}, admin.token);
    const { token: owner, mcp } = await keyedClient('mcp-video');
    try {
      // 1 s at 4 fps, 64², one step: quick on a CPU.
      const { createPreset } = await gqlData<any>(app.url, 'mutation($i: PresetInput!) { createPreset(input: $i) { id } }', {
        i: { name: 'mcp clip', category: 'VIDEO', template: '{prompt}', durationSeconds: 1, fps: 4, width: 64, height: 64, steps: 1 },
      }, owner);
      const progress: Progress[] = [];
      const result = await mcp.callTool(
        { name: 'generate_image', arguments: { prompt: 'a whale', presetId: createPreset.id } },
        undefined,
        { onprogress: (update) => progress.push(update), timeout: 120_000, resetTimeoutOnProgress: true },
      );
      expect(result.isError, textOf(result)).toBeFalsy();
      const content = result.content as { type: string; data?: string; mimeType?: string; text?: string; uri?: string }[];
      const summary = JSON.parse(content[0].text!);
      expect(summary).toMatchObject({ kind: 'VIDEO', images: [], video: { mimeType: 'video/mp4', durationSeconds: 1, fps: 4, frames: 4, width: 64, height: 64 } });
      const poster = content.find((item) => item.type === 'image');
      expect(Buffer.from(poster!.data!, 'base64').subarray(0, 8)).toEqual(PNG_SIGNATURE);
      expect(content.some((item) => item.type === 'text' && item.text === summary.video.url)).toBe(true);
      expect(content.find((item) => item.type === 'resource_link')).toMatchObject({ uri: summary.video.url, mimeType: 'video/mp4' });
      const mp4 = await fetch(summary.video.url);
      expect(mp4.headers.get('content-type')).toBe('video/mp4');
      expect((await mp4.arrayBuffer()).byteLength).toBe(summary.video.bytes);
      expect(progress.at(-1)).toMatchObject({ progress: 4, total: 4, message: 'frame 4/4' });
      const job = await mcp.callTool({ name: 'get_job', arguments: { id: summary.jobId } });
      expect(job.structuredContent).toMatchObject({ job: { kind: 'VIDEO', status: 'COMPLETED', video: { url: expect.any(String) } } });
    } finally {
      await mcp.close();
    }
  }, 120_000);

  it('get_job answers an id it cannot find with a NOT_FOUND tool error (unknown, or someone else\'s), a malformed or empty one with BAD_USER_INPUT', async () => {
    const { token: other, mcp } = await keyedClient('mcp-other');
    try {
      const { createGeneration } = await gqlData<any>(app.url, 'mutation { createGeneration(input: { prompt: "theirs", steps: 1, width: 64, height: 64 }) { id } }', {}, other);
      for (const id of ['nope', '']) {
        const result = await client.callTool({ name: 'get_job', arguments: { id } });
        expect(result.isError, id).toBe(true);
        expect(result.structuredContent, id).toMatchObject({ error: { code: 'BAD_USER_INPUT', field: 'id' } });
      }
      for (const id of ['00000000-0000-4000-8000-000000000000', createGeneration.id]) {
        const result = await client.callTool({ name: 'get_job', arguments: { id } });
        expect(result.isError, id).toBe(true);
        expect(result.structuredContent, id).toMatchObject({ error: { code: 'NOT_FOUND', field: 'id' } });
        expect(textOf(result)).toMatch(/^NOT_FOUND \(field: id\): Job not found: /);
      }
      // Someone else's job reads exactly as one that does not exist.
      const unknown = textOf(await client.callTool({ name: 'get_job', arguments: { id: '00000000-0000-4000-8000-000000000000' } }));
      const theirs = textOf(await client.callTool({ name: 'get_job', arguments: { id: createGeneration.id } }));
      expect(theirs.replace(createGeneration.id, '<id>')).toBe(unknown.replace('00000000-0000-4000-8000-000000000000', '<id>'));
      // Their own key sees it.
      expect((await mcp.callTool({ name: 'get_job', arguments: { id: createGeneration.id } })).structuredContent).toMatchObject({ job: { id: createGeneration.id } });
    } finally {
      await mcp.close();
    }
  });

  it('list_history gives any first in its advertised 1..100 within a FREE key\'s query budget, and a refusal names first', async () => {
    const { tools } = await client.listTools();
    const first = (tools.find((tool) => tool.name === 'list_history')!.inputSchema.properties as any).first;
    expect(first.description).toMatch(/\b1\.\.100\b/);
    const admin = await factory.user(app, { role: 'ADMIN', prefix: 'mcp-budget' });
    const { id, token: owner, mcp } = await keyedClient('mcp-history');
    try {
      await seedImages(app.db, id, 60);
      const { jobs } = await gqlData<any>(app.url, '{ jobs(first: 100) { edges { node { id } } } }', {}, owner);
      const expected = jobs.edges.map((edge: any) => edge.node.id);
      expect(expected).toHaveLength(60);
      const ids = (result: Awaited<ReturnType<Client['callTool']>>) => (result.structuredContent as any).jobs.edges.map((edge: any) => edge.node.id);

      const all = await mcp.callTool({ name: 'list_history', arguments: { first: 100 } });
      expect(all.isError, textOf(all)).toBeFalsy();
      expect(ids(all)).toEqual(expected);
      expect((all.structuredContent as any).jobs.pageInfo.hasNextPage).toBe(false);
      const head = await mcp.callTool({ name: 'list_history', arguments: { first: 54 } });
      expect(head.isError, textOf(head)).toBeFalsy();
      expect(ids(head)).toEqual(expected.slice(0, 54));
      const { pageInfo } = (head.structuredContent as any).jobs;
      expect(pageInfo.hasNextPage).toBe(true);
      const tail = await mcp.callTool({ name: 'list_history', arguments: { first: 100, after: pageInfo.endCursor } });
      expect(ids(tail)).toEqual(expected.slice(54));

      // Out of range: BAD_USER_INPUT on first, as the API answers jobs(first: 101).
      const tooMany = await mcp.callTool({ name: 'list_history', arguments: { first: 101 } });
      expect(tooMany.structuredContent).toMatchObject({ error: { code: 'BAD_USER_INPUT', field: 'first', message: 'first must be from 1 to 100' } });
      const none = await mcp.callTool({ name: 'list_history', arguments: { first: 0 } });
      expect(none.structuredContent).toEqual(tooMany.structuredContent);
      expect((await gql(app.url, '{ jobs(first: 0) { edges { cursor } } }', {}, owner)).errors?.[0]).toMatchObject({ message: 'first must be from 1 to 100', extensions: { field: 'first' } });

      // A tier whose budget an admin lowered: smaller requests while one job fits, then QUERY_TOO_COMPLEX naming first.
      await factory.updateUser(app, id, { tier: 'PRO' });
      const budget = (value: number) => gqlData(app.url, 'mutation($v:Int!) { updateTierPolicy(tier: PRO, input: { maxQueryComplexity: $v }) { tier } }', { v: value }, admin.token);
      try {
        await budget(250);
        const small = await mcp.callTool({ name: 'list_history', arguments: { first: 5 } });
        expect(small.isError, textOf(small)).toBeFalsy();
        expect(ids(small)).toEqual(expected.slice(0, 5));
        await budget(50);
        const refused = await mcp.callTool({ name: 'list_history', arguments: { first: 5 } });
        expect(refused.isError).toBe(true);
        expect(refused.structuredContent).toMatchObject({ error: { code: 'QUERY_TOO_COMPLEX', field: 'first' } });
        expect(textOf(refused)).toMatch(/^QUERY_TOO_COMPLEX \(field: first\): /);
      } finally {
        await budget(10_000);
      }
    } finally {
      await mcp.close();
    }
  }, 60_000);

  it('says why Atelier cannot be reached (the connection refused, at which address), not just "fetch failed"', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as net.AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const unreachable = await connect(`http://127.0.0.1:${port}`, 'atl_not-a-real-key');
    try {
      const result = await unreachable.callTool({ name: 'list_history', arguments: {} });
      expect(result.isError).toBe(true);
      expect((result.structuredContent as any).error.code).toBe('SERVICE_UNAVAILABLE');
      expect(textOf(result)).toContain(`Cannot reach Atelier at http://127.0.0.1:${port} (ECONNREFUSED 127.0.0.1:${port})`);
    } finally {
      await unreachable.close();
    }
  }, 30_000);
});
