import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLog } from '../../src/subscriptions/event-log';
import { startTestApp, type TestApp } from '../support/app';
import { waitFor } from '../support/graphql';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
});
afterAll(() => app?.close());

const progress = (jobId: string, step: number) => ({
  type: 'PROGRESS' as const, at: new Date().toISOString(), jobId, sessionId: null, actorId: null, step, totalSteps: 9, elapsedMs: 0, etaMs: 0,
});

/** The key count of each script call (EVALSHA) made on the app's commands connection while `work` runs. */
async function scriptCallsDuring(work: () => Promise<unknown>): Promise<string[]> {
  const calls: string[] = [];
  const redis = app.redis as unknown as { evalsha: (...args: unknown[]) => unknown };
  const evalsha = redis.evalsha;
  redis.evalsha = function (this: unknown, ...args: unknown[]) {
    calls.push(String(args[1]));
    return evalsha.apply(this, args);
  };
  try {
    await work();
  } finally {
    redis.evalsha = evalsha;
  }
  return calls;
}

/** The steps of the events `queue` hands out: `count` of them (waited for), and any that follow within 100 ms. */
async function stepsOf(queue: { size: number; next(): Promise<IteratorResult<unknown>> }, count: number): Promise<number[]> {
  const steps: number[] = [];
  const take = async () => {
    while (queue.size > 0) steps.push(((await queue.next()).value as { step: number }).step);
  };
  await waitFor(async () => {
    await take();
    return steps.length >= count;
  }, 5000, 20);
  await new Promise((r) => setTimeout(r, 100));
  await take();
  return steps;
}

