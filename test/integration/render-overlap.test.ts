import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { JobStatus } from '../../src/entities';
import type { FromThread } from '../../src/gpu-worker/pipeline/threaded-pipeline';
import { RenderSlots } from '../../src/gpu-worker/render-slots';
import { collect, waitFor, wsClient } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';

/**
 * A worker takes its next job the moment a render's sampler ends, while the
 * job that rendered is still decoded, stored and recorded
 * (gpu-worker/render-slots.ts; docs/architecture.md, "The job path"), and
 * never before: a job stays in the queue, free to be overtaken, while the
 * render before it samples.
 */
let app: TestApp;
let user: factory.TestUser;
/** Image writes of these jobs wait until the test lets them go. */
const holdWrites = new Map<string, Promise<void>>();
/** Jobs whose first image write has begun (their render is over). */
const writing = new Set<string>();

beforeAll(async () => {
  app = await startTestApp();
  user = await factory.user(app, { tier: 'ENTERPRISE' });
  // A store elsewhere, as S3 is: images go through `put` (a local store's are written by the render thread), which this holds.
  (app.services.store as { localPathOf?: unknown }).localPathOf = undefined;
  const put = app.services.store.put.bind(app.services.store);
  app.services.store.put = async (key, ...rest) => {
    writing.add(key.split('/')[1]);
    await holdWrites.get(key.split('/')[1]);
    return put(key, ...rest);
  };
});
afterAll(() => app?.close());

const status = async (id: string) => (await app.services.lifecycle.transitions.find(id))!.status;
const queueState = async (id: string) => (await app.queue.getJob(id))?.getState();
/** Until `letGo` is called, the job's images are not stored, so it cannot be recorded. */
function holdImagesOf(jobId: string): () => void {
  let letGo = () => {};
  holdWrites.set(jobId, new Promise<void>((resolve) => { letGo = resolve; }));
  return letGo;
}

describe('a render overlapping the previous job\'s recording', () => {
  it('leaves the next job in the queue while the render before it runs', async () => {
    const client = wsClient(app.url, user.token);
    // 1024², 90 steps: its sampler runs ≈ 0.5 s here, well past the wait below (at 30 steps it ended ≈ 170-250 ms in).
    const first = await factory.job(app, user, { width: 1024, height: 1024, steps: 90, prompt: 'first, long' });
    const firstStream = collect<any>(client, 'subscription($id:ID!){ jobUpdated(jobId:$id){ type step } }', { id: first.id },
      (items) => items.some((e) => e.jobUpdated.type === 'PROGRESS'));
    const next = await factory.job(app, user, { prompt: 'next' });
    await firstStream.done;
    // Well after the next entry was added, the render is still going and nothing took it.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await status(first.id)).toBe(JobStatus.PROCESSING);
    expect(['waiting', 'prioritized']).toContain(await queueState(next.id));
    expect(app.worker!.bullWorker.concurrency).toBe(1);
    await waitFor(async () => (await status(next.id)) === JobStatus.COMPLETED, 30_000);
    await client.dispose();
  });

  it('gives the render slot up as the sampler ends: before the render thread has decoded the images', async () => {
    const emit = vi.spyOn(Worker.prototype, 'emit');
    // What the render thread had said last (sampled, or a run's images handed over) each time a slot was given up.
    const lastWord: string[] = [];
    const original = RenderSlots.prototype.renderEnded;
    const renderEnded = vi.spyOn(RenderSlots.prototype, 'renderEnded').mockImplementation(function (this: RenderSlots) {
      const said = emit.mock.calls.filter(([event, message]) => event === 'message' && ['sampled', 'done'].includes((message as FromThread).type));
      lastWord.push((said.at(-1)?.[1] as FromThread | undefined)?.type ?? 'nothing');
      return original.call(this);
    });
    try {
      // 1024²: its decode takes long after its single step.
      const job = await factory.job(app, user, { width: 1024, height: 1024, steps: 1, prompt: 'decoded slowly' });
      await waitFor(async () => (await status(job.id)) === JobStatus.COMPLETED, 30_000);
      expect(lastWord).toEqual(['sampled']);
    } finally {
      renderEnded.mockRestore();
      emit.mockRestore();
    }
  });

  it('starts the next job while the one before it is still being recorded', async () => {
    const first = await factory.job(app, user, { prompt: 'first, stored slowly' });
    const letGo = holdImagesOf(first.id);
    const second = await factory.job(app, user, { prompt: 'second' });
    // Without the overlap, `second` could not start before `first` is recorded, and this wait would time out.
    await waitFor(async () => (await status(second.id)) === JobStatus.COMPLETED, 20_000);
    expect(await status(first.id)).toBe(JobStatus.PROCESSING);
    expect(app.worker!.bullWorker.concurrency).toBe(2);
    letGo();
    await waitFor(async () => (await status(first.id)) === JobStatus.COMPLETED, 20_000);
    // Everything recorded: back to one job at a time.
    await waitFor(async () => app.worker!.bullWorker.concurrency === 1, 5_000, 10);
  });

  it('records at most one job per render slot beside the render: past that, the next job waits in the queue', async () => {
    const first = await factory.job(app, user, { prompt: 'first, stored slowly' });
    const letGoFirst = holdImagesOf(first.id);
    const second = await factory.job(app, user, { prompt: 'second, stored slowly too' });
    const letGoSecond = holdImagesOf(second.id);
    const third = await factory.job(app, user, { prompt: 'third' });
    // `second` rendered beside `first`'s recording and is being recorded in its turn, so `third` is not taken.
    await waitFor(async () => writing.has(second.id), 20_000, 10);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(['waiting', 'prioritized']).toContain(await queueState(third.id));
    expect(await status(third.id)).toBe(JobStatus.PENDING);
    expect(app.worker!.bullWorker.concurrency).toBe(2);
    letGoFirst();
    // `first` recorded: `third` renders beside `second`'s recording.
    await waitFor(async () => (await status(third.id)) === JobStatus.COMPLETED, 20_000);
    expect(await status(second.id)).toBe(JobStatus.PROCESSING);
    letGoSecond();
    await waitFor(async () => (await status(second.id)) === JobStatus.COMPLETED, 20_000);
    await waitFor(async () => app.worker!.bullWorker.concurrency === 1, 5_000, 10);
  });
});
