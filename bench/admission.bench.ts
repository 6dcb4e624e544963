import { execute, parse, type GraphQLSchema } from 'graphql';
import { Queue } from 'bullmq';
import { buildAppSchema, buildBaseSchema } from '../src/schema/build';
import { createLoaders } from '../src/resolvers/loaders';
import type { AppContext } from '../src/resolvers/context';
import type { Services } from '../src/resolvers/context';
import { JobService } from '../src/services/jobs';
import * as factory from '../test/support/factories';
import { gqlData } from '../test/support/graphql';
import { median, row, startBenchApp, time } from './harness';

const MUTATION = parse('mutation($i: GenerationInput!) { createGeneration(input: $i) { id status seed } }');
const INPUT = { prompt: 'a quiet harbour', width: 256, height: 256, steps: 4 };
const N = 200;
const CONCURRENCY = 8;

/** Runs `task` N times with CONCURRENCY in flight; returns operations per second. */
async function throughput(task: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const [ms] = await time(() => Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < N) await task(next++);
  })));
  return (N * 1000) / ms;
}

/**
 * createGeneration with permissions (graphql-shield) and quotas/rate limits
 * on, against the same mutation on the unshielded schema with a JobService
 * whose admission checks are no-ops; and mutations per second against bare
 * BullMQ `queue.add` at the same concurrency.
 */
export async function admissionBench(): Promise<void> {
  console.log(`\n== admission (createGeneration, ${N} calls, ${CONCURRENCY} at once) ==`);
  const app = await startBenchApp({ ATELIER_ROLE: 'api' });
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
  const context = (services: Services): AppContext => ({ requestId: 'bench', viewer, services, loaders: createLoaders(app.db), transport: 'http' });
  const run = (schema: GraphQLSchema, services: Services) => async () => {
    const result = await execute({ schema, document: MUTATION, variableValues: { i: INPUT }, contextValue: context(services) });
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

  const mutations = await throughput(() => gqlData(app.url, 'mutation($i: GenerationInput!) { createGeneration(input: $i) { id } }', { i: INPUT }, user.token));
  const queue = new Queue('bench-bare', { connection: { url: app.config.redisUrl ?? (app.redis.options as { host?: string }).host, host: app.redis.options.host, port: app.redis.options.port }, prefix: `${app.config.redisPrefix}:bare` });
  const adds = await throughput((i) => queue.add('generate', { jobId: `bare-${i}`, requestId: null }, { jobId: `bare-${i}-${Date.now()}`, priority: 1 + (i % 100) }));
  row('createGeneration over HTTP ÷ bare queue.add (ops/s)', mutations, adds, 'ops/s', '≥ 0.5');
  await queue.obliterate({ force: true });
  await queue.close();
  await app.stop();
  await app.redisStop?.();
}
