import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectRedis } from '../../src/redis/connection';
import { EVENT_LOG_LIMITS, EventLog } from '../../src/subscriptions/event-log';
import { waitFor } from '../support/graphql';
import { startLatencyProxy } from '../support/latency-proxy';

/*
 * The event log's subscriber connection going away and coming back while
 * subscriptions open, replay or are caught up, against a real Redis: each
 * subscriber gets every event of its stream once and in order, or is ended
 * with an error when it cannot be, and what a failure leaves behind is
 * nothing (docs/operations.md, "A subscriber connection that never answers
 * again", "A subscription that cannot be caught up"; docs/architecture.md,
 * "Fan-out").
 */
let admin: Redis;
const opened: Redis[] = [];

beforeAll(() => {
  admin = connectRedis(inject('redisUrl'), { name: 'event-log-reconnect-admin' });
});
afterAll(() => {
  for (const client of [admin, ...opened]) client.disconnect();
});

/** A client of its own, named so that the test can kill its connection; closed after the file. */
function client(url: string, name: string): Redis {
  const made = connectRedis(url, { name });
  made.on('error', () => undefined); // the kills and refusals below, expected
  opened.push(made);
  return made;
}

/** Closes a client's connection from the server's side, as a Redis restart or an output-buffer limit does. */
async function kill(name: string): Promise<void> {
  const list = String(await admin.client('LIST'));
  const id = list.split('\n').find((line) => line.includes(` name=${name} `))?.match(/^id=(\d+)/)?.[1];
  if (!id) throw new Error(`no connection named ${name}`);
  await admin.client('KILL', 'ID', id);
}

