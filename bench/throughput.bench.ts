import path from 'node:path';
import { DiffusionPipeline } from '../src/gpu-worker/pipeline/diffusion-pipeline';
import { startLatencyProxy } from '../test/support/latency-proxy';
import { startTestS3Server } from '../test/support/s3-server';
import { bareClient, lastPrompt, withComfyModel } from './backend.bench';
import * as factory from '../test/support/factories';
import { collect, gqlData, wsClient } from '../test/support/graphql';
import { benchModels, besideBusyLoop, cpuPerOp, processCpu, row, startBenchApp, startChild, startProfiler, threadCpu, threadCpuPerOp, time } from './harness';

const USERS = 4;
const JOBS_PER_USER = 6;
/** Bursts like the measured one that both sides run first (`THROUGHPUT_WARMUP`). */
const WARMUP = Number(process.env.THROUGHPUT_WARMUP ?? 2);
const REQUEST = { prompt: 'a lighthouse on a cliff at dusk', width: 256, height: 256, steps: 20, guidanceScale: 7.5, seed: 7, count: 1 };

/**
 * Back-to-back throughput: 4 users each submit 6 jobs at once (256², 20
 * steps) and the clock stops at the last COMPLETED; the baseline renders the
 * same 24 requests back to back on a bare pipeline in this process, just
 * before and just after each measured burst (their mean is that row's
 * baseline, so a change in the machine's load between rows moves both
 * sides). Both warm up first, so neither pays a model load. The service renders one job
 * at a time per worker (the default) and two; either way a job is stored and
 * recorded while the next one renders (gpu-worker/render-slots.ts). A third
 * run, one at a time, stores the images in S3 a few milliseconds away, where
 * that overlap hides the PUT's round trips.
 */
