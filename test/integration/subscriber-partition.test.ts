import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { connectRedis, REDIS_SOCKET_TIMEOUT_MS } from '../../src/redis/connection';
import { EventLog } from '../../src/subscriptions/event-log';
import { createLogger } from '../../src/observability/logger';
import { collect, gqlData, signUp, waitFor, wsClient } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { startLatencyProxy, type TcpProxy } from '../support/latency-proxy';

/*
 * The app reaches Redis through a TCP proxy that can partition: every
 * connection open then stops forwarding for good and stays open, new ones get
 * through again once it heals (docs/operations.md, "A subscriber connection
 * that never answers again"). The first test cuts off the connection that
 * feeds live subscriptions while events are published from a healthy one:
 * the app must notice (its PING goes unanswered), replace it and give every
 * subscriber what it missed. The second cuts off the command connection an
 * event log's catch-up reads through, as a partition does with the
 * subscriber's. The third stops the app during a partition. The subscribers
 * are pinged every 500 ms here instead of 5 s. The app logs to `lines`; what
 * it warns about is printed too.
 */
const PING_MS = 500;
let proxy: TcpProxy;
let app: TestApp;
let stopped = false;
let healthy: Redis;
let healthySubscriber: Redis;
/** The app's event log, reached without the proxy. */
let outside: EventLog;
const lines: { level: number; msg: string; sessionId?: string }[] = [];
const logger = createLogger({
  level: 'info',
  destination: {
    write: (line: string) => {
      const entry = JSON.parse(line) as (typeof lines)[number];
      lines.push(entry);
      if (entry.level >= 40) process.stdout.write(line);
    },
  },
});

beforeAll(async () => {
  proxy = await startLatencyProxy(inject('redisUrl'), 0);
  app = await startTestApp({ REDIS_URL: proxy.url, ATELIER_ROLE: 'api' }, { subscriberPingMs: PING_MS, logger });
  healthy = connectRedis(inject('redisUrl'), { name: 'outside-the-partition' });
  healthySubscriber = connectRedis(inject('redisUrl'), { name: 'outside-the-partition-events' });
  outside = new EventLog(healthy, healthySubscriber, app.config.redisPrefix);
});
afterAll(async () => {
  proxy?.heal();
  if (!stopped) await app?.close();
  healthy?.disconnect();
  healthySubscriber?.disconnect();
  await proxy?.close();
});

const SESSION_EVENTS = 'subscription($s: ID!) { sessionEvents(sessionId: $s) { eventId type } }';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a partition that cuts off the connection feeding live subscriptions', () => {
  it('replaces it once its PING goes unanswered, and each subscriber gets every event published meanwhile, in order, once', async () => {
    const owner = await signUp(app.url);
    const { createSession } = await gqlData<any>(app.url, 'mutation { createSession(name: "Partitioned") { id } }', {}, owner.token);
    const sessionId: string = createSession.id;
    const ids = (feed: ReturnType<typeof collect<any>>) => feed.items.map((item) => item.sessionEvents.eventId as string);
    // The first feed hears its own PRESENCE; the second (another tab: the same user, online already) hears
    // nothing before the partition, so has no event of its own to resume from.
    const first = collect<any>(wsClient(app.url, owner.token), SESSION_EVENTS, { s: sessionId });
    await waitFor(async () => first.items.length === 1, 10_000, 20);
    const second = collect<any>(wsClient(app.url, owner.token), SESSION_EVENTS, { s: sessionId });
    // Until the app has opened both (graphql-ws's onOperation, once `subscribe` has returned): the presence entry
    // is written before the reply to that write reaches the app, and a reply the partition cuts off fails the
    // subscription instead (a loaded machine leaves that window open for milliseconds).
    const opened = () => lines.filter((l) => l.msg === 'graphql-ws operation started' && l.sessionId === sessionId).length;
    await waitFor(async () => opened() === 2, 10_000, 20);
    expect(await healthy.hlen(`${app.config.redisPrefix}:presence:${sessionId}`)).toBe(2);
    const before = ids(first);

    proxy.partition();
    const cut = Date.now();
    const published: string[] = [];
    for (const online of [['a'], ['a', 'b'], ['b']]) {
      const event = { type: 'PRESENCE' as const, at: new Date().toISOString(), jobId: null, sessionId, actorId: owner.id, online };
      published.push((await outside.publish(event)).sessionEventId!);
    }
    // New connections get through from now on; the app's stay cut off until it replaces them.
    proxy.heal();

    // Noticed within a PING and the socket timeout; the catch-up reads through the command connection, itself
    // cut off and replaced once a read has waited on it for the socket timeout.
    const bound = PING_MS + 2 * REDIS_SOCKET_TIMEOUT_MS + 3000;
    await waitFor(async () => ids(first).length === before.length + 3 && ids(second).length === 3, bound, 50).catch(() => undefined);
    const took = Date.now() - cut;
    console.log(`subscribers caught up ${took} ms after the partition began`);
    expect(ids(first)).toEqual([...before, ...published]);
    expect(ids(second)).toEqual(published);
    expect(took).toBeLessThan(bound);

    // Live again, on the new connection, and nothing twice.
    const { sessionEventId } = await outside.publish({ type: 'PRESENCE', at: new Date().toISOString(), jobId: null, sessionId, actorId: owner.id, online: [] });
    await waitFor(async () => ids(first).length === before.length + 4 && ids(second).length === 4, 5000, 20);
    await sleep(200);
    expect(ids(first)).toEqual([...before, ...published, sessionEventId]);
    expect(ids(second)).toEqual([...published, sessionEventId]);
    expect([...first.errors, ...second.errors]).toEqual([]);
    first.dispose();
    second.dispose();
  }, 60_000);
});

