import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisScript } from '../../src/redis/script';
import { collect, gqlData, signUp, wsClient, wsConnect } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { monitorRedis } from '../support/redis-monitor';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
});
afterAll(async () => {
  await app?.close();
});

/**
 * Every path that runs a Lua script: sign-up throttle, the submission's limit, admission and tag in one
 * chain (and, for a new user's first job of the day, admission and tag alone once the day's counter is
 * rebuilt), event log, cancel, connection cap, presence.
 */
async function runEveryScript(): Promise<void> {
  const user = await signUp(app.url);
  const { createGeneration: job } = await gqlData<any>(app.url, 'mutation { createGeneration(input: { prompt: "scripts", width: 64, height: 64, steps: 2 }) { id } }', {}, user.token);
  const [{ priority }] = await app.db.query('SELECT priority FROM jobs WHERE id = $1', [job.id]);
  await app.services.scheduler.started(priority);
  await gqlData(app.url, 'mutation($id:ID!){ cancelJob(id:$id){ status } }', { id: job.id }, user.token);
  (await wsConnect(app.url, user.token)).dispose();
  const { createSession } = await gqlData<any>(app.url, 'mutation { createSession(name: "Scripts") { id } }', {}, user.token);
  const client = wsClient(app.url, user.token);
  const feed = collect<any>(client, 'subscription($s:ID!){ sessionEvents(sessionId:$s) { type } }', { s: createSession.id },
    (items) => items.some((i) => i.sessionEvents.type === 'PRESENCE'));
  await feed.done;
  await client.dispose();
  await new Promise((r) => setTimeout(r, 300)); // presence leave runs as the socket closes
}

describe('Redis scripts', () => {
  it('are sent once per connection, then called by SHA (EVALSHA), never as text again', async () => {
    await runEveryScript(); // loads each script on the app's connection
    const prefix = app.env.ATELIER_REDIS_PREFIX;
    const calls: string[][] = [];
    const monitor = await monitorRedis(inject('redisUrl'), (args) => {
      if (args.some((a) => a.includes(prefix))) calls.push(args);
    });
    await runEveryScript();
    monitor.stop();
    // Ours, not BullMQ's: EVAL carries the text, EVALSHA the SHA.
    const ours = new Map(RedisScript.all.flatMap((s) => [[s.sha, s.name], [s.lua, s.name]]));
    const scripted = calls.filter(([command, body]) => /^eval/i.test(command) && ours.has(body));
    expect(scripted.filter(([command]) => command.toLowerCase() !== 'evalsha').map(([, body]) => ours.get(body))).toEqual([]);
    expect([...new Set(scripted.map(([, sha]) => ours.get(sha)))].sort()).toEqual([
      'atelierConnectionAdd', 'atelierEventAppend', 'atelierFairAdvance', 'atelierFairTag', 'atelierPresence',
      'atelierQuotaAdmit', 'atelierQuotaRelease', 'atelierRateWindow', 'atelierRateWindow+atelierQuotaAdmit+atelierFairTag',
    ]);
  });
});
