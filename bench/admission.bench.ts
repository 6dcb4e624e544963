import { execute, parse, type GraphQLSchema } from 'graphql';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Pool } from 'pg';
import { buildAppSchema, buildBaseSchema } from '../src/schema/build';
import { createLoaders } from '../src/resolvers/loaders';
import type { AppContext } from '../src/resolvers/context';
import type { Services } from '../src/resolvers/context';
import { JobService } from '../src/services/jobs';
import * as factory from '../test/support/factories';
import { gqlData } from '../test/support/graphql';
import { jobInsert } from './job-floor';
import { cpuPerOp, median, processCpu, row, startBenchApp, startChild, startProfiler, threadCpu, threadCpuPerOp, time } from './harness';

const MUTATION = parse('mutation($i: GenerationInput!) { createGeneration(input: $i) { id status seed } }');
const INPUT = { prompt: 'a quiet harbour', width: 256, height: 256, steps: 4 };
const N = 200;
/** Calls in each measured phase after the warm-up (`ADMISSION_RUNS`). */
const ADMISSION_RUNS = Number(process.env.ADMISSION_RUNS ?? 600);
const CONCURRENCY = 8;

/** CPU milliseconds (user + system) this process spent per operation in the last `throughput` call. */
let cpuMsPerOp = 0;

/**
 * Runs `task` n times with `concurrency` in flight; returns operations per
 * second (and sets cpuMsPerOp: on a shared machine the CPU an operation
 * costs this process moves less with the load than its rate does).
 */
async function throughput(task: (i: number) => Promise<unknown>, concurrency = CONCURRENCY, n = N): Promise<number> {
  let next = 0;
  const cpu = process.cpuUsage();
  const [ms] = await time(() => Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) await task(next++);
  })));
  const used = process.cpuUsage(cpu);
  cpuMsPerOp = (used.user + used.system) / 1000 / n;
  return (n * 1000) / ms;
}

/**
 * The durable floor of a submission: one raw `pg` transaction inserting the
 * same jobs row TypeORM writes for a job, then its BullMQ entry. Nothing of
 * Atelier's (auth, limits, validation, events) runs.
 */
async function durableFloor(app: Awaited<ReturnType<typeof startBenchApp>>, ownerId: string, queue: Queue) {
  const rowOf = await jobInsert(app, ownerId);
  const [sql] = rowOf(randomUUID(), { ...INPUT, seed: 1 });
  const pool = app.config.databaseUrl ? new Pool({ connectionString: app.config.databaseUrl, max: 64 }) : null;
  const insert = async (id: string) => {
    const params = rowOf(id, { ...INPUT, seed: 1 })[1];
    if (!pool) return void await app.db.transaction((m) => m.query(sql, params));
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(sql, params);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  };
  const written: string[] = [];
  return {
    submit: async (i: number) => {
      const id = randomUUID();
      written.push(id);
      await insert(id);
      await queue.add('generate', { jobId: id, requestId: null }, { jobId: id, priority: 1 + (i % 100) });
    },
    /** Removes the floor's rows (outside any timed phase): they are not Atelier's line, which a new job counts. */
    clear: async () => {
      await app.db.query('DELETE FROM jobs WHERE id = ANY($1)', [written.splice(0)]);
    },
    close: () => pool?.end(),
  };
}

/**
 * createGeneration with permissions (graphql-shield) and quotas/rate limits
 * on, against the same mutation on the unshielded schema with a JobService
 * whose admission checks are no-ops; and mutations per second against bare
 * BullMQ `queue.add` at the same concurrency.
 */
/** The HTTP clients, in a child process (bench/admission-clients.ts); one phase at a time. */
export function startClients() {
  const child = startChild('admission-clients.js');
  return {
    run: async (plan: Record<string, unknown>) => (await child.ask<{ ms: number }>(plan)).ms,
    pid: child.pid,
    close: child.close,
  };
}

