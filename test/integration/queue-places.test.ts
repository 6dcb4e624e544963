import type { GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobStatus } from '../../src/entities';
import type { AtelierEvent, EventPublisher } from '../../src/kernel/events';
import { placeCount, publishQueuePositions, readStepCosts, recordStepCost, remainingWorkMs } from '../../src/services/queue-positions';
import { randomUUID } from 'node:crypto';
import { JobKind } from '../../src/entities';
import { systemClock } from '../../src/kernel/clock';
import { buildAppSchema } from '../../src/schema/build';
import type { Viewer } from '../../src/services/auth';
import * as factory from '../support/factories';
import { gqlData, signUp } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { countStatements, executeAs, seedPendingJobs, setStepCost } from '../support/library';

/**
 * Places in line read for many jobs at once (services/queue-positions.ts,
 * `placesOf`): a page of waiting jobs asking for `queuePosition` and
 * `etaSeconds`, and a batch's QUEUED events, cost one statement, not one
 * count per job, and say what a count per job says.
 */
let app: TestApp;
let schema: GraphQLSchema;

beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' }); // nothing starts the seeded jobs
  schema = await buildAppSchema();
  await setStepCost(app.db, app.redis, app.config.redisPrefix, 100); // so etaSeconds is known and reads the place too
});
afterAll(() => app?.close());

const CREATE = 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id queuePosition } }';
const PAGE = '{ jobs(first: 100) { edges { node { id status queuePosition etaSeconds } } } }';

/** The place each job has by a plain count over the whole line: what placesOf must agree with. */
async function countedPlaces(ids: string[]): Promise<Record<string, number>> {
  const rows = await app.db.query(
    `SELECT j.id, (SELECT COUNT(*) FROM jobs l WHERE l.status = 'PENDING' AND (l.priority < j.priority OR (l.priority = j.priority AND l.created_at < j.created_at))) AS ahead
     FROM jobs j WHERE j.id = ANY($1)`, [ids]);
  return Object.fromEntries(rows.map((row: { id: string; ahead: string }) => [row.id, Number(row.ahead)]));
}

async function viewerFor(): Promise<{ id: string; viewer: Viewer }> {
  const user = await signUp(app.url);
  return { id: user.id, viewer: (await app.services.auth.authenticate(`Bearer ${user.token}`)) as Viewer };
}

describe('places in line, many at once', () => {
  it('a page of waiting jobs costs one place statement however long it is, with the places a count per job gives', async () => {
    const counts: number[] = [];
    for (const size of [3, 40]) {
      const { id, viewer } = await viewerFor();
      // Mixed priorities, so places interleave with other users' jobs and each other.
      const ids = await seedPendingJobs(app.db, id, Array.from({ length: size }, (_, i) => [5, 1, 9, 5][i % 4]));
      const { result, statements } = await countStatements(app.db, () => executeAs(schema, app.services, viewer, PAGE));
      expect(result.errors).toBeUndefined();
      const nodes = (result.data as any).jobs.edges.map((e: any) => e.node);
      expect(nodes).toHaveLength(size);
      const expected = await countedPlaces(ids);
      for (const node of nodes) {
        expect(node.queuePosition).toBe(expected[node.id]);
        expect(node.etaSeconds).toBeGreaterThan(0);
      }
      counts.push(statements.filter((sql) => /RANK\(\)|COUNT\(\*\)/.test(sql)).length);
    }
    expect(counts).toEqual([1, 1]);
  });

  it('placesOf agrees with the count of one job, ties and the front of the line included, and leaves out jobs no longer waiting', async () => {
    const { id } = await viewerFor();
    const ids = await seedPendingJobs(app.db, id, [3, 3, 0, 7, 3]);
    // Two rows with the same priority and age: neither is ahead of the other.
    await app.db.query('UPDATE jobs SET created_at = (SELECT created_at FROM jobs WHERE id = $1) WHERE id = $2', [ids[0], ids[1]]);
    await app.db.query(`UPDATE jobs SET status = '${JobStatus.CANCELLED}' WHERE id = $1`, [ids[4]]);
    const jobs = await app.services.jobQueries.placesOf(await app.db.query('SELECT id, priority, created_at AS "createdAt" FROM jobs WHERE id = ANY($1)', [ids]));
    const expected = await countedPlaces(ids.slice(0, 4));
    expect(jobs.get(ids[0])!.position).toBe(expected[ids[0]]);
    expect(jobs.get(ids[1])!.position).toBe(expected[ids[0]]);
    for (const jobId of ids.slice(2, 4)) expect(jobs.get(jobId)!.position).toBe(expected[jobId]);
    expect(jobs.has(ids[4])).toBe(false);
    // One job alone takes the count's path: the same place, and nothing for a job no longer waiting.
    for (const [i, job] of (await app.db.query('SELECT id, priority, created_at AS "createdAt" FROM jobs WHERE id = ANY($1)', [ids])).entries()) {
      const alone = await app.services.jobQueries.placesOf([job]);
      expect(alone.get(job.id)?.position, `job ${i}`).toBe(jobs.get(job.id)?.position);
    }
    // Went ahead of someone: a job waits with a larger priority number (later in line).
    const highest = (await app.db.query(`SELECT MAX(priority) AS p FROM jobs WHERE status = 'PENDING'`))[0].p;
    expect(jobs.get(ids[2])!.wentAhead).toBe(0 < highest);
    expect(jobs.get(ids[3])!.wentAhead).toBe(7 < highest);
  });
});

