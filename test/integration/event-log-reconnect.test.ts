import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectRedis } from '../../src/redis/connection';
import { EventLog } from '../../src/subscriptions/event-log';
import { waitFor } from '../support/graphql';
import { startLatencyProxy } from '../support/latency-proxy';

/*
 * The event log's subscriber connection going away and coming back while
 * subscriptions open, replay or are caught up, against a real Redis: each
 * subscriber gets every event of its stream once and in order, and what a
 * failure leaves behind is nothing (docs/operations.md, "A subscriber
 * connection that never answers again"; docs/architecture.md, "Fan-out").
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