export async function throughputBench(): Promise<void> {
  const total = USERS * JOBS_PER_USER;
  console.log(`\n== back-to-back throughput (${USERS} users × ${JOBS_PER_USER} jobs, 256², 20 steps, tiny model, CPU) ==`);
  const seeds = Array.from({ length: total }, (_, k) => REQUEST.seed + k);
  const bare = await DiffusionPipeline.load(path.join(await benchModels(), 'atelier-tiny'), { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  // The same warm-up as the service gets: one job, then THROUGHPUT_WARMUP bursts.
  for (let k = 0; k < 1 + WARMUP * seeds.length; k += 1) await bare.generate({ ...REQUEST, seed: k });
  const bareBurst = async () => (await time(async () => {
    for (const seed of seeds) await bare.generate({ ...REQUEST, seed });
  }))[0];
  const bareMs = await bareBurst();
  // The machine's own floor: the same renders while a plain busy loop in another process holds the other
  // core, which the service's bookkeeping, database and Redis must share with the render thread.
  const spunMs = await besideBusyLoop(bareBurst);
  // Each row's baseline is the bare burst run just before and just after its own, so both sides see the same load.
  for (const concurrency of [1, 2]) {
    const { serviceMs, adjacentBareMs } = await throughService(seeds, concurrency, {}, bareBurst);
    row(`throughput, ${total} jobs from ${USERS} users ÷ bare, worker concurrency ${concurrency}`, (total * 1000) / serviceMs, (total * 1000) / adjacentBareMs, 'img/s', '≥ 0.9');
  }
  // Images stored in an S3 bucket a few milliseconds away, as in production: each PUT is a round trip.
  const s3 = await startTestS3Server();
  const proxy = await startLatencyProxy(s3.endpoint, S3_DELAY_MS);
  try {
    const { serviceMs, adjacentBareMs } = await throughService(seeds, 1, {
      ATELIER_STORAGE: 's3', ATELIER_S3_ENDPOINT: proxy.url, ATELIER_S3_BUCKET: s3.bucket,
      ATELIER_S3_ACCESS_KEY_ID: s3.accessKeyId, ATELIER_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    }, bareBurst);
    row(`the same, concurrency 1, images to S3 ${S3_DELAY_MS} ms away each way (s3rver behind a delay)`, (total * 1000) / serviceMs, (total * 1000) / adjacentBareMs, 'img/s');
  } finally {
    await proxy.close();
    await s3.close();
    await bare.release();
  }
  row('  reference: the bare pipeline beside a busy loop in another process ÷ bare', (total * 1000) / spunMs, (total * 1000) / bareMs, 'img/s');
}

/** One way, between the service and its S3 bucket (s3rver in this process, behind a delaying TCP proxy). */
const S3_DELAY_MS = 5;

/** The ComfyUI test server's wait per step, on top of its tiny model's render. */
const REMOTE_STEP_DELAY_MS = 2;

/**
 * The same burst through a ComfyUI server (the test server in its own
 * process, 64², 20 steps of 2 ms plus the tiny model's render), against a
 * bare ComfyUI client sending the same 24 prompts back to back. ComfyUI runs
 * one prompt at a time, so what Atelier does between two prompts shows
 * directly.
 */
export async function remoteThroughputBench(): Promise<void> {
  const seeds = Array.from({ length: USERS * JOBS_PER_USER }, (_, k) => REQUEST.seed + k);
  console.log(`\n== back-to-back throughput through ComfyUI (${USERS} users × ${JOBS_PER_USER} jobs, 64², 20 steps of ${REMOTE_STEP_DELAY_MS} ms, test server in its own process) ==`);
  await withComfyModel(REMOTE_STEP_DELAY_MS, async (app, modelId, comfyUrl) => {
    const request = { ...REQUEST, width: 64, height: 64, modelId };
    const users = await Promise.all(Array.from({ length: USERS }, () => factory.user(app, { tier: 'ENTERPRISE' })));
    const clients = users.map((u) => wsClient(app.url, u.token));
    const submit = async (u: number, seed: number) => {
      const { createGeneration } = await gqlData<any>(app.url, 'mutation($i:GenerationInput!){ createGeneration(input:$i){ id } }', { i: { ...request, seed } }, users[u].token);
      await collect<any>(clients[u], 'subscription($id:ID!){ jobUpdated(jobId:$id){ type } }', { id: createGeneration.id }).done;
    };
    // Every prompt has a seed of its own, so ComfyUI's cache never skips a run.
    const burst = (round: number) => Promise.all(seeds.map((seed, k) => submit(k % USERS, 1000 * round + seed)));
    const bare = async (round: number) => {
      for (const seed of seeds) await bareClient(comfyUrl, sent, 100_000 + 1000 * round + seed);
    };
    // Warm both sides alike; the bare client replays exactly the workflow Atelier sent.
    await submit(0, 1);
    const sent = await lastPrompt(comfyUrl);
    for (let w = 1; w <= WARMUP; w += 1) {
      await burst(w);
      await bare(w);
    }
    const [serviceMs] = await time(() => burst(WARMUP + 1));
    const [bareMs] = await time(() => bare(WARMUP + 1));
    row(`throughput, ${seeds.length} jobs from ${USERS} users through ComfyUI ÷ a bare ComfyUI client`, (seeds.length * 1000) / serviceMs, (seeds.length * 1000) / bareMs, 'img/s', '≥ 0.9');
    await Promise.all(clients.map((c) => c.dispose()));
  });
}

/**
 * Milliseconds from submitting every job (user k % 4 submits job k) to the
 * last COMPLETED, after one warm-up job and the warm-up bursts; and the mean
 * of `bareBurst` run just before and just after that burst.
 */
async function throughService(
  seeds: number[], concurrency: number, env: Record<string, string>, bareBurst: () => Promise<number>,
): Promise<{ serviceMs: number; adjacentBareMs: number }> {
  const app = await startBenchApp({ ATELIER_WORKER_CONCURRENCY: String(concurrency), ...env });
  const users = await Promise.all(Array.from({ length: USERS }, () => factory.user(app, { tier: 'ENTERPRISE' })));
  // The users' programs run in a child process (bench/job-clients.ts), as they would beside a real service.
  const clients = startChild('job-clients.js');
  const burst = async (burstSeeds: number[]) => (await clients.ask<{ ms: number }>({ url: app.url, tokens: users.map((u) => u.token), request: REQUEST, seeds: burstSeeds })).ms;
  await burst([1]);
  // A running service is past V8's warm-up: the first calls run unoptimised code.
  for (let w = 0; w < WARMUP; w += 1) await burst(seeds);
  const bareBefore = await bareBurst();
  // THROUGHPUT_PROFILE=file.cpuprofile: a CPU profile of the main thread during the burst with worker concurrency 2.
  const profiler = concurrency === 2 && process.env.THROUGHPUT_PROFILE ? await startProfiler() : null;
  const [threadsBefore, processesBefore] = [threadCpu(), processCpu()];
  const ms = await burst(seeds);
  // Where the burst's CPU went, per image: this process's main thread (the API and the worker's bookkeeping),
  // its other threads (render, embedded database, libuv), Redis and the users' programs.
  const threads = threadCpuPerOp(threadsBefore, seeds.length);
  const cpu = cpuPerOp(processesBefore, seeds.length, (pid, name) => (name.startsWith('redis-server') ? 'redis' : pid === clients.pid ? 'clients' : null));
  console.log(`  CPU per image in the burst: main thread ${threads.main.toFixed(1)} ms, other threads ${threads.others.toFixed(1)} ms, Redis ${(cpu.redis ?? 0).toFixed(1)} ms, the users' programs ${(cpu.clients ?? 0).toFixed(1)} ms`);
  await profiler?.(process.env.THROUGHPUT_PROFILE!);
  const bareAfter = await bareBurst();
  clients.close();
  await app.stop();
  await app.teardown();
  return { serviceMs: ms, adjacentBareMs: (bareBefore + bareAfter) / 2 };
}