describe('the event log', () => {
  it('replays and continues live with no gap and no duplicate when an event lands while the replay is read', async () => {
    const events = app.events;
    const jobId = randomUUID();
    await events.publish(progress(jobId, 1));
    await events.publish(progress(jobId, 2));
    // Step 3 is published after the live listener is attached and before the replay is read:
    // it reaches the subscriber both ways, and must be delivered once.
    const read = events.read.bind(events);
    events.read = (async (...args: Parameters<EventLog['read']>) => {
      await events.publish(progress(jobId, 3));
      await new Promise((r) => setTimeout(r, 50)); // its live copy arrives while the replay is read
      return read(...args);
    }) as EventLog['read'];
    const queue = await events.subscribe('job', jobId, 'start');
    events.read = read;
    for (const step of [4, 5]) await events.publish(progress(jobId, step));
    expect(await stepsOf(queue, 5)).toEqual([1, 2, 3, 4, 5]);
    await queue.return();
  });

  it("appends an event to all of its streams in one call, and each stream's subscribers get it live with the id the log gave", async () => {
    const events = app.events;
    const jobId = randomUUID();
    const sessionId = randomUUID();
    const batchId = randomUUID();
    const [byJob, bySession, byBatch] = await Promise.all([
      events.subscribe('job', jobId, null), events.subscribe('session', sessionId, null), events.subscribe('batch', batchId, null),
    ]);
    let ids!: Awaited<ReturnType<EventLog['publish']>>;
    const calls = await scriptCallsDuring(async () => {
      ids = await events.publish({ ...progress(jobId, 1), sessionId, batchId });
    });
    expect(calls).toEqual(['3']); // one script call, three keys
    for (const [queue, id, kind, topic] of [[byJob, ids.jobEventId, 'job', jobId], [bySession, ids.sessionEventId, 'session', sessionId], [byBatch, ids.batchEventId, 'batch', batchId]] as const) {
      const delivered = (await queue.next()).value as { step: number; eventId: string };
      expect(delivered).toMatchObject({ step: 1, eventId: id });
      expect((await events.read(kind, topic, null)).map((e) => e.eventId)).toEqual([id]);
      await queue.return();
    }
  });

  it('refuses an `after` that is no event of the stream (another stream\'s, made up, before its first, past its last); takes any on a stream with nothing kept', async () => {
    const events = app.events;
    const [jobId, otherId] = [randomUUID(), randomUUID()];
    const ids: string[] = [];
    for (const step of [1, 2, 3]) {
      ids.push((await events.publish(progress(jobId, step))).jobEventId!);
      await new Promise((r) => setTimeout(r, 5)); // each its own millisecond, so an id falls between two
    }
    const other = (await events.publish(progress(otherId, 1))).jobEventId!;
    const [ms, seq] = ids[0].split('-').map(Number);
    const steps = async (after: string | null) => (await events.read('job', jobId, after)).map((e) => (e as { step?: number }).step);
    expect(await steps(ids[0])).toEqual([2, 3]);
    expect(await steps(ids[2])).toEqual([]);
    expect(await steps('0-0')).toEqual([1, 2, 3]);
    for (const foreign of [other, `${ms}-${seq + 1}`, '0-1', `${ms + 3_600_000}-0`]) {
      await expect(events.read('job', jobId, foreign), foreign).rejects.toMatchObject({
        code: 'BAD_USER_INPUT', extensions: { field: 'after' }, message: `${foreign} is not an event of this stream: give the eventId of an event it delivered (or 0-0 for its start)`,
      });
      await expect(events.subscribe('job', jobId, foreign), foreign).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    }
    expect(events.listenerCount('job', jobId)).toBe(0);
    // A stream with nothing kept (expired, or never written) cannot tell: it replays nothing, as before.
    expect(await events.read('job', randomUUID(), ids[1])).toEqual([]);
  });

  it("appends a job's steps sent together in one call, in order, each logged and delivered live as alone, previews left out of the log", async () => {
    const events = app.events;
    const jobId = randomUUID();
    const sessionId = randomUUID();
    const [byJob, bySession] = await Promise.all([events.subscribe('job', jobId, null), events.subscribe('session', sessionId, null)]);
    const preview = 'data:image/png;base64,AAAA';
    const calls = await scriptCallsDuring(() => events.publishAll([1, 2, 3].map((step) => ({ ...progress(jobId, step), sessionId, preview }))));
    expect(calls).toEqual(['2']); // one script call for three events, two streams
    for (const [queue, kind, topic] of [[byJob, 'job', jobId], [bySession, 'session', sessionId]] as const) {
      const logged = await events.read<any>(kind, topic, null);
      expect(logged.map((e) => [e.step, e.preview])).toEqual([[1, undefined], [2, undefined], [3, undefined]]);
      for (const [i, step] of [1, 2, 3].entries()) {
        expect((await queue.next()).value).toMatchObject({ step, preview, eventId: logged[i].eventId });
      }
      await queue.return();
    }
    expect(await app.redis.ttl(events.key('session', sessionId))).toBeGreaterThan(24 * 3600);
    // Events of two jobs go to different streams: refused before anything is written.
    const other = randomUUID();
    await expect(events.publishAll([progress(other, 1), progress(randomUUID(), 1)])).rejects.toThrow('one job');
    // The same job, one event in a session and one not: their streams differ too.
    await expect(events.publishAll([{ ...progress(other, 1), sessionId }, progress(other, 2)])).rejects.toThrow('one job');
    expect(await events.read('job', other, null)).toEqual([]);
  });

  it("drops a run's steps once the event they must not follow is in (a job's return to the queue after that run), in the same call", async () => {
    const events = app.events;
    const jobId = randomUUID();
    const requeued = (run: number) => ({ key: `job-requeued:${jobId}`, rank: run });
    await events.publishAll([progress(jobId, 1), progress(jobId, 2)], requeued(1));
    // Run 1's return to the queue is told (ranked by its run), as JobLifecycle.requeue tells it.
    expect(await events.publish({ ...progress(jobId, 0), type: 'QUEUED' } as any, requeued(1))).toHaveProperty('jobEventId');
    // Run 1's worker, still rendering for a moment: its steps are dropped; run 2's go in.
    await events.publishAll([progress(jobId, 3)], requeued(1));
    await events.publishAll([progress(jobId, 1)], requeued(2));
    expect((await events.read<any>('job', jobId, null)).map((e) => `${e.type} ${e.step}`)).toEqual(['PROGRESS 1', 'PROGRESS 2', 'QUEUED 0', 'PROGRESS 1']);
  });

  it('gives a subscription what its stream got while the subscriber connection was away, once and in order', async () => {
    const subscriber = app.redis.duplicate({ lazyConnect: true });
    await subscriber.connect();
    const events = new EventLog(app.redis, subscriber, app.config.redisPrefix);
    const jobId = randomUUID();
    await events.publish(progress(jobId, 1));
    const queue = await events.subscribe('job', jobId, 'start');
    await events.publish(progress(jobId, 2));
    await waitFor(async () => queue.size === 2, 5000, 10);
    subscriber.disconnect();
    await waitFor(async () => subscriber.status === 'end', 5000, 10);
    // Appended and published while this process hears nothing (a Redis restart, a network blip).
    for (const step of [3, 4]) await events.publish(progress(jobId, step));
    await subscriber.connect();
    await events.publish(progress(jobId, 5));
    expect(await stepsOf(queue, 5)).toEqual([1, 2, 3, 4, 5]);
    await queue.return();
    subscriber.disconnect();
  });

  it("keeps a training run's event in the run's own stream", async () => {
    const events = app.events;
    const runId = randomUUID();
    const id = await events.publishTraining({ type: 'QUEUED', runId, at: new Date().toISOString(), actorId: null, step: 0, totalSteps: 2 });
    expect((await events.read('training', runId, null)).map((e) => e.eventId)).toEqual([id]);
  });

  it('appends an ordered event only above the last rank under its key, to all of its streams or to none', async () => {
    const events = app.events;
    const [batchId, sessionId] = [randomUUID(), randomUUID()];
    const counts = (completed: number) => ({
      type: 'BATCH_PROGRESS' as const, at: new Date().toISOString(), actorId: null, jobId: null, sessionId, batchId,
      counts: { total: 3, completed, failed: 0, cancelled: 0, status: 'RUNNING' as const },
    });
    const order = (rank: number) => ({ key: `test-order:${batchId}`, rank });
    expect(await events.publish(counts(0), order(0))).toMatchObject({ batchEventId: expect.any(String), sessionEventId: expect.any(String) });
    expect(await events.publish(counts(2), order(4))).toMatchObject({ batchEventId: expect.any(String) });
    // Read earlier, published later: dropped, as is a repeat of the last rank.
    expect(await events.publish(counts(1), order(2))).toEqual({});
    expect(await events.publish(counts(2), order(4))).toEqual({});
    for (const kind of ['batch', 'session'] as const) {
      const logged = await events.read<any>(kind, kind === 'batch' ? batchId : sessionId, null);
      expect(logged.map((e) => e.counts.completed)).toEqual([0, 2]);
    }
    expect(Number(await app.redis.get(`${app.config.redisPrefix}:test-order:${batchId}`))).toBe(4);
    expect(await app.redis.ttl(`${app.config.redisPrefix}:test-order:${batchId}`)).toBeGreaterThan(3600);
  });

  it('a counted event is appended once per member, raises the rank ranked events need, and drops counts it makes stale', async () => {
    const events = app.events;
    const [batchId, jobA, jobB] = [randomUUID(), randomUUID(), randomUUID()];
    const key = `test-order:${batchId}`;
    const counts = (completed: number) => ({
      type: 'BATCH_PROGRESS' as const, at: new Date().toISOString(), actorId: null, jobId: null, sessionId: null, batchId,
      counts: { total: 3, completed, failed: 0, cancelled: 0, status: 'RUNNING' as const },
    });
    const completed = (jobId: string) => ({
      type: 'COMPLETED' as const, at: new Date().toISOString(), actorId: null, jobId, sessionId: null, batchId, step: 1, totalSteps: 1, imageIds: [],
    });
    const ended = (jobId: string) => ({ key, counter: `test-ended:${batchId}`, member: jobId });
    expect(await events.publish(completed(jobA), ended(jobA))).toMatchObject({ batchEventId: expect.any(String), jobEventId: expect.any(String) });
    // Job B ends while A's recount (1 completed) is on its way: B's COMPLETED goes out first.
    expect(await events.publish(completed(jobB), ended(jobB))).toMatchObject({ batchEventId: expect.any(String) });
    expect(await events.publish(counts(1), { key, rank: 2 })).toEqual({}); // stale: B has ended and is not in it
    // The same member sent again (a retried append, a job's end announced again) counts once and is not appended.
    expect(await events.publish(completed(jobB), ended(jobB))).toEqual({});
    expect(Number(await app.redis.get(`${app.config.redisPrefix}:${key}`))).toBe(3);
    expect(await events.publish(counts(2), { key, rank: 4 })).toMatchObject({ batchEventId: expect.any(String) });
    // A counted event never lowers the rank.
    expect(await events.publish(completed(jobA), ended(jobA))).toEqual({});
    expect(Number(await app.redis.get(`${app.config.redisPrefix}:${key}`))).toBe(4);
    const logged = await events.read<any>('batch', batchId, null);
    expect(logged.map((e) => e.type === 'BATCH_PROGRESS' ? e.counts.completed : e.type)).toEqual(['COMPLETED', 'COMPLETED', 2]);
    expect(await app.redis.ttl(`${app.config.redisPrefix}:test-ended:${batchId}`)).toBeGreaterThan(3600);
  });
});
