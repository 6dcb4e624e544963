import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { utcDay } from '../../src/kernel/clock';
import { RedisScript, runScriptChain } from '../../src/redis/script';
import { DEFAULT_BAND_SIZE } from '../../src/services/scheduling';
import { collect, gql, gqlData, waitFor, wsClient } from '../support/graphql';
import * as factory from '../support/factories';
import type { TestUser } from '../support/factories';
import { startTestApp, type TestApp } from '../support/app';
import { monitorRedis } from '../support/redis-monitor';

/*
 * A submission's per-minute limit, admission and fair-scheduling tag run as
 * one Redis script (`runScriptChain`, JobService.admit): one round trip, and
 * a refusal stops the chain, so what the scripts would have left alone when
 * run one after the other is left alone here too.
 */
let app: TestApp;
let admin: TestUser;
beforeAll(async () => {
  // No worker: the jobs stay open, so open-job slots and tags stay as the submissions left them.
  app = await startTestApp({ ATELIER_ROLE: 'api' });
  admin = await factory.user(app, { role: 'ADMIN', prefix: 'chain-admin' });
});
afterAll(async () => {
  await app?.close();
});

const CREATE = 'mutation($i: GenerationInput!) { createGeneration(input: $i) { id queuePosition } }';
const INPUT = { prompt: 'a chain', width: 64, height: 64, steps: 1 };
const prefix = () => app.config.redisPrefix;

async function policy(tier: string, input: Record<string, number>): Promise<number> {
  const { updateTierPolicy } = await gqlData<any>(app.url, `mutation($i: TierPolicyInput!) { updateTierPolicy(tier: ${tier}, input: $i) { queuePriority } }`, { i: input }, admin.token);
  return updateTierPolicy.queuePriority;
}

/** What a user holds in Redis: open-job slots, requests counted this minute, and the fair scheduler's last tag. */
async function held(userId: string, band: number) {
  return {
    open: await app.redis.zcard(`${prefix()}:quota:open:${userId}`),
    counted: await app.redis.zcard(`${prefix()}:rate:generations:user:${userId}`),
    lastTag: await app.redis.hget(`${prefix()}:sched:${band}:last`, userId),
  };
}

describe('runScriptChain', () => {
  const echo = new RedisScript<unknown[]>('testChainEcho', 'any', 'return {tonumber(ARGV[1]), KEYS, ARGV}');
  const mark = new RedisScript<unknown[]>('testChainMark', 1, "redis.call('SET', KEYS[1], ARGV[1]) return {1}");

  it('hands each script its own keys and arguments, and stops after the first refusal', async () => {
    const key = (name: string) => `${prefix()}:chain-test:${name}:${randomBytes(4).toString('hex')}`;
    const [a, b, c] = [key('a'), key('b'), key('c')];
    const answers = await runScriptChain(app.redis, [
      { script: echo, keys: [a, b], args: [1, 'x'] },
      { script: echo, keys: [], args: [1] },
      { script: mark, keys: [c], args: ['ran'] },
    ]);
    expect(answers).toEqual([[1, [a, b], ['1', 'x']], [1, [], ['1']], [1]]);
    expect(await app.redis.get(c)).toBe('ran');

    const d = key('d');
    const stopped = await runScriptChain(app.redis, [
      { script: echo, keys: [a], args: [1] },
      { script: echo, keys: [b], args: [0, 'refused'] },
      { script: mark, keys: [d], args: ['ran'] },
    ]);
    expect(stopped).toEqual([[1, [a], ['1']], [0, [b], ['0', 'refused']]]);
    expect(await app.redis.get(d)).toBeNull();
  });
});

