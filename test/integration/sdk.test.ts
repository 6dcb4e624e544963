import net from 'node:net';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtelierError, createAtelierClient, isFinalBatchEvent, type AtelierClient, type BatchEvent, type JobEvent } from '../../sdk/src';
import { gqlData, signUp } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { paletteDataset } from '../support/training';

// The SDK (sdk/) against a live Atelier, over real HTTP and graphql-ws.
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const SMALL = { steps: 4, width: 64, height: 64 };
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

/** A `ws` WebSocket that remembers every socket opened, so a test can cut one. */
const sockets: WebSocket[] = [];
class TrackedWebSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args);
    sockets.push(this);
  }
}

let app: TestApp;
let sdk: AtelierClient;
let token: string;

async function apiKey(userToken: string): Promise<string> {
  const { createApiKey } = await gqlData<any>(app.url, 'mutation { createApiKey(name:"sdk") { secret } }', {}, userToken);
  return createApiKey.secret;
}

/**
 * A VIDEO preset of `owner`'s making (1 s at 4 fps, 64², one step: quick on a CPU),
 * with the FREE tier's largest video side lowered to 64 by `adminToken`.
 */
async function videoPreset(adminToken: string, owner: string): Promise<string> {
  await gqlData(app.url, 'mutation { updateTierPolicy(tier: FREE, input: { maxVideoSide: 64 }) { maxVideoSide } }', {}, adminToken);
  const { createPreset } = await gqlData<any>(app.url, 'mutation($i: PresetInput!) { createPreset(input: $i) { id } }', {
    i: { name: `clip ${Date.now()}`, category: 'VIDEO', template: '{prompt}', durationSeconds: 1, fps: 4, width: 64, height: 64, steps: 1 },
  }, owner);
  return createPreset.id;
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

beforeAll(async () => {
  app = await startTestApp();
  ({ token } = await signUp(app.url, 'sdk'));
  sdk = createAtelierClient({ url: app.url, apiKey: await apiKey(token), webSocketImpl: TrackedWebSocket });
}, 60_000);

afterAll(async () => {
  await sdk?.close();
  await app?.close();
});

describe('the TypeScript SDK', () => {
  it('generates with typed events, waits for the job and downloads a PNG', async () => {
    const { job, events } = await sdk.generate({ prompt: 'a lighthouse at dusk', seed: 7, ...SMALL });
    expect(job).toMatchObject({ status: 'PENDING', seed: 7, steps: 4 });
    const seen = await all(events);
    expect(seen[0]!.type).toBe('QUEUED');
    expect(seen.at(-1)!.type).toBe('COMPLETED');
    expect(seen.filter((event) => event.type === 'PROGRESS').map((event) => event.step)).toEqual([1, 2, 3, 4]);

    const done = await sdk.waitForJob(job.id);
    expect(done.status).toBe('COMPLETED');
    expect(done.images).toHaveLength(1);
    const bytes = await sdk.download(done.images[0]!);
    expect([...bytes.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(bytes.length).toBe(done.images[0]!.bytes);
  });

  it('watches jobs one after another over one socket, closed once idle for socketIdleMs', async () => {
    // The default idle time (1 s): far more than the two HTTP calls between one job's end and the next subscription.
    const quick = createAtelierClient({ url: app.url, apiKey: await apiKey(token), webSocketImpl: TrackedWebSocket });
    const opened = sockets.length;
    for (const seed of [1, 2, 3]) {
      const { job } = await quick.generate({ prompt: 'one after another', seed, ...SMALL });
      expect((await quick.waitForJob(job.id)).status).toBe('COMPLETED');
    }
    expect(sockets.length).toBe(opened + 1);
    const socket = sockets.at(-1)!;
    expect(socket.readyState).toBe(WebSocket.OPEN);
    await new Promise((resolve) => socket.once('close', resolve));
    // Nothing was left to close: the idle timeout did it.
    await quick.close();
  });

  it('resumes after the socket drops mid-job with `after`: no event lost, none twice', async () => {
    // The job waits until its stream is open, and renders at 512² (a few ms a step), so the socket is cut while
    // steps still come: a 64² job could finish before the first PROGRESS reached the loop, and nothing would resume.
    await app.worker!.bullWorker.pause();
    const { job } = await sdk.generate({ prompt: 'a storm over the sea', seed: 11, steps: 12, width: 512, height: 512 });
    // The stream below opens the socket it is cut from (the last test's may still be open, idle).
    await sdk.close();
    const opened = sockets.length;
    const seen: JobEvent[] = [];
    for await (const event of sdk.jobEvents(job.id, { reconnectDelayMs: 10 })) {
      seen.push(event);
      if (event.type === 'QUEUED') app.worker!.bullWorker.resume();
      // Cut the connection under the stream once, at the first step.
      if (event.type === 'PROGRESS' && sockets.length === opened + 1) sockets.at(-1)!.terminate();
    }
    expect(sockets.length).toBe(opened + 2);
    const ids = seen.map((event) => event.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(seen.at(-1)!.type).toBe('COMPLETED');
    // The full log, read afresh, is exactly what the interrupted stream delivered.
    const replay = await all(sdk.jobEvents(job.id));
    expect(ids).toEqual(replay.map((event) => event.eventId));
    expect(seen.filter((event) => event.type === 'PROGRESS').map((event) => event.step)).toEqual([...Array(12).keys()].map((i) => i + 1));
  });

  it('follows a session\'s events live and resumes them after a dropped socket', async () => {
    const session = await sdk.sessions.create('Live');
    const feed = sdk.sessions.events(session.id, { reconnectDelayMs: 10 });
    // The feed announces our presence first: from then on it is live.
    expect((await feed.next()).value).toMatchObject({ type: 'PRESENCE', sessionId: session.id });
    const opened = sockets.length;
    // As above: the job waits until the feed has seen it queued, and renders at 512², so the socket is cut
    // while steps still come (a 64² job's events can all arrive before the loop reads the first one).
    await app.worker!.bullWorker.pause();
    const { job } = await sdk.generate({ prompt: 'watched', sessionId: session.id, steps: 8, width: 512, height: 512 });
    const seen: string[] = [];
    const ids: string[] = [];
    for await (const event of feed) {
      ids.push(event.eventId);
      if (event.jobId !== job.id) continue;
      if (event.type === 'QUEUED') app.worker!.bullWorker.resume();
      seen.push(event.type === 'PROGRESS' ? `${event.type} ${event.step}` : event.type);
      if (event.type === 'PROGRESS' && sockets.length === opened) sockets.at(-1)!.terminate();
      if (event.type === 'COMPLETED') break;
    }
    expect(sockets.length).toBe(opened + 1);
    expect(new Set(ids).size).toBe(ids.length);
    expect(seen.filter((type) => type.startsWith('PROGRESS'))).toEqual([...Array(8).keys()].map((i) => `PROGRESS ${i + 1}`));
    expect(seen.at(-1)).toBe('COMPLETED');
  });

  it('starts a session\'s feed from where the session stood as it began: a job queued meanwhile is not missed', async () => {
    const session = await sdk.sessions.create('Read first');
    await app.worker!.bullWorker.pause();
    // The feed reads the session's position first; its answer is held until a job was queued in the session,
    // so that job came after the read and before the subscription.
    let queuedId: string | null = null;
    const held: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!queuedId && String(init?.body).includes('SdkSessionPosition')) {
        queuedId = (await sdk.generate({ prompt: 'between the read and the feed', sessionId: session.id, ...SMALL })).job.id;
      }
      return response;
    };
    const reader = createAtelierClient({ url: app.url, apiKey: await apiKey(token), webSocketImpl: TrackedWebSocket, fetch: held });
    try {
      const feed = reader.sessions.events(session.id);
      // Before, the feed started live when it subscribed: the job's QUEUED, published before, never came.
      const first = (await feed.next()).value;
      expect(first).toMatchObject({ type: 'QUEUED', jobId: queuedId, sessionId: session.id });
      await feed.return(undefined);
    } finally {
      app.worker!.bullWorker.resume();
      await reader.close();
    }
  });

  it('submits a batch, follows its events to the final counts across a dropped socket, and lists its jobs', async () => {
    await app.worker!.bullWorker.pause();
    const key = `batch-${Date.now()}`;
    const batch = await sdk.batches.create({ prompts: ['a red fox', 'a blue whale'], steps: 12, width: 512, height: 512 }, { idempotencyKey: key });
    expect(batch).toMatchObject({ status: 'RUNNING', total: 2, completed: 0, kind: 'PROMPTS' });
    // The same key and input: the same batch, not a second one.
    expect((await sdk.batches.create({ prompts: ['a red fox', 'a blue whale'], steps: 12, width: 512, height: 512 }, { idempotencyKey: key })).id).toBe(batch.id);
    await sdk.close();
    const opened = sockets.length;
    const seen: BatchEvent[] = [];
    for await (const event of sdk.batches.events(batch.id, { reconnectDelayMs: 10 })) {
      seen.push(event);
      if (seen.length === 1) app.worker!.bullWorker.resume();
      if (event.type === 'PROGRESS' && sockets.length === opened + 1) sockets.at(-1)!.terminate();
    }
    expect(sockets.length).toBe(opened + 2);
    const ids = seen.map((event) => event.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(isFinalBatchEvent(seen.at(-1)!)).toBe(true);
    expect(seen.at(-1)!.counts).toMatchObject({ total: 2, completed: 2, status: 'COMPLETED' });
    // The whole log, read afresh, is what the interrupted stream delivered; resumed after its middle, the rest.
    const replay = await all(sdk.batches.events(batch.id));
    expect(ids).toEqual(replay.map((event) => event.eventId));
    const middle = Math.floor(ids.length / 2);
    expect((await all(sdk.batches.events(batch.id, { after: ids[middle] }))).map((event) => event.eventId)).toEqual(ids.slice(middle + 1));

    expect(await sdk.batches.wait(batch.id)).toMatchObject({ id: batch.id, status: 'COMPLETED', completed: 2, progress: 1 });
    const jobs = await all(sdk.batches.jobs(batch.id, { pageSize: 1 }));
    expect(jobs.map((job) => [job.prompt, job.status, job.images.length])).toEqual([['a red fox', 'COMPLETED', 1], ['a blue whale', 'COMPLETED', 1]]);
    expect(await sdk.batches.get(UNKNOWN_ID)).toBeNull();
  });

  it('starts a training run, follows it to its LoRA, and resumes its events after one of them', async () => {
    const pro = await factory.user(app, { tier: 'PRO' });
    const trainer = createAtelierClient({ url: app.url, apiKey: await apiKey(pro.token), webSocketImpl: TrackedWebSocket });
    try {
      const datasetId = await paletteDataset(app.url, pro.token, { name: 'sdk', rgb: [30, 120, 200], caption: 'a blue texture' });
      const run = await trainer.training.start({ datasetId, loraName: 'sdk-blue', steps: 30, saveEvery: 10, seed: 3 });
      expect(run).toMatchObject({ status: 'QUEUED', loraName: 'sdk-blue', totalSteps: 30, lora: null });
      const events = await all(trainer.training.events(run.id));
      expect(events[0]!.type).toBe('QUEUED');
      expect(events.filter((e) => e.type === 'CHECKPOINT').map((e) => e.step)).toEqual([10, 20, 30]);
      const done = events.at(-1)!;
      expect(done).toMatchObject({ type: 'COMPLETED', step: 30 });
      const finished = await trainer.training.wait(run.id);
      expect(finished).toMatchObject({ status: 'COMPLETED', step: 30, lora: { id: done.loraId, name: 'sdk-blue', version: 1 } });
      const middle = Math.floor(events.length / 2);
      const rest = await all(trainer.training.events(run.id, { after: events[middle]!.eventId }));
      expect(rest.map((e) => e.eventId)).toEqual(events.slice(middle + 1).map((e) => e.eventId));
      expect(await trainer.training.get(UNKNOWN_ID)).toBeNull();
      // Another user's run is not theirs to see.
      expect(await sdk.training.get(run.id)).toBeNull();
    } finally {
      await trainer.close();
    }
  });

  it('pages through jobs newest first', async () => {
    for (const seed of [1, 2, 3]) await sdk.waitForJob((await sdk.generate({ prompt: `paging ${seed}`, seed, ...SMALL })).job.id);
    const jobs = await all(sdk.jobs({}, { pageSize: 2 }));
    expect(jobs.length).toBeGreaterThanOrEqual(5);
    expect(jobs.slice(0, 3).map((job) => job.prompt)).toEqual(['paging 3', 'paging 2', 'paging 1']);
    expect(new Set(jobs.map((job) => job.id)).size).toBe(jobs.length);
  });

  it('creates a session and an album and files images into it', async () => {
    const session = await sdk.sessions.create('Moodboard');
    expect(session).toMatchObject({ name: 'Moodboard', myRole: 'OWNER' });
    expect((await sdk.sessions.list()).map((item) => item.id)).toContain(session.id);
    const { job } = await sdk.generate({ prompt: 'in a session', sessionId: session.id, ...SMALL });
    const done = await sdk.waitForJob(job.id);
    expect((await all(sdk.sessions.jobs(session.id))).map((item) => item.id)).toEqual([job.id]);

    const album = await sdk.albums.create('Best of', 'keepers');
    await sdk.albums.addImages(album.id, done.images.map((image) => image.id));
    expect((await sdk.albums.get(album.id))!.imageCount).toBe(1);
    expect((await all(sdk.albums.images(album.id))).map((image) => image.id)).toEqual([done.images[0]!.id]);
    expect((await all(sdk.albums.list())).map((item) => item.id)).toContain(album.id);
    expect(await sdk.albums.delete(album.id)).toBe(true);
  });

  it('throws AtelierError carrying the code and field', async () => {
    const error = await sdk.generate({ prompt: 'x', steps: 0 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AtelierError);
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'steps' });

    const stranger = createAtelierClient({ url: app.url, apiKey: 'atl_not_a_key', webSocketImpl: TrackedWebSocket });
    await expect(stranger.me()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const other = createAtelierClient({ url: app.url, apiKey: await apiKey((await signUp(app.url, 'sdk-other')).token), webSocketImpl: TrackedWebSocket });
    const { job } = await sdk.generate({ prompt: 'mine', ...SMALL });
    // Someone else's job, and one that does not exist, are both NOT_FOUND, as job() reads null and cancelJob() refuses.
    await expect(all(other.jobEvents(job.id))).rejects.toMatchObject({ name: 'AtelierError', code: 'NOT_FOUND', message: 'Job not found' });
    await expect(other.waitForJob(job.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(all(sdk.jobEvents(UNKNOWN_ID))).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'Job not found' });
    await expect(sdk.cancelJob(UNKNOWN_ID)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const session = await sdk.sessions.create('not theirs');
    await expect(all(other.sessions.events(session.id))).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'Session not found' });
    await expect(all(sdk.sessions.events(UNKNOWN_ID))).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'Session not found' });
    await expect(all(sdk.jobEvents(job.id, { after: 'not-an-event-id' }))).rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    await other.close();
  });

  it('throws UNAUTHENTICATED at once, without reconnecting, when the server refuses the live connection', async () => {
    const { job } = await sdk.generate({ prompt: 'refused', ...SMALL });
    const stranger = createAtelierClient({ url: app.url, apiKey: 'atl_not_a_key', webSocketImpl: TrackedWebSocket });
    const started = Date.now();
    // Refused at connect (4403): not a dropped connection, so no 8 s of reconnects ending in NETWORK.
    await expect(stranger.waitForJob(job.id)).rejects.toMatchObject({ name: 'AtelierError', code: 'UNAUTHENTICATED' });
    await expect(all(stranger.jobEvents(job.id))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(all(stranger.sessions.events('00000000-0000-4000-8000-000000000000'))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(Date.now() - started).toBeLessThan(3000);
    await stranger.close();
    await sdk.waitForJob(job.id);

    // A key revoked while its socket is open: the server closes it, and the stream ends UNAUTHENTICATED.
    const { token: ownerToken } = await signUp(app.url, 'sdk-revoked');
    const { createApiKey } = await gqlData<any>(app.url, 'mutation { createApiKey(name:"doomed") { secret apiKey { id } } }', {}, ownerToken);
    const doomed = createAtelierClient({ url: app.url, apiKey: createApiKey.secret, webSocketImpl: TrackedWebSocket });
    const session = await doomed.sessions.create('revoked');
    const events = all(doomed.sessions.events(session.id));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const revokedAt = Date.now();
    await gqlData(app.url, 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: createApiKey.apiKey.id }, ownerToken);
    await expect(events).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(Date.now() - revokedAt).toBeLessThan(3000);
    await doomed.close();
  });

  it.each(['notaurl', 'localhost:4100', 'mailto:x@y', 'ftp://localhost:4100', 'ws://localhost:4100'])(
    'throws AtelierError BAD_USER_INPUT on `url` for %s, which is no http(s) URL',
    (url) => {
      let error: unknown;
      try {
        createAtelierClient({ url, apiKey: 'atl_x' });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(AtelierError);
      expect(error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
      expect((error as Error).message).toContain(JSON.stringify(url));
    },
  );

  it('says why Atelier cannot be reached (the connection refused, at which address), not just "fetch failed"', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as net.AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const unreachable = createAtelierClient({ url: `http://127.0.0.1:${port}`, apiKey: 'atl_x', maxRetries: 0 });
    const error = await unreachable.me().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AtelierError);
    expect(error).toMatchObject({ code: 'NETWORK', message: `Cannot reach Atelier at http://127.0.0.1:${port} (ECONNREFUSED 127.0.0.1:${port})` });
  });

  it('a VIDEO preset gives a VIDEO job: kind, and once COMPLETED its clip in `video`, downloadable', async () => {
    const admin = await factory.user(app, { role: 'ADMIN', prefix: 'sdk-admin' });
    const { token: owner } = await signUp(app.url, 'sdk-video');
    const client = createAtelierClient({ url: app.url, apiKey: await apiKey(owner), webSocketImpl: TrackedWebSocket });
    const preset = await videoPreset(admin.token, owner);
    const { job } = await client.generate({ prompt: 'a paper boat', presetId: preset });
    expect(job).toMatchObject({ kind: 'VIDEO', video: null, images: [], videoFps: 4, videoFrames: 4, totalSteps: 4 });
    const done = await client.waitForJob(job.id);
    expect(done).toMatchObject({ kind: 'VIDEO', status: 'COMPLETED', images: [] });
    expect(done.video).toMatchObject({ mimeType: 'video/mp4', durationSeconds: 1, fps: 4, frames: 4, width: 64, height: 64 });
    const mp4 = await client.download(done.video!);
    expect(mp4.length).toBe(done.video!.bytes);
    expect(Buffer.from(mp4.subarray(4, 8)).toString('latin1')).toBe('ftyp');
    const poster = await client.download({ url: done.video!.posterUrl });
    expect([...poster.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    await client.close();
  }, 120_000);
});
