import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Job } from '../../src/entities';
import { startTestApp, type TestApp } from '../support/app';
import { collect, gql, gqlData, waitFor, wsClient } from '../support/graphql';
import * as factory from '../support/factories';
import { moovFirst, probeMp4 } from '../support/mp4';
import { decodePng } from '../unit/helpers/png-decode';

const CREATE_VIDEO = 'mutation($input: VideoInput!) { createVideo(input: $input) { id kind status seed prompt width height steps videoFrames videoFps sourceImageId } }';
const JOB = `query($id: ID!) { job(id: $id) { id kind status step totalSteps seed error { code message }
  images { id url } video { url posterUrl mimeType durationSeconds fps frames width height bytes } } }`;

describe('VIDEO jobs', () => {
  let app: TestApp;
  let admin: { token: string };
  let presets: Record<string, { id: string; durationSeconds: number; fps: number; category: string }>;

  const finished = (id: string, token: string) => waitFor(async () => {
    const { job } = await gqlData<any>(app.url, JOB, { id }, token);
    return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status) ? job : null;
  }, 120_000, 200);
  const download = async (url: string) => Buffer.from(await (await fetch(url)).arrayBuffer());
  const jobCount = () => app.db.getRepository(Job).count();

  beforeAll(async () => {
    app = await startTestApp();
    admin = await factory.user(app, { role: 'ADMIN' });
    // Small clips for a CPU test run: the tiny model at 64 px a side.
    await gqlData(app.url, 'mutation { updateTierPolicy(tier: FREE, input: { maxVideoSide: 64, maxOpenJobs: 10 }) { maxVideoSide } }', {}, admin.token);
    const { presets: list } = await gqlData<any>(app.url, '{ presets(category: VIDEO) { id name category durationSeconds fps } }', {}, admin.token);
    presets = Object.fromEntries(list.map((p: any) => [p.name, p]));
  }, 120_000);
  afterAll(async () => {
    await app?.close();
  });

  it('runs a VIDEO preset (Vlog Style, 3 s at 30 fps): a PROGRESS event per frame with a preview, then an H.264 MP4', async () => {
    const user = await factory.user(app);
    const vlog = presets['Vlog Style'];
    expect(vlog).toMatchObject({ category: 'VIDEO', durationSeconds: 3, fps: 30 });
    // Previews go out live only (the log keeps frames without them): the clip waits until its stream is open.
    await app.worker!.bullWorker.pause();
    const { createGeneration: job } = await gqlData<any>(app.url,
      'mutation($input: GenerationInput!) { createGeneration(input: $input) { id kind totalSteps } }',
      { input: { prompt: 'a walk along the beach', presetId: vlog.id, steps: 2 } }, user.token);
    expect(job).toMatchObject({ kind: 'VIDEO', totalSteps: 90 });
    const client = wsClient(app.url, user.token);
    const stream = collect<any>(client, 'subscription($id: ID!) { jobUpdated(jobId: $id) { type step totalSteps preview } }', { id: job.id },
      (items) => ['COMPLETED', 'FAILED'].includes(items.at(-1)?.jobUpdated.type));
    await waitFor(async () => stream.items.length > 0);
    app.worker!.bullWorker.resume();
    await stream.done;
    await client.dispose();
    const events = stream.items.map((i) => i.jobUpdated);
    const progress = events.filter((e) => e.type === 'PROGRESS');
    expect(events.at(-1)).toMatchObject({ type: 'COMPLETED', step: 90, totalSteps: 90 });
    expect(progress.map((e) => e.step)).toEqual(Array.from({ length: 90 }, (_, i) => i + 1));
    expect(progress.every((e) => e.totalSteps === 90 && e.preview?.startsWith('data:image/png;base64,'))).toBe(true);

    const done = await finished(job.id, user.token);
    expect(done).toMatchObject({ status: 'COMPLETED', images: [], step: 90 });
    expect(done.video).toMatchObject({ mimeType: 'video/mp4', durationSeconds: 3, fps: 30, frames: 90, width: 64, height: 64 });
    const response = await fetch(done.video.url);
    expect(response.headers.get('content-type')).toBe('video/mp4');
    const mp4 = Buffer.from(await response.arrayBuffer());
    expect(mp4.length).toBe(done.video.bytes);
    const facts = probeMp4(mp4);
    expect(facts).toMatchObject({ codec: 'h264', pixFmt: 'yuv420p', width: 64, height: 64, frames: 90 });
    expect(Math.abs(facts.durationSeconds - 3)).toBeLessThan(1 / 30 + 1e-6);
    expect(moovFirst(facts.boxes)).toBe(true);
    const poster = decodePng(await download(done.video.posterUrl));
    expect([poster.width, poster.height]).toEqual([64, 64]);
    const usage = await gqlData<any>(app.url, '{ usage { imagesToday videoSecondsToday openJobs } }', {}, user.token);
    expect(usage.usage).toEqual({ imagesToday: 0, videoSecondsToday: 3, openJobs: 0 });
  }, 180_000);

  it('refuses a bad createVideo with BAD_USER_INPUT (or QUOTA_EXCEEDED past the tier) and the field, creating nothing', async () => {
    const user = await factory.user(app);
    const imagePreset = (await gqlData<any>(app.url, '{ presets(category: IMAGE) { id } }', {}, user.token)).presets[0];
    const before = await jobCount();
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ durationSeconds: 1 }, 'BAD_USER_INPUT', 'prompt'],
      [{ prompt: 'x', durationSeconds: 0 }, 'BAD_USER_INPUT', 'durationSeconds'],
      [{ prompt: 'x', durationSeconds: 1000 }, 'BAD_USER_INPUT', 'durationSeconds'],
      [{ prompt: 'x', fps: 0 }, 'BAD_USER_INPUT', 'fps'],
      [{ prompt: 'x', fromImageId: 'not-a-uuid' }, 'BAD_USER_INPUT', 'fromImageId'],
      [{ prompt: 'x', fromImageId: '00000000-0000-4000-8000-000000000000' }, 'BAD_USER_INPUT', 'fromImageId'],
      [{ prompt: 'x', presetId: imagePreset.id }, 'BAD_USER_INPUT', 'presetId'],
      [{ prompt: 'x', width: 60 }, 'BAD_USER_INPUT', 'width'],
      [{ prompt: 'x', durationSeconds: 30 }, 'QUOTA_EXCEEDED', 'durationSeconds'],
      [{ prompt: 'x', fps: 60 }, 'QUOTA_EXCEEDED', 'fps'],
      [{ prompt: 'x', width: 128 }, 'QUOTA_EXCEEDED', 'width'],
    ];
    for (const [input, code, field] of cases) {
      const res = await gql(app.url, CREATE_VIDEO, { input }, user.token);
      expect(res.errors?.[0].extensions, JSON.stringify(input)).toMatchObject({ code, field });
    }
    expect(await jobCount()).toBe(before);
    const usage = await gqlData<any>(app.url, '{ usage { videoSecondsToday openJobs } }', {}, user.token);
    expect(usage.usage).toEqual({ videoSecondsToday: 0, openJobs: 0 });
  });

  it('animates an image: the clip uses its seed, prompt and settings, and its first frame is the image', async () => {
    const user = await factory.user(app);
    const { createGeneration: imageJob } = await gqlData<any>(app.url, 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id } }',
      { input: { prompt: 'a red kite in the sky', width: 64, height: 64, steps: 3, seed: 4242 } }, user.token);
    const image = (await finished(imageJob.id, user.token)).images[0];
    const { createVideo: clip } = await gqlData<any>(app.url, CREATE_VIDEO, { input: { fromImageId: image.id, durationSeconds: 0.5, fps: 8 } }, user.token);
    expect(clip).toMatchObject({ kind: 'VIDEO', seed: 4242, prompt: 'a red kite in the sky', width: 64, height: 64, steps: 3, videoFrames: 4, videoFps: 8, sourceImageId: image.id });
    const done = await finished(clip.id, user.token);
    expect(done.status).toBe('COMPLETED');
    const poster = decodePng(await download(done.video.posterUrl));
    const original = decodePng(await download(image.url));
    expect(Buffer.from(poster.rgb).equals(Buffer.from(original.rgb))).toBe(true);
    // Someone else's image is not theirs to animate.
    const stranger = await factory.user(app);
    const refused = await gql(app.url, CREATE_VIDEO, { input: { fromImageId: image.id } }, stranger.token);
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'fromImageId' });
  }, 120_000);

  it('retrying an image-to-video clip keeps its source image and end prompt', async () => {
    const user = await factory.user(app);
    const { createGeneration: imageJob } = await gqlData<any>(app.url, 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id } }',
      { input: { prompt: 'a quiet harbour', width: 64, height: 64, steps: 1, seed: 77 } }, user.token);
    const image = (await finished(imageJob.id, user.token)).images[0];
    const { createVideo: clip } = await gqlData<any>(app.url, CREATE_VIDEO,
      { input: { fromImageId: image.id, prompt: 'a stormy harbour', durationSeconds: 0.5, fps: 2 } }, user.token);
    await finished(clip.id, user.token);
    // Only FAILED or CANCELLED jobs can be retried: mark this finished one failed.
    await app.db.query("UPDATE jobs SET status = 'FAILED' WHERE id = $1", [clip.id]);
    const { retryJob: retried } = await gqlData<any>(app.url,
      'mutation($id: ID!) { retryJob(id: $id) { id kind prompt endPrompt sourceImageId seed videoFrames videoFps } }', { id: clip.id }, user.token);
    expect(retried).toMatchObject({
      kind: 'VIDEO', prompt: 'a quiet harbour', endPrompt: 'a stormy harbour', sourceImageId: image.id, seed: 77, videoFrames: 1, videoFps: 2,
    });
    expect((await finished(retried.id, user.token)).status).toBe('COMPLETED');
  }, 120_000);

  it('counts video seconds per day apart from images, and refuses past the tier\'s allowance', async () => {
    const user = await factory.user(app, { tier: 'PRO' });
    await gqlData(app.url, 'mutation { updateTierPolicy(tier: PRO, input: { videoSecondsPerDay: 2, maxVideoSide: 64 }) { videoSecondsPerDay } }', {}, admin.token);
    const first = await gqlData<any>(app.url, CREATE_VIDEO, { input: { prompt: 'rain', durationSeconds: 1.5, fps: 2, steps: 1 } }, user.token);
    const before = await jobCount();
    const refused = await gql(app.url, CREATE_VIDEO, { input: { prompt: 'more rain', durationSeconds: 1, fps: 2, steps: 1 } }, user.token);
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', field: 'durationSeconds', limit: 2 });
    expect(await jobCount()).toBe(before);
    // Images have their own allowance.
    const image = await gql(app.url, 'mutation { createGeneration(input: { prompt: "sun", width: 64, height: 64, steps: 1 }) { id } }', {}, user.token);
    expect(image.errors).toBeUndefined();
    await finished(first.createVideo.id, user.token);
    const usage = await gqlData<any>(app.url, '{ usage { videoSecondsToday imagesToday } }', {}, user.token);
    expect(usage.usage).toEqual({ videoSecondsToday: 2, imagesToday: 1 });
  }, 120_000);

  it('a teammate in the session watches the clip live: a frame per PROGRESS event with previews, then the video', async () => {
    const owner = await factory.user(app);
    const teammate = await factory.user(app);
    const { createSession } = await gqlData<any>(app.url, 'mutation { createSession(name: "Storyboard") { id } }', {}, owner.token);
    const { createSessionInvite } = await gqlData<any>(app.url, 'mutation($s: ID!) { createSessionInvite(sessionId: $s, role: WATCHER) { token } }',
      { s: createSession.id }, owner.token);
    await gqlData(app.url, 'mutation($t: String!) { joinSession(token: $t) { id } }', { t: createSessionInvite.token }, teammate.token);
    const watcher = wsClient(app.url, teammate.token);
    const feed = collect<any>(watcher, 'subscription($s: ID!) { sessionEvents(sessionId: $s) { type jobId step totalSteps preview job { id video { frames } } } }',
      { s: createSession.id }, (items) => items.some((i) => i.sessionEvents.type === 'COMPLETED'));
    await waitFor(async () => (await gqlData<any>(app.url, 'query($s: ID!) { session(id: $s) { onlineUserIds } }', { s: createSession.id }, owner.token))
      .session.onlineUserIds.includes(teammate.id));
    const { createVideo: clip } = await gqlData<any>(app.url, CREATE_VIDEO,
      { input: { prompt: 'a paper boat', presetId: presets['Vlog Style'].id, steps: 1, durationSeconds: 1, sessionId: createSession.id } }, owner.token);
    await feed.done;
    await watcher.dispose();
    const events = feed.items.map((i) => i.sessionEvents).filter((e) => e.jobId === clip.id);
    expect(events[0].type).toBe('QUEUED');
    const frames = events.filter((e) => e.type === 'PROGRESS');
    expect(frames.map((e) => e.step)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(frames.every((e) => e.totalSteps === 30 && e.preview?.startsWith('data:image/png;base64,'))).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'COMPLETED', job: { id: clip.id, video: { frames: 30 } } });
  }, 120_000);
});
