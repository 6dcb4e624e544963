import path from 'node:path';
import { DiffusionPipeline } from '../src/gpu-worker/pipeline/diffusion-pipeline';
import * as factory from '../test/support/factories';
import { collect, gqlData, wsClient } from '../test/support/graphql';
import { benchModels, row, startBenchApp, startProfiler, time } from './harness';

const USERS = 4;
const JOBS_PER_USER = 6;
/** Bursts like the measured one that both sides run first (`THROUGHPUT_WARMUP`). */
const WARMUP = Number(process.env.THROUGHPUT_WARMUP ?? 2);
const REQUEST = { prompt: 'a lighthouse on a cliff at dusk', width: 256, height: 256, steps: 20, guidanceScale: 7.5, seed: 7, count: 1 };

/**
 * Back-to-back throughput: 4 users each submit 6 jobs at once (256², 20
 * steps) and the clock stops at the last COMPLETED; the baseline renders the
 * same 24 requests back to back on a bare pipeline in this process. Both
 * warm up first, so neither pays a model load. The service runs with one job
 * at a time per worker (the default) and with two, which overlaps one job's
 * bookkeeping with the next one's inference.
 */
export async function throughputBench(): Promise<void> {
  const total = USERS * JOBS_PER_USER;
  console.log(`\n== back-to-back throughput (${USERS} users × ${JOBS_PER_USER} jobs, 256², 20 steps, tiny model, CPU) ==`);
  const seeds = Array.from({ length: total }, (_, k) => REQUEST.seed + k);
  const bare = await DiffusionPipeline.load(path.join(await benchModels(), 'atelier-tiny'), { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  // The same warm-up as the service gets: one job, then THROUGHPUT_WARMUP bursts.
  for (let k = 0; k < 1 + WARMUP * seeds.length; k += 1) await bare.generate({ ...REQUEST, seed: k });
  const [bareMs] = await time(async () => {
    for (const seed of seeds) await bare.generate({ ...REQUEST, seed });
  });
  await bare.release();
  for (const concurrency of [1, 2]) {
    const serviceMs = await throughService(seeds, concurrency);
    row(`throughput, ${total} jobs from ${USERS} users ÷ bare, worker concurrency ${concurrency}`, (total * 1000) / serviceMs, (total * 1000) / bareMs, 'img/s', '≥ 0.9');
  }
}

/** Milliseconds from submitting every job (user k % 4 submits job k) to the last COMPLETED, after one warm-up job. */
async function throughService(seeds: number[], concurrency: number): Promise<number> {
  const app = await startBenchApp({ ATELIER_WORKER_CONCURRENCY: String(concurrency) });
  const users = await Promise.all(Array.from({ length: USERS }, () => factory.user(app, { tier: 'ENTERPRISE' })));
  const clients = users.map((u) => wsClient(app.url, u.token));
  const submit = async (u: number, seed: number) => {
    const { createGeneration } = await gqlData<any>(app.url, 'mutation($i:GenerationInput!){ createGeneration(input:$i){ id } }', { i: { ...REQUEST, seed } }, users[u].token);
    await collect<any>(clients[u], 'subscription($id:ID!){ jobUpdated(jobId:$id){ type } }', { id: createGeneration.id }).done;
  };
  await submit(0, 1);
  // A running service is past V8's warm-up: the first calls run unoptimised code.
  for (let w = 0; w < WARMUP; w += 1) await Promise.all(seeds.map((seed, k) => submit(k % USERS, seed)));
  // THROUGHPUT_PROFILE=file.cpuprofile: a CPU profile of the main thread during the burst with worker concurrency 2.
  const profiler = concurrency === 2 && process.env.THROUGHPUT_PROFILE ? await startProfiler() : null;
  const [ms] = await time(() => Promise.all(seeds.map((seed, k) => submit(k % USERS, seed))));
  await profiler?.(process.env.THROUGHPUT_PROFILE!);
  await Promise.all(clients.map((c) => c.dispose()));
  await app.stop();
  await app.teardown();
  return ms;
}