export async function admissionBench(): Promise<void> {
  console.log(`\n== admission (createGeneration; calls/s measured after ${process.env.ADMISSION_WARMUP ?? 4000} warm-up calls at each concurrency) ==`);
  // Nothing renders the jobs these phases queue: the service-wide cap on open jobs is raised past their total.
  const app = await startBenchApp({ ATELIER_ROLE: 'api', ATELIER_MAX_QUEUED_JOBS: '100000' });
  const user = await factory.user(app, { tier: 'ENTERPRISE', role: 'ADMIN' });
  await gqlData(app.url, 'mutation { updateTierPolicy(tier: ENTERPRISE, input: { maxOpenJobs: 10000, generationsPerMinute: 100000, requestsPerMinute: 1000000, imagesPerDay: -1 }) { tier } }', {}, user.token);
  const viewer = await app.services.auth.authenticate(`Bearer ${user.token}`);
  const guarded: GraphQLSchema = await buildAppSchema();
  const bare: GraphQLSchema = await buildBaseSchema();
  const unguardedJobs = new JobService({
    ...(app.services.jobs as unknown as { deps: ConstructorParameters<typeof JobService>[0] }).deps,
    quotas: Object.assign(Object.create(app.services.quotas), { admit: async () => undefined, release: async () => undefined }),
    rateLimiter: Object.assign(Object.create(app.services.rateLimiter), { hit: async () => undefined }),
  });
  const context = (services: Services, as = viewer): AppContext => ({ requestId: 'bench', viewer: as, services, loaders: createLoaders(app.db), transport: 'http' });
  const run = (schema: GraphQLSchema, services: Services, as = viewer) => async () => {
    const result = await execute({ schema, document: MUTATION, variableValues: { i: INPUT }, contextValue: context(services, as) });
    if (result.errors) throw new Error(JSON.stringify(result.errors));
  };
  const on = run(guarded, app.services);
  const off = run(bare, { ...app.services, jobs: unguardedJobs } as Services);
  const onTimes: number[] = [];
  const offTimes: number[] = [];
  for (let i = 0; i < 40; i += 1) {
    onTimes.push((await time(on))[0]);
    offTimes.push((await time(off))[0]);
  }
  row('createGeneration latency, permissions+quotas on ÷ off', median(onTimes), median(offTimes), 'ms', '≤ 1.3');

  const queue = new Queue('bench-bare', { connection: { host: app.redis.options.host, port: app.redis.options.port }, prefix: `${app.config.redisPrefix}:bare` });
  const floor = await durableFloor(app, user.id, queue);
  const clients = startClients();
  // Plain ENTERPRISE users: an admin's own per-minute limits would stop the warm-up. A new one for each
  // phase, as a user holds at most 10,000 open jobs and nothing renders these.
  const caller = () => factory.user(app, { tier: 'ENTERPRISE' });
  const plan = { url: app.url, token: (await caller()).token, query: 'mutation($i: GenerationInput!) { createGeneration(input: $i) { id } }', variables: { i: INPUT } };
  const database = app.config.databaseUrl ? 'PostgreSQL' : 'PGlite in memory';
  /** Every process on the machine by what it is to this bench (the floor's calls run in this process too). */
  const kind = (pid: number, name: string) => pid === process.pid ? 'API' : pid === clients.pid ? 'clients'
    : name === 'postgres' ? 'PostgreSQL' : name === 'redis-server' ? 'Redis' : null;
  const describeCpu = (cpu: Record<string, number>) => ['API', 'PostgreSQL', 'Redis', 'clients', 'other']
    .map((k) => `${k} ${(cpu[k] ?? 0).toFixed(2)}`).join(', ') + ` ms (total ${Object.values(cpu).reduce((a, b) => a + b, 0).toFixed(2)})`;
  /** Calls per second of `n` calls over HTTP, and the API process's CPU milliseconds per call. */
  const overHttp = async (concurrency: number, n: number, profile?: string) => {
    const profiler = profile ? await startProfiler() : null;
    const cpu = process.cpuUsage();
    const threads = threadCpu();
    const ms = await clients.run({ ...plan, concurrency, n });
    const used = process.cpuUsage(cpu);
    const split = threadCpuPerOp(threads, n);
    await profiler?.(profile!);
    return { ops: (n * 1000) / ms, cpuMs: (used.user + used.system) / 1000 / n, systemMs: used.system / 1000 / n, ...split };
  };
  // The first calls after start run code V8 has not optimised yet: printed, not the goal.
  await clients.run({ ...plan, concurrency: CONCURRENCY, n: CONCURRENCY });
  const cold = await overHttp(CONCURRENCY, N);
  console.log(`${''.padEnd(58)} first ${N} calls after start: ${cold.ops.toFixed(0)} calls/s, ${cold.cpuMs.toFixed(2)} ms CPU a call`);
  // ADMISSION_WARMUP: calls before each measured phase (a running service is past its warm-up). After
  // 1,000, V8's compiler threads still spent 0.55 ms a call optimising; after 4,000, under 0.2 (docs/performance.md).
  const warmup = Number(process.env.ADMISSION_WARMUP ?? 4000);
  const floorAt = new Map<number, number>();
  for (const concurrency of [8, 64]) {
    const n = Math.max(ADMISSION_RUNS, concurrency * 8);
    plan.token = (await caller()).token;
    await clients.run({ ...plan, concurrency, n: warmup });
    await throughput(floor.submit, concurrency, Math.min(warmup, n));
    await floor.clear();
    // ADMISSION_PROFILE=file.cpuprofile: a CPU profile of the API during the 8-in-flight HTTP phase.
    const oursStart = processCpu();
    const ours = await overHttp(concurrency, n, concurrency === 8 ? process.env.ADMISSION_PROFILE : undefined);
    const oursCpu = cpuPerOp(oursStart, n, kind);
    const floorStart = processCpu();
    const floorOps = await throughput(floor.submit, concurrency, n);
    floorAt.set(concurrency, floorOps);
    const floorCpu = cpuPerOp(floorStart, n, kind);
    await floor.clear();
    row(`createGeneration/s over HTTP ÷ raw txn + queue.add, ${concurrency} in flight`, ours.ops, floorOps, 'ops/s', '≥ 0.5');
    row(`  CPU of the API process per call (floor: of its process), ${concurrency} in flight`, ours.cpuMs, cpuMsPerOp, 'ms');
    // The kernel's share: a CPU profile shows socket writes as wall time on the thread (the peer they wake may run first).
    console.log(`${''.padEnd(58)} of which in the kernel (system time): ${ours.systemMs.toFixed(2)} ms a call`);
    // The other threads are mostly V8's optimising compiler, still at work after the warm-up (docs/performance.md).
    console.log(`${''.padEnd(58)} of which on the main thread ${ours.main.toFixed(2)} ms, on its other threads ${ours.others.toFixed(2)} ms`);
    console.log(`${''.padEnd(58)} the machine's CPU a call, ours: ${describeCpu(oursCpu)}`);
    console.log(`${''.padEnd(58)} the machine's CPU a call, the floor: ${describeCpu(floorCpu)}`);
    // The transport's own ceiling here: the same clients and HTTP path (Express, Apollo Server, the token),
    // answering `{ __typename }`, with no admission, no database and no queue.
    const bareStart = processCpu();
    const bareMs = await clients.run({ ...plan, query: '{ __typename }', variables: {}, concurrency, n });
    const bareCpu = cpuPerOp(bareStart, n, kind);
    row(`  reference: { __typename } over the same HTTP ÷ the floor`, (n * 1000) / bareMs, floorOps, 'ops/s');
    console.log(`${''.padEnd(58)} the machine's CPU a call, { __typename }: ${describeCpu(bareCpu)}`);
  }
  // An integrator's calls: the same mutation signed with an API key instead of a token (docs/architecture.md,
  // "The request path": the key is kept in memory as the user is), against the 8-in-flight floor above.
  const integrator = await caller();
  const { createApiKey } = await gqlData<{ createApiKey: { secret: string } }>(app.url, 'mutation { createApiKey(name: "bench") { secret } }', {}, integrator.token);
  plan.token = createApiKey.secret;
  await clients.run({ ...plan, concurrency: CONCURRENCY, n: 1000 });
  // ADMISSION_KEY_PROFILE=file.cpuprofile: a CPU profile of the API during this phase.
  const keyed = await overHttp(CONCURRENCY, ADMISSION_RUNS, process.env.ADMISSION_KEY_PROFILE);
  row(`createGeneration/s with an API key ÷ the floor, ${CONCURRENCY} in flight`, keyed.ops, floorAt.get(CONCURRENCY)!, 'ops/s');
  console.log(`${''.padEnd(58)} CPU of the API process per call: ${keyed.cpuMs.toFixed(2)} ms`);
  // What an integrator's script does while it waits: poll one of its jobs by id (a reference, no goal).
  const poller = await caller();
  const polled = await gqlData<{ createGeneration: { id: string } }>(app.url, 'mutation($i: GenerationInput!) { createGeneration(input: $i) { id } }', { i: INPUT }, poller.token);
  Object.assign(plan, { token: poller.token, query: 'query($id: ID!) { job(id: $id) { status step } }', variables: { id: polled.createGeneration.id } });
  await clients.run({ ...plan, concurrency: CONCURRENCY, n: 1000 });
  const polls = await overHttp(CONCURRENCY, ADMISSION_RUNS);
  console.log(`${''.padEnd(58)} a job(id) poll, ${CONCURRENCY} in flight: ${polls.ops.toFixed(0)} calls/s, ${polls.cpuMs.toFixed(2)} ms of the API's CPU a call`);
  clients.close();
  // The same mutation executed in this process (graphql, permissions, cost, the services; no HTTP), 8 at once,
  // after the same warm-up: what a call costs the API before its transport.
  // As the HTTP phases' caller: an admin is held to the admins' own per-minute limits.
  const inProcess = run(guarded, app.services, await app.services.auth.authenticate(`Bearer ${(await caller()).token}`));
  await throughput(inProcess, CONCURRENCY, warmup);
  await throughput(inProcess, CONCURRENCY, ADMISSION_RUNS);
  console.log(`${''.padEnd(58)} the mutation executed in-process, ${CONCURRENCY} at once: ${cpuMsPerOp.toFixed(2)} ms of the API's CPU a call`);
  console.log(`${''.padEnd(58)} database: ${database}`);
  await floor.close();
  await queue.obliterate({ force: true });
  await queue.close();
  await app.stop();
  await app.teardown();
}
