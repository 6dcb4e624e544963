import path from 'node:path';
import { DiffusionPipeline } from '../src/gpu-worker/pipeline/diffusion-pipeline';
import * as factory from '../test/support/factories';
import { collect, gqlData, wsClient } from '../test/support/graphql';
import { benchModels, row, startBenchApp, time } from './harness';

const USERS = 4;
const JOBS_PER_USER = 6;
const REQUEST = { prompt: 'a lighthouse on a cliff at dusk', width: 256, height: 256, steps: 20, guidanceScale: 7.5, seed: 7, count: 1 };

/**
 * Back-to-back throughput: 4 users each submit 6 jobs at once (256², 20
 * steps) and the clock stops at the last COMPLETED; the baseline renders the
 * same 24 requests back to back on a bare pipeline in this process. Both
 * warm up first, so neither pays a model load.
 */
export async function throughputBench(): Promise<void> {
  const total = USERS * JOBS_PER_USER;
  console.log(`\n== back-to-back throughput (${USERS} users × ${JOBS_PER_USER} jobs, 256², 20 steps, tiny model, CPU) ==`);
  const app = await startBenchApp();
  const users = await Promise.all(Array.from({ length: USERS }, () => factory.user(app, { tier: 'ENTERPRISE' })));
  const clients = users.map((u) => wsClient(app.url, u.token));
  const submit = async (u: number, seed: number) => {
    const { createGeneration } = await gqlData<any>(app.url, 'mutation($i:GenerationInput!){ createGeneration(input:$i){ id } }', { i: { ...REQUEST, seed } }, users[u].token);
    await collect<any>(clients[u], 'subscription($id:ID!){ jobUpdated(jobId:$id){ type } }', { id: createGeneration.id }).done;
  };
  const requests = Array.from({ length: total }, (_, k) => ({ user: k % USERS, seed: REQUEST.seed + k }));

  await submit(0, 1);
  const [serviceMs] = await time(() => Promise.all(requests.map((r) => submit(r.user, r.seed))));

  const bare = await DiffusionPipeline.load(path.join(await benchModels(), 'atelier-tiny'), { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  await bare.generate(REQUEST);
  const [bareMs] = await time(async () => {
    for (const r of requests) await bare.generate({ ...REQUEST, seed: r.seed });
  });
  row(`throughput, ${total} jobs from ${USERS} users ÷ bare pipeline back to back`, (total * 1000) / serviceMs, (total * 1000) / bareMs, 'img/s', '≥ 0.9');
  await bare.release();
  await Promise.all(clients.map((c) => c.dispose()));
  await app.stop();
  await app.teardown();
}