describe("one job's count", () => {
  it("counts a job's place in the line's own index, not by reading every waiting job's row", async () => {
    const owner = await factory.user(app, { tier: 'ENTERPRISE', prefix: 'line' });
    const { createGeneration: job } = await gqlData<any>(app.url, CREATE, { input: { prompt: 'a template row', width: 64, height: 64, steps: 2 } }, owner.token);
    const runner = app.db.createQueryRunner();
    await runner.startTransaction();
    try {
      // A long line among many finished jobs, copied from that row; rolled back, so no worker ever sees it.
      await runner.query(
        `INSERT INTO jobs SELECT (json_populate_record(NULL::jobs, (to_jsonb(j) || jsonb_build_object(
           'id', gen_random_uuid(), 'status', CASE WHEN g % 8 = 0 THEN 'PENDING' ELSE 'COMPLETED' END,
           'priority', g % 50, 'created_at', now() - g * interval '1 second', 'idempotency_key', NULL))::json)).*
         FROM jobs j, generate_series(1, 2000) g WHERE j.id = $1`, [job.id]);
      await runner.query('ANALYZE jobs');
      // At this size a sequential scan may still win; what is asked is which index serves the count.
      await runner.query('SET LOCAL enable_seqscan = off');
      const { sql, params } = placeCount({ priority: 25, createdAt: new Date() });
      const [{ 'QUERY PLAN': plan }] = await runner.query(`EXPLAIN (FORMAT JSON) SELECT ${sql}`, params);
      expect(JSON.stringify(plan)).toContain('"Index Name":"idx_jobs_pending_order"');
      const [place] = await runner.query(`SELECT ${sql}`, params);
      const [plain] = await runner.query(
        `SELECT COUNT(*) FILTER (WHERE priority < $1 OR (priority = $1 AND created_at < $2)) AS ahead, COUNT(*) FILTER (WHERE priority > $1) AS behind
         FROM jobs WHERE status = 'PENDING'`, params);
      expect(Number(plain.ahead)).toBeGreaterThanOrEqual(120);
      expect(Number(plain.behind)).toBeGreaterThanOrEqual(120);
      expect({ ahead: Number(place.ahead), behind: place.behind }).toEqual({ ahead: Number(plain.ahead), behind: true });
      // The count walks the entries ahead of the job only, and whether any wait behind it is a probe:
      // the index entries read stay under the length of the line, which the old whole-line count read.
      const [{ 'QUERY PLAN': [analyzed] }] = await runner.query(`EXPLAIN (ANALYZE, FORMAT JSON) SELECT ${sql}`, params);
      let read = 0;
      const walk = (node: any) => {
        if (String(node['Node Type']).includes('Index')) read += node['Actual Rows'] + (node['Rows Removed by Filter'] ?? 0);
        for (const child of node.Plans ?? []) walk(child);
      };
      walk(analyzed.Plan);
      expect(read).toBeGreaterThanOrEqual(Number(plain.ahead));
      expect(read).toBeLessThan(Number(plain.ahead) + Number(plain.behind));
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  });
});

describe('ETAs by size', () => {
  it("counts a job's size: a 1000² job is told four times a 500² one's time, and POSITION adds each job ahead at its own size", async () => {
    const { id, viewer } = await viewerFor();
    // At the back of the line (a larger priority number than any other here), the big one first.
    const [big, small, running] = await seedPendingJobs(app.db, id, [50, 50, 50]);
    await app.db.query('UPDATE jobs SET width = 1000, height = 1000, steps = 30 WHERE id = $1', [big]);
    await app.db.query('UPDATE jobs SET width = 500, height = 500, steps = 30 WHERE id = $1', [small]);
    await app.db.query(`UPDATE jobs SET width = 1000, height = 1000, steps = 30, step = 10, status = '${JobStatus.PROCESSING}' WHERE id = $1`, [running]);
    const { result } = await countStatements(app.db, () => executeAs(schema, app.services, viewer, PAGE));
    expect(result.errors).toBeUndefined();
    const byId = Object.fromEntries((result.data as any).jobs.edges.map((e: any) => [e.node.id, e.node]));
    // 100 ms per one-megapixel step (setStepCost): 30 steps of 1 MP = 3,000 ms; of 0.25 MP = 750 ms.
    expect(byId[big].etaSeconds).toBe(Math.ceil((3000 * (1 + byId[big].queuePosition)) / 1000));
    expect(byId[small].etaSeconds).toBe(Math.ceil((750 * (1 + byId[small].queuePosition)) / 1000));
    expect(byId[running].etaSeconds).toBe(2); // 20 steps left of 1 MP

    const published: AtelierEvent[] = [];
    const events: EventPublisher = { publish: async (event) => (published.push(event), {}), publishAll: async (batch) => void published.push(...batch) };
    await publishQueuePositions({ db: app.db, events, clock: systemClock, redis: app.redis, prefix: app.config.redisPrefix });
    const at = (jobId: string) => published.findIndex((e) => 'jobId' in e && e.jobId === jobId);
    const eta = (i: number) => (published[i] as { etaMs: number }).etaMs;
    expect(at(small)).toBe(at(big) + 1);
    expect(eta(at(big)) - eta(at(big) - 1)).toBeCloseTo(3000, -1);
    expect(eta(at(small)) - eta(at(big))).toBeCloseTo(750, -1);
  });
});

describe('a step\'s cost', () => {
  it('is fitted as a fixed part plus a part per megapixel once renders of two sizes are in, and in proportion to pixels before', async () => {
    const modelId = randomUUID();
    const job = (side: number, steps = 10) => ({ modelId, width: side, height: side, kind: JobKind.IMAGE, steps, count: 1, videoFrames: null });
    // A step costs 20 ms plus 40 ms per megapixel on this model.
    const truth = (side: number) => 20 + 40 * (side * side) / 1e6;
    const costs = () => readStepCosts(app.redis, app.config.redisPrefix, [modelId]);
    expect((await costs()).has(modelId)).toBe(false);

    await recordStepCost(app.redis, app.config.redisPrefix, job(256), 10 * truth(256));
    const one = (await costs()).get(modelId)!;
    expect(one.fixedMs).toBe(0); // one size seen: in proportion to pixels
    expect(remainingWorkMs(job(256), one)).toBeCloseTo(10 * truth(256), 3);

    await recordStepCost(app.redis, app.config.redisPrefix, job(1024), 10 * truth(1024));
    const two = (await costs()).get(modelId)!;
    expect(two.fixedMs).toBeCloseTo(20, 3);
    expect(two.msPerMp).toBeCloseTo(40, 3);
    expect(remainingWorkMs(job(512, 30), two)).toBeCloseTo(30 * truth(512), 2);
    expect(remainingWorkMs(job(512, 30), two, 10)).toBeCloseTo(20 * truth(512), 2);
  });

  it('counts every render when workers finish renders of one model at once', async () => {
    const modelId = randomUUID();
    const key = `${app.config.redisPrefix}:stats:step-cost:${modelId}`;
    const render = { modelId, width: 1000, height: 1000, kind: JobKind.IMAGE, steps: 10, count: 1, videoFrames: null };
    await Promise.all(Array.from({ length: 20 }, () => recordStepCost(app.redis, app.config.redisPrefix, render, 300)));
    // Each fold decays the weight by 0.8 and adds 1: after 20, Σ 0.8^k for k < 20. A lost fold would leave less.
    const weight = (1 - 0.8 ** 20) / (1 - 0.8);
    expect(Number(await app.redis.hget(key, 'w'))).toBeCloseTo(weight, 5);
    expect((await readStepCosts(app.redis, app.config.redisPrefix, [modelId])).get(modelId)!.msPerMp).toBeCloseTo(30, 5);
  });
});