const progress = (jobId: string, step: number) => ({
  type: 'PROGRESS' as const, at: new Date().toISOString(), jobId, sessionId: null, actorId: null, step, totalSteps: 9, elapsedMs: 0, etaMs: 0,
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Takes what `queue` holds now; returns every step taken so far. */
function stepsTaken(queue: { size: number; next(): Promise<IteratorResult<unknown>> }): () => Promise<number[]> {
  const steps: number[] = [];
  return async () => {
    while (queue.size > 0) steps.push(((await queue.next()).value as { step: number }).step);
    return steps;
  };
}

describe('a subscription that opens while the subscriber connection is away', () => {
  it('leaves nothing behind when its SUBSCRIBE is given up, and the stream is subscribed again once Redis is back', async () => {
    const proxy = await startLatencyProxy(inject('redisUrl'), 0);
    const prefix = `reconnect-${randomUUID()}`;
    const subscriber = client(proxy.url, `refused-events-${prefix}`);
    const events = new EventLog(client(inject('redisUrl'), `refused-commands-${prefix}`), subscriber, prefix);
    const [first, second] = [randomUUID(), randomUUID()];
    try {
      const open = await events.subscribe('job', first, 'start');
      proxy.refuse();
      await waitFor(async () => subscriber.status === 'reconnecting', 5000, 10);
      // ioredis fails the SUBSCRIBE waiting in its offline queue after 3 reconnection attempts.
      await expect(events.subscribe('job', second, 'start')).rejects.toThrow(/max retries per request/i);
      expect(events.listenerCount('job', second)).toBe(0);

      proxy.heal();
      await waitFor(async () => subscriber.status === 'ready', 10_000, 20);
      const queue = await events.subscribe('job', second, 'start');
      await events.publish(progress(second, 1));
      const taken = stepsTaken(queue);
      await waitFor(async () => (await taken()).length === 1, 5000, 10);
      expect(await taken()).toEqual([1]);
      await Promise.all([open.return(), queue.return()]);
    } finally {
      subscriber.disconnect();
      await proxy.close();
    }
  }, 30_000);
});

describe('a reconnection while a subscription replays its stream from the start', () => {
  it('gives it what was published meanwhile, once and in order, also when its replay was read before', async () => {
    // Commands go through a slow path and the subscriber a fast one (a large replay's answer still on its way, a
    // subscriber dropped by Redis): the replay is read, then the subscriber loses an event and is back, caught up,
    // before the replay's answer arrives.
    // Each way: a round trip stays under the command timeout (3 s).
    const DELAY_MS = 1000;
    const proxy = await startLatencyProxy(inject('redisUrl'), DELAY_MS);
    const prefix = `reconnect-${randomUUID()}`;
    const name = `replaying-events-${prefix}`;
    const commands = client(proxy.url, `slow-commands-${prefix}`);
    const events = new EventLog(commands, client(inject('redisUrl'), name), prefix);
    const publisher = new EventLog(client(inject('redisUrl'), `publisher-${prefix}`), client(inject('redisUrl'), `publisher-events-${prefix}`), prefix);
    const jobId = randomUUID();
    try {
      await waitFor(async () => commands.status === 'ready', 6 * DELAY_MS + 2000, 20);
      await publisher.publish(progress(jobId, 1));
      const opening = events.subscribe('job', jobId, 'start');
      // The replay's XRANGE reaches Redis DELAY_MS after it is sent, and its answer comes DELAY_MS later.
      await sleep(DELAY_MS + 300);
      await kill(name);
      await publisher.publish(progress(jobId, 2));
      const queue = await opening;
      const taken = stepsTaken(queue);
      await waitFor(async () => (await taken()).length >= 2, 3 * DELAY_MS + 2000, 20).catch(() => undefined);
      await publisher.publish(progress(jobId, 3));
      await waitFor(async () => (await taken()).length >= 3, 5000, 20).catch(() => undefined);
      await sleep(200);
      expect(await taken()).toEqual([1, 2, 3]);
      await queue.return();
    } finally {
      await proxy.close();
    }
  }, 30_000);
});

describe('a catch-up when the process stops', () => {
  it('stops trying to read once the subscriber connection is closed for good', async () => {
    const prefix = `reconnect-${randomUUID()}`;
    const name = `stopping-events-${prefix}`;
    const commands = client(inject('redisUrl'), `stopping-commands-${prefix}`);
    const subscriber = client(inject('redisUrl'), name);
    const events = new EventLog(commands, subscriber, prefix);
    const queue = await events.subscribe('job', randomUUID(), 'start');
    let reads = 0;
    const counted = commands as unknown as { xrange: (...args: unknown[]) => unknown };
    const xrange = counted.xrange;
    counted.xrange = function (this: unknown, ...args: unknown[]) {
      reads += 1;
      return xrange.apply(this, args);
    };
    try {
      // The commands connection closed first (as a stop closes it): the catch-up's reads fail at once, again and again.
      commands.disconnect();
      await kill(name);
      await waitFor(async () => reads >= 2, 5000, 10);
      subscriber.disconnect();
      await sleep(500);
      const atStop = reads;
      await sleep(1500);
      expect(reads).toBe(atStop);
    } finally {
      counted.xrange = xrange;
      await queue.return();
    }
  }, 30_000);
});

/** Takes what `queue` holds now, then whether it ended and with which error (none: still open). */
async function drain(queue: { size: number; ended: boolean; next(): Promise<IteratorResult<unknown>> }, into: number[]) {
  while (queue.size > 0) into.push(((await queue.next()).value as { step: number }).step);
  if (!queue.ended) return { ended: false, error: null };
  const error = await queue.next().then(() => null, (e: unknown) => e as { extensions?: { code?: string; field?: string } });
  return { ended: true, error };
}

/** Waits until `queue` has ended, taking its events into `into`; the code of the error it ended with. */
async function endCode(queue: Parameters<typeof drain>[0], into: number[]): Promise<string | undefined> {
  const end = await waitFor(async () => {
    const state = await drain(queue, into);
    return state.ended && state;
  }, 5000, 20);
  return end.error?.extensions?.code;
}

describe('a catch-up that cannot give a subscription everything it missed', () => {
  it('ends it with SERVICE_UNAVAILABLE, after the events it had, when its reads fail past the catch-up time; a watch stays', async () => {
    const prefix = `reconnect-${randomUUID()}`;
    const name = `giving-up-events-${prefix}`;
    const commandProxy = await startLatencyProxy(inject('redisUrl'), 0);
    const subscriber = client(inject('redisUrl'), name);
    const events = new EventLog(client(commandProxy.url, `giving-up-commands-${prefix}`), subscriber, prefix, EVENT_LOG_LIMITS, 300);
    const publisher = new EventLog(client(inject('redisUrl'), `publisher-${prefix}`), client(inject('redisUrl'), `publisher-events-${prefix}`), prefix);
    const jobId = randomUUID();
    const watched: number[] = [];
    const stopWatching = await events.watch('job', jobId, (event) => watched.push((event as { step: number }).step));
    const queue = await events.subscribe('job', jobId, 'start');
    const steps: number[] = [];
    try {
      await publisher.publish(progress(jobId, 1));
      await waitFor(async () => (await drain(queue, steps), steps.length === 1), 5000, 10);
      // The command connection's Redis is gone (its reads fail after ioredis's 3 reconnection attempts) while the
      // subscriber connection is dropped and comes back: the catch-up cannot read step 2.
      commandProxy.refuse();
      await kill(name);
      await publisher.publish(progress(jobId, 2));
      expect(await endCode(queue, steps)).toBe('SERVICE_UNAVAILABLE');
      expect(steps).toEqual([1]);
      // The watch (a membership watch's kind of listener) has no place to resume from: it stays, and hears what
      // comes live.
      expect(events.listenerCount('job', jobId)).toBe(1);
      await publisher.publish(progress(jobId, 3));
      await waitFor(async () => watched.includes(3), 5000, 10);
    } finally {
      stopWatching();
      await queue.return();
      await commandProxy.close();
    }
  }, 30_000);

  it('ends one whose last event its stream\'s cap trimmed away, gives one on a longer stream all it missed a page at a time, and refuses such an `after`', async () => {
    const prefix = `reconnect-${randomUUID()}`;
    const subscriberProxy = await startLatencyProxy(inject('redisUrl'), 0);
    const subscriber = client(subscriberProxy.url, `trimmed-events-${prefix}`);
    // A job's stream keeps its latest 50 or so events (MAXLEN ~), the batch's every one of the job's 10,051.
    const limits = { ...EVENT_LOG_LIMITS, jobMaxLen: 50 };
    const events = new EventLog(client(inject('redisUrl'), `trimmed-commands-${prefix}`), subscriber, prefix, limits);
    const publisher = new EventLog(client(inject('redisUrl'), `publisher-${prefix}`), client(inject('redisUrl'), `publisher-events-${prefix}`), prefix, limits);
    const [jobId, batchId] = [randomUUID(), randomUUID()];
    const step = (n: number) => ({ ...progress(jobId, n), batchId });
    const { jobEventId: first } = await publisher.publish(step(1));
    await waitFor(async () => subscriber.status === 'ready', 5000, 10);
    const byJob = await events.subscribe('job', jobId, 'start');
    const byBatch = await events.subscribe('batch', batchId, 'start');
    const [jobSteps, batchSteps]: number[][] = [[], []];
    try {
      await waitFor(async () => (await drain(byJob, jobSteps), await drain(byBatch, batchSteps), jobSteps.length + batchSteps.length === 2), 5000, 10);
      subscriberProxy.refuse();
      await waitFor(async () => subscriber.status === 'reconnecting', 5000, 10);
      // More than one read's worth (10,000), published while the subscriber is away.
      await publisher.publishAll(Array.from({ length: 10_050 }, (_, i) => step(i + 2)));
      subscriberProxy.heal();
      await waitFor(async () => (await drain(byBatch, batchSteps), batchSteps.length >= 10_051), 10_000, 20).catch(() => undefined);
      expect(batchSteps).toEqual(Array.from({ length: 10_051 }, (_, i) => i + 1));
      expect(await endCode(byJob, jobSteps)).toBe('SERVICE_UNAVAILABLE');
      expect(jobSteps).toEqual([1]);

      // Resuming from there could only go on after the gap: refused, with nothing left behind.
      await expect(events.subscribe('job', jobId, first!)).rejects.toMatchObject({ code: 'BAD_USER_INPUT', extensions: { field: 'after' } });
      expect(events.listenerCount('job', jobId)).toBe(0);
      // From an event the stream still has, it goes on.
      const [kept] = await events.read('job', jobId, null, 1);
      const resumed = await events.subscribe('job', jobId, kept.eventId);
      expect(resumed.size).toBeGreaterThan(0);
      await resumed.return();
    } finally {
      await Promise.all([byJob.return(), byBatch.return()]);
      await subscriberProxy.close();
    }
  }, 60_000);
});