describe('a catch-up whose command connection was cut off too', () => {
  it('reads again until that connection is replaced, so nothing published while the subscriber was away is lost', async () => {
    const prefix = `catch-up-${randomUUID()}`;
    const commandProxy = await startLatencyProxy(inject('redisUrl'), 0);
    const commands = connectRedis(commandProxy.url, { name: 'catch-up-commands' });
    commands.on('error', () => undefined); // its socket timeout, expected here
    const subscriber = connectRedis(inject('redisUrl'), { name: 'catch-up-events' });
    const events = new EventLog(commands, subscriber, prefix);
    const publisher = new EventLog(healthy, healthySubscriber, prefix);
    const jobId = randomUUID();
    const progress = (step: number) => ({
      type: 'PROGRESS' as const, at: new Date().toISOString(), jobId, sessionId: null, actorId: null, step, totalSteps: 3, elapsedMs: 0, etaMs: 0,
    });
    const queue = await events.subscribe('job', jobId, 'start');
    const steps: number[] = [];
    const take = async () => {
      while (queue.size > 0) steps.push(((await queue.next()).value as { step: number }).step);
      return steps.length;
    };
    try {
      await publisher.publish(progress(1));
      await waitFor(async () => (await take()) === 1, 5000, 10);
      subscriber.disconnect();
      await waitFor(async () => subscriber.status === 'end', 5000, 10);
      // Published while the subscriber is away; the command connection the catch-up reads through is cut off
      // meanwhile (a new one would get through).
      for (const step of [2, 3]) await publisher.publish(progress(step));
      commandProxy.partition();
      commandProxy.heal();
      const back = Date.now();
      await subscriber.connect();
      // Its first read times out (the command timeout); the connection is replaced once that read has waited
      // for the socket timeout, and a later try reads what was missed.
      await waitFor(async () => (await take()) === 3, REDIS_SOCKET_TIMEOUT_MS + 4000, 50).catch(() => undefined);
      console.log(`caught up ${Date.now() - back} ms after the subscriber was back`);
      expect(steps).toEqual([1, 2, 3]);
      await publisher.publish(progress(4));
      await waitFor(async () => (await take()) === 4, 5000, 10);
      expect(steps).toEqual([1, 2, 3, 4]);
    } finally {
      await queue.return();
      commands.disconnect();
      subscriber.disconnect();
      await commandProxy.close();
    }
  }, 30_000);
});

describe('stopping the app during a partition', () => {
  it('ends in bounded time, with every queue connection dropped and no unhandled error event', async () => {
    const printed = vi.spyOn(console, 'error');
    try {
      proxy.partition();
      const started = Date.now();
      await app.close();
      stopped = true;
      const took = Date.now() - started;
      console.log(`the app stopped ${took} ms into the partition`);
      // The webhook and housekeeping workers drop their connections after 5 s, then the housekeeping queue and,
      // together, the other three each wait at most the command timeout (3 s).
      expect(took).toBeLessThan(20_000);
      // Past the socket timeout of any QUIT sent on a cut-off connection: a client still open then reports it.
      await sleep(started + REDIS_SOCKET_TIMEOUT_MS + 2000 - Date.now());
      const unhandled = printed.mock.calls.filter((call) => String(call[0]).includes('Unhandled error event'));
      expect(unhandled.map((call) => call.map(String).join(' '))).toEqual([]);
    } finally {
      printed.mockRestore();
    }
  }, 60_000);
});