describe('a submission’s limit, admission and tag', () => {
  it('go to Redis as one script call', async () => {
    const user = await factory.user(app, { tier: 'ENTERPRISE', prefix: 'chain-one' });
    await gqlData(app.url, CREATE, { i: INPUT }, user.token); // loads the scripts on the app's connection
    await app.services.jobs.announced();
    const calls: string[][] = [];
    const monitor = await monitorRedis(inject('redisUrl'), (args) => {
      if (/^eval/i.test(args[0]) && args.some((a) => a.includes(prefix()))) calls.push(args);
    });
    await new Promise((resolve) => setTimeout(resolve, 50)); // MONITOR is on before the request
    await gqlData(app.url, CREATE, { i: INPUT }, user.token);
    await app.services.jobs.announced();
    const ours = new Map(RedisScript.all.map((s) => [s.sha, s.name]));
    // MONITOR reports a command after it ran: until QUEUED's append is in, then a moment for any call after it.
    await waitFor(async () => calls.some(([, sha]) => ours.get(sha) === 'atelierEventAppend'), 10_000, 10).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    monitor.stop();
    // The request's own limit (every request), the chain, then QUEUED; BullMQ's add is BullMQ's own script.
    expect(calls.map(([, sha]) => ours.get(sha)).filter(Boolean)).toEqual([
      'atelierRateWindow', 'atelierRateWindow+atelierQuotaAdmit+atelierFairTag', 'atelierEventAppend',
    ]);
  });

  it('a request over the per-minute limit takes no slot and no tag', async () => {
    const band = await policy('PRO', { generationsPerMinute: 2, maxOpenJobs: 100 });
    const user = await factory.user(app, { tier: 'PRO', prefix: 'chain-rate' });
    for (let i = 0; i < 2; i += 1) await gqlData(app.url, CREATE, { i: INPUT }, user.token);
    const before = await held(user.id, band);
    expect(before).toMatchObject({ open: 2, counted: 2 });
    expect(before.lastTag).not.toBeNull();
    const refused = await gql(app.url, CREATE, { i: INPUT }, user.token);
    expect(refused.errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    expect(refused.errors?.[0].message).toMatch(/^Rate limit of 2 generations per minute reached; retry in \d+ s$/);
    expect(await held(user.id, band)).toEqual(before);
    await policy('PRO', { generationsPerMinute: 60, maxOpenJobs: 5 });
  });

  it('over graphql-ws the same limit applies: bad input is not counted, the request over it is refused and takes nothing', async () => {
    const band = await policy('PRO', { generationsPerMinute: 2, maxOpenJobs: 100 });
    const user = await factory.user(app, { tier: 'PRO', prefix: 'chain-ws' });
    const ws = wsClient(app.url, user.token);
    const overSocket = async (input: Record<string, unknown>) => {
      const run = collect<any>(ws, CREATE, { i: input });
      await run.done;
      return run;
    };
    try {
      const bad = await overSocket({ ...INPUT, modelId: randomUUID() });
      expect((bad.errors[0] as any).extensions?.code).toBe('BAD_USER_INPUT');
      for (let i = 0; i < 2; i += 1) expect((await overSocket(INPUT)).items[0].createGeneration.id).toEqual(expect.any(String));
      const before = await held(user.id, band);
      expect(before).toMatchObject({ open: 2, counted: 2 });
      const refused = await overSocket(INPUT);
      expect((refused.errors[0] as any).extensions?.code).toBe('RATE_LIMITED');
      expect((refused.errors[0] as any).message).toMatch(/^Rate limit of 2 generations per minute reached; retry in \d+ s$/);
      expect(await held(user.id, band)).toEqual(before);
    } finally {
      await ws.dispose();
      await policy('PRO', { generationsPerMinute: 60, maxOpenJobs: 5 });
    }
  });

  it('a request admission refuses gets no tag, and counts against the limit as before', async () => {
    const band = await policy('FREE', { maxOpenJobs: 1, generationsPerMinute: 100 });
    const user = await factory.user(app, { tier: 'FREE', prefix: 'chain-quota' });
    await gqlData(app.url, CREATE, { i: INPUT }, user.token);
    const before = await held(user.id, band);
    const refused = await gql(app.url, CREATE, { i: INPUT }, user.token);
    expect(refused.errors?.[0].extensions?.code).toBe('QUOTA_EXCEEDED');
    expect(await held(user.id, band)).toEqual({ ...before, counted: before.counted + 1 });
    await policy('FREE', { maxOpenJobs: 2, generationsPerMinute: 10 });
  });

  it('a request that fails its checks is not counted against the limit', async () => {
    const band = await policy('PRO', { generationsPerMinute: 60, maxOpenJobs: 5 });
    const user = await factory.user(app, { tier: 'PRO', prefix: 'chain-bad' });
    const bad = await gql(app.url, CREATE, { i: { ...INPUT, modelId: randomUUID() } }, user.token);
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(await held(user.id, band)).toEqual({ open: 0, counted: 0, lastTag: null });
  });

  it('the first job of a day rebuilds the daily counter, then takes its tag and place on its own', async () => {
    const band = await policy('ENTERPRISE', { maxOpenJobs: 100 });
    const user = await factory.user(app, { tier: 'ENTERPRISE', prefix: 'chain-day' });
    const first = (await gqlData<any>(app.url, CREATE, { i: INPUT }, user.token)).createGeneration;
    const dayKey = `${prefix()}:quota:day:${user.id}:${utcDay(new Date())}`;
    await app.redis.del(dayKey);
    const second = (await gqlData<any>(app.url, CREATE, { i: INPUT }, user.token)).createGeneration;
    // Rebuilt from the one open job admitted today, then this one added.
    expect(await app.redis.get(dayKey)).toBe('2');
    const after = await held(user.id, band);
    expect(after).toMatchObject({ open: 2, counted: 2 });
    const rows = await app.db.query('SELECT id, priority FROM jobs WHERE id = ANY($1) ORDER BY created_at', [[first.id, second.id]]);
    expect(rows.map((r: { priority: number }) => r.priority - (band - 1) * DEFAULT_BAND_SIZE)).toEqual([Number(after.lastTag) - 1, Number(after.lastTag)]);
    // Its place, read with the tag taken on its own, is the one the rows give the answer.
    await app.services.jobs.announced();
    const entries = (await app.redis.xrange(`${prefix()}:events:job:${second.id}`, '-', '+')) as [string, string[]][];
    const queued = entries.map(([, fields]) => JSON.parse(fields[1])).find((e) => e.type === 'QUEUED');
    expect(queued.queuePosition).toBe(second.queuePosition);
  });
});
