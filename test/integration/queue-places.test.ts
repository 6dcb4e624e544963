import type { GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobStatus } from '../../src/entities';
import type { AtelierEvent, EventPublisher } from '../../src/kernel/events';
import { publishQueuePositions } from '../../src/services/queue-positions';
import { systemClock } from '../../src/kernel/clock';
import { buildAppSchema } from '../../src/schema/build';
import type { Viewer } from '../../src/services/auth';
import { signUp } from '../support/graphql';
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

  it('placesOf agrees with the count the INSERT makes, ties and the front of the line included, and leaves out jobs no longer waiting', async () => {
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
    const events: EventPublisher = { publish: async (event) => (published.push(event), {}) };
    await publishQueuePositions({ db: app.db, events, clock: systemClock, redis: app.redis, prefix: app.config.redisPrefix });
    const at = (jobId: string) => published.findIndex((e) => 'jobId' in e && e.jobId === jobId);
    const eta = (i: number) => (published[i] as { etaMs: number }).etaMs;
    expect(at(small)).toBe(at(big) + 1);
    expect(eta(at(big)) - eta(at(big) - 1)).toBeCloseTo(3000, -1);
    expect(eta(at(small)) - eta(at(big))).toBeCloseTo(750, -1);
  });
});
