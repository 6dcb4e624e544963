import { spawn } from 'node:child_process';
import path from 'node:path';
import WebSocket from 'ws';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAtelierClient, type AtelierClient, type JobEvent } from '../../sdk/src';
import { connectRedis } from '../../src/redis/connection';
import { EventLog } from '../../src/subscriptions/event-log';
import { collect, gqlData, signUp, waitFor, wsClient } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { startLatencyProxy, type TcpProxy } from '../support/latency-proxy';

/*
 * A subscription whose missed events the app cannot read back after its
 * subscriber connection came back is ended with SERVICE_UNAVAILABLE, and the
 * SDK and the CLI's `watch` subscribe again after their last event and end
 * with every event once, in order (docs/operations.md, "A subscription that
 * cannot be caught up").
 * The app reaches Redis through a proxy that can cut off or close the
 * connections of one of its clients by name: its command connection stays
 * cut off while its subscriber connection is closed and comes back, so the
 * catch-up's read waits out the command timeout (3 s), past the catch-up's
 * 500 ms here (12 s in production).
 */
let proxy: TcpProxy;
let app: TestApp;
let healthy: Redis;
let healthySubscriber: Redis;
/** The app's event log, reached without the proxy. */
let outside: EventLog;
let sdk: AtelierClient;

beforeAll(async () => {
  proxy = await startLatencyProxy(inject('redisUrl'), 0);
  app = await startTestApp({ REDIS_URL: proxy.url, ATELIER_ROLE: 'api' }, { eventCatchUpMs: 500 });
  healthy = connectRedis(inject('redisUrl'), { name: 'resume-outside' });
  healthySubscriber = connectRedis(inject('redisUrl'), { name: 'resume-outside-events' });
  outside = new EventLog(healthy, healthySubscriber, app.config.redisPrefix);
});
afterAll(async () => {
  proxy?.heal();
  await sdk?.close();
  await app?.close();
  healthy?.disconnect();
  healthySubscriber?.disconnect();
  await proxy?.close();
});

const JOB_UPDATED = 'subscription($id: ID!) { jobUpdated(jobId: $id) { eventId type step } }';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The built binary (`npm test` builds dist/ first). */
const CLI = path.resolve(__dirname, '../../dist/src/cli/main.js');

/** `atelier --json watch <sessionId>` running; `ids()` are the eventIds it has printed. */
function cliWatch(sessionId: string, token: string) {
  const proc = spawn(process.execPath, [CLI, '--json', 'watch', sessionId], {
    env: { PATH: process.env.PATH ?? '', ATELIER_URL: app.url, ATELIER_API_KEY: token },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => (stdout += d.toString()));
  proc.stderr.on('data', (d) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('close', resolve));
  const ids = () => stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line).eventId as string);
  return { ids, stderr: () => stderr, stop: () => (proc.kill('SIGINT'), exited) };
}

describe('a subscription the app cannot catch up after a Redis reconnection', () => {
  it('ends with SERVICE_UNAVAILABLE over graphql-ws; the SDK and the CLI resume after their last event: every event once, in order', async () => {
    const owner = await signUp(app.url, 'resume');
    sdk = createAtelierClient({ url: app.url, apiKey: owner.token, webSocketImpl: WebSocket });
    const { createSession: session } = await gqlData<any>(app.url, 'mutation { createSession(name: "Resumed") { id } }', {}, owner.token);
    // The CLI's feed opens from where the session stood and has its own PRESENCE: it has an event to resume after.
    const watch = cliWatch(session.id, owner.token);
    await waitFor(async () => watch.ids().length > 0, 15_000, 20);
    const { createGeneration: job } = await gqlData<any>(app.url, 'mutation($s: ID!) { createGeneration(input: { prompt: "resumed", width: 64, height: 64, steps: 3, sessionId: $s }) { id } }', { s: session.id }, owner.token);
    const raw = collect<any>(wsClient(app.url, owner.token), JOB_UPDATED, { id: job.id });
    const seen: JobEvent[] = [];
    const watching = (async () => {
      for await (const event of sdk.jobEvents(job.id)) seen.push(event);
    })();
    // Both replayed the job's story so far (QUEUED): they are open.
    await waitFor(async () => raw.items.length > 0 && seen.length === raw.items.length, 10_000, 20);
    const before = seen.map((event) => event.eventId);

    proxy.partition('atelier-commands');
    proxy.refuse('atelier-events');
    const progress = (step: number) => ({
      type: 'PROGRESS' as const, at: new Date().toISOString(), jobId: job.id, sessionId: session.id, actorId: owner.id, step, totalSteps: 3, elapsedMs: 0, etaMs: 0,
    });
    // Published while the app's subscriber connection is away: only its stream has it.
    // Its id in each stream: XADD gives each stream its own, the same only when neither had an entry in that millisecond.
    const { jobEventId: missed, sessionEventId: missedInSession } = await outside.publish(progress(1));
    // The subscriber connection may come back; the command connection stays cut off.
    proxy.heal();
    proxy.partition('atelier-commands');
    const back = Date.now();
    // Its read waits out the command timeout (3 s), and the catch-up gives up.
    await Promise.race([raw.done, sleep(10_000)]);
    const ended = Date.now();
    console.log(`the subscription ended ${ended - back} ms after the subscriber connection was let back`);
    expect(raw.errors.map((e) => JSON.stringify(e).match(/"code":"(\w+)"/)?.[1])).toEqual(['SERVICE_UNAVAILABLE']);
    expect(raw.items.map((item) => item.jobUpdated.eventId)).toEqual(before);

    // Redis answers the app's commands again (its cut-off connection closed, a new one made).
    proxy.refuse('atelier-commands');
    proxy.heal();
    const { jobEventId: live } = await outside.publish(progress(2));
    await waitFor(async () => seen.length === before.length + 2, 15_000, 20).catch(() => undefined);
    console.log(`the SDK had every event ${Date.now() - ended} ms after the subscription ended`);
    expect(seen.map((event) => event.eventId)).toEqual([...before, missed, live]);

    // The job's end reaches it too, and ends its stream.
    await gqlData(app.url, 'mutation($id: ID!) { cancelJob(id: $id) { status } }', { id: job.id }, owner.token);
    await watching;
    expect(seen.at(-1)?.type).toBe('CANCELLED');
    expect(new Set(seen.map((event) => event.eventId)).size).toBe(seen.length);

    // The session's feed has the same story: the CLI printed each of its events from its first on, once.
    const logged = (await outside.read('session', session.id, null)).map((event) => ({ id: event.eventId, type: event.type }));
    const cancelled = logged.find((event) => event.type === 'CANCELLED')!.id;
    await waitFor(async () => watch.ids().includes(cancelled), 10_000, 20).catch(() => undefined);
    expect(await watch.stop(), watch.stderr()).toBe(0);
    const printed = watch.ids();
    const ids = logged.map((event) => event.id);
    expect(printed.slice(0, printed.indexOf(cancelled) + 1)).toEqual(ids.slice(ids.indexOf(printed[0]), ids.indexOf(cancelled) + 1));
    expect(printed).toContain(missedInSession);
  }, 60_000);
});
