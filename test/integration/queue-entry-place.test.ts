import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_BAND_SIZE, FairScheduler } from '../../src/services/scheduling';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { gqlData, signUp, waitFor } from '../support/graphql';
import { countStatements } from '../support/library';

/*
 * A new job's place in line is read where workers take jobs from, BullMQ's
 * prioritized set, in the same Redis call that gives it its fair-scheduling
 * tag (services/scheduling.ts): two ZCOUNTs, however long the line, and no
 * count over the jobs table on the submission's path.
 */

describe('the place read with the tag', () => {
  const prefix = `t${randomBytes(5).toString('hex')}`;
  let redis: Redis;
  let queue: Queue;
  let scheduler: FairScheduler;

  beforeAll(async () => {
    redis = new Redis(inject('redisUrl'));
    queue = new Queue('place', { connection: { url: inject('redisUrl') }, prefix: `${prefix}:bull` });
    scheduler = new FairScheduler(redis, prefix, { prioritizedKey: queue.keys.prioritized });
  });
  afterAll(async () => {
    await queue?.obliterate({ force: true });
    await queue?.close();
    redis?.disconnect();
  });

  it('counts exactly at the scores of the lowest band, where a score has 16 digits', async () => {
    const band = 4;
    const first = await scheduler.enter(band, 'first');
    expect(first.priority).toBe((band - 1) * DEFAULT_BAND_SIZE + 1);
    expect(first.place).toEqual({ position: 0, wentAhead: false });
    // BullMQ scores an entry priority * 2^32 + its insertion counter. Entries of the same priority sit just
    // under the next priority's first score, and entries of the next priority just above it: a bound
    // rounded to 14 digits, as Lua's tostring writes it, would count some of them on the wrong side.
    const p = BigInt(first.priority);
    const scale = 2n ** 32n;
    const entries: string[] = [];
    for (let k = 0n; k < 40n; k += 1n) {
      entries.push(String(p * scale + scale - 1n - k), `same-${k}`);
      entries.push(String((p + 1n) * scale + k), `next-${k}`);
    }
    await redis.zadd(queue.keys.prioritized, ...entries);
    // Another user's first job gets the same tag: the 40 entries of its priority are ahead, the others behind.
    const second = await scheduler.enter(band, 'second');
    expect(second.priority).toBe(first.priority);
    expect(second.place).toEqual({ position: 40, wentAhead: true });
  });
});

describe('a new job’s place through the API', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ ATELIER_ROLE: 'api' }); // nothing takes the jobs: the line only grows
  });
  afterAll(() => app?.close());

  const CREATE = 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id queuePosition } }';
  const INPUT = { prompt: 'a place in line', width: 64, height: 64, steps: 2 };

  async function events(jobId: string): Promise<{ type: string; queuePosition?: number }[]> {
    const entries = (await app.redis.xrange(`${app.config.redisPrefix}:events:job:${jobId}`, '-', '+')) as [string, string[]][];
    return entries.map(([, fields]) => JSON.parse(fields[1]));
  }
  const queuedAt = async (jobId: string) => (await events(jobId)).find((e) => e.type === 'QUEUED')?.queuePosition;
  const lastPosition = async (jobId: string) => (await events(jobId)).filter((e) => e.type === 'POSITION').at(-1)?.queuePosition;

  it('QUEUED and the answer say the same place across tiers and ties; those it went ahead of are told; no count of the jobs table', async () => {
    const a = await factory.user(app, { tier: 'ENTERPRISE', prefix: 'a' });
    const b = await factory.user(app, { tier: 'ENTERPRISE', prefix: 'b' });
    const pro = await factory.user(app, { tier: 'PRO', prefix: 'pro' });
    const free = await signUp(app.url, 'free');
    const submit = async (token: string) => (await gqlData<any>(app.url, CREATE, { input: INPUT }, token)).createGeneration as { id: string; queuePosition: number };

    // A's three jobs take tags 1-3; FREE's two wait behind every ENTERPRISE job.
    const jobs: Record<string, { id: string; queuePosition: number }> = {};
    for (const name of ['a1', 'a2', 'a3']) jobs[name] = await submit(a.token);
    for (const name of ['f1', 'f2']) jobs[name] = await submit(free.token);
    // PRO's job goes ahead of FREE's two; B's first job takes tag 1, behind A's first (same priority, earlier).
    jobs.p1 = await submit(pro.token);
    const { result, statements } = await countStatements(app.db, () => gqlData<any>(app.url, 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id } }', { input: INPUT }, b.token));
    jobs.b1 = { id: result.createGeneration.id, queuePosition: 1 };

    const queued = { a1: 0, a2: 1, a3: 2, f1: 3, f2: 4, p1: 3, b1: 1 };
    for (const [name, place] of Object.entries(queued)) {
      expect(await queuedAt(jobs[name].id), name).toBe(place);
      // The answer's place is read from the rows when asked; with every waiting row in the queue, the same.
      expect(jobs[name].queuePosition, name).toBe(place);
    }
    // B's submission counted nothing over the jobs table: its one statement is the INSERT.
    expect(statements.filter((sql) => /COUNT\(|RANK\(/i.test(sql))).toEqual([]);
    expect(statements.filter((sql) => /^\s*INSERT INTO "jobs"/.test(sql))).toHaveLength(1);

    // The jobs B and PRO went ahead of are told their new places, which the rows agree with.
    const final = { a1: 0, b1: 1, a2: 2, a3: 3, p1: 4, f1: 5, f2: 6 };
    for (const name of ['a2', 'a3', 'p1', 'f1', 'f2'] as const) {
      await waitFor(async () => (await lastPosition(jobs[name].id)) === final[name], 5_000);
    }
    const page = await gqlData<any>(app.url, '{ jobs(first: 10) { edges { node { id queuePosition } } } }', {}, free.token);
    expect(page.jobs.edges.map((e: any) => e.node.queuePosition).sort()).toEqual([final.f1, final.f2].sort());
  });
});
