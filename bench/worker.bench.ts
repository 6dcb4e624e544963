import path from 'node:path';
import { DiffusionPipeline } from '../src/gpu-worker/pipeline/diffusion-pipeline';
import { ThreadedPipeline } from '../src/gpu-worker/pipeline/threaded-pipeline';
import { describeLoraTargets, writeLoraSafetensors } from '../src/gpu-worker/lora/writer';
import * as factory from '../test/support/factories';
import { Tier, TierPolicy } from '../src/entities';
import { startJobFloor } from './job-floor';
import { benchModels, besideBusyLoop, CpuTally, median, row, startBenchApp, startChild, time } from './harness';
import os from 'node:os';

/**
 * Runs measured of each side (`WORKER_RUNS`): 25, where 7 were enough for one
 * ratio, since the floors' medians (a few milliseconds over the render) and
 * the CPU read in 10 ms ticks need more (docs/performance.md, "A job's
 * guarantees in plain parts").
 */
const RUNS = Number(process.env.WORKER_RUNS ?? 25);
/**
 * Jobs and bare runs before the measured ones (`WORKER_WARMUP`): a running
 * service is past V8's warm-up. After 20 jobs V8 was still optimising a
 * function or two a job on its background threads, on the same 2 cores as
 * the job (docs/performance.md, "How long the service takes to warm up").
 */
const WARMUP = Number(process.env.WORKER_WARMUP ?? 200);
/** The idle spell of the reference row: about what the service's render thread waits between jobs. */
const IDLE_PAUSE_MS = 10;
const REQUEST = { prompt: 'a lighthouse on a cliff at dusk', width: 256, height: 256, steps: 20, guidanceScale: 7.5, seed: 7, count: 1 };

export async function workerBench(): Promise<void> {
  console.log('\n== worker (tiny model, CPU, 1 intra-op thread) ==');
  const modelDir = path.join(await benchModels(), 'atelier-tiny');

  // 1. End-to-end job vs the bare pipeline, interleaved so both see the same machine load.
  // ATELIER_ONNX_CPU_ARENA reaches the service and the bare pipeline alike, so one bench compares the
  // two settings (docs/performance.md, "A render's memory given back").
  const arena = process.env.ATELIER_ONNX_CPU_ARENA;
  const app = await startBenchApp(arena ? { ATELIER_ONNX_CPU_ARENA: arena } : {});
  const loadOptions = { executionProviders: ['cpu'], intraOpNumThreads: 1, cpuMemArena: app.config.onnxCpuArena };
  const user = await factory.user(app, { tier: 'ENTERPRISE' });
  // The warm-up alone is 200 jobs: ENTERPRISE's 300 generations a minute would refuse a run with more
  // `WORKER_RUNS`. The bench measures a job's path, not the rate limit (the admission bench has that).
  await app.db.getRepository(TierPolicy).update({ tier: Tier.ENTERPRISE }, { generationsPerMinute: 1_000_000 });
  const bare = await DiffusionPipeline.load(modelDir, loadOptions);
  // What a client sees: the job submitted through GraphQL and watched on its subscription to COMPLETED,
  // by a program in a process of its own (bench/job-clients.ts), as beside a real service, so that its
  // HTTP and graphql-ws work is not done on the service's event loop (docs/performance.md, "The worker
  // bench's client and fewer allocations per event").
  const clients = startChild('job-clients.js');
  const redisPid = Number(((await app.redis.info('server')).match(/process_id:(\d+)/) ?? [])[1]);
  const kind = (pid: number, name: string) => pid === redisPid ? 'Redis' : pid === clients.pid ? 'client' : name === 'postgres' ? 'PostgreSQL' : null;
  const endToEnd = async (request: typeof REQUEST, reconnect = false) =>
    (await clients.ask<{ ms: number }>({ url: app.url, tokens: [user.token], request, seeds: [request.seed], reconnect })).ms;
  // The same client against a job's guarantees kept by plain parts (bench/job-floor.ts): the render on
  // this thread, as the bare pipeline's; and in a thread of its own, as the service renders (no stalls).
  const threaded = await ThreadedPipeline.load(modelDir, loadOptions);
  const floors = [
    { label: 'the same job kept by plain parts', floor: await startJobFloor(app, user.id, bare, 'plain') },
    { label: 'the same, rendered in a thread', floor: await startJobFloor(app, user.id, threaded, 'threaded') },
  ];
  const atFloor = async (url: string, request: typeof REQUEST) =>
    (await clients.ask<{ ms: number }>({ url, tokens: ['floor'], request, seeds: [request.seed] })).ms;
  const compare = async (label: string, request: typeof REQUEST, runs: number, warmup: number, goal?: string, withFloors = false) => {
    const used = withFloors ? floors : [];
    for (let i = 0; i < warmup; i += 1) {
      await bare.generate(request);
      await endToEnd(request);
      for (const { floor } of used) await atFloor(floor.url, request);
    }
    const e2e: number[] = [];
    const pipe: number[] = [];
    const plain = used.map(() => [] as number[]);
    // The machine's CPU for each side's runs, read between runs (bench/harness.ts, `CpuTally`).
    const cpu = { bare: new CpuTally(kind), ours: new CpuTally(kind), floors: used.map(() => new CpuTally(kind)) };
    for (let i = 0; i < runs; i += 1) {
      pipe.push(await cpu.bare.during(async () => (await time(() => bare.generate(request)))[0]));
      e2e.push(await cpu.ours.during(() => endToEnd(request)));
      for (const [k, { floor }] of used.entries()) plain[k].push(await cpu.floors[k].during(() => atFloor(floor.url, request)));
    }
    row(label, median(e2e), median(pipe), 'ms', goal);
    console.log(`${''.padEnd(58)} fixed overhead per job ≈ ${(median(e2e) - median(pipe)).toFixed(1)} ms`);
    for (const [k, { label: floorLabel }] of used.entries()) {
      row(`  reference: ${floorLabel} ÷ bare`, median(plain[k]), median(pipe), 'ms');
      console.log(`${''.padEnd(58)} what a job's guarantees cost this way ≈ ${(median(plain[k]) - median(pipe)).toFixed(1)} ms`);
    }
    if (used.length) row(`  end-to-end job ÷ ${used.at(-1)!.label}`, median(e2e), median(plain.at(-1)!), 'ms');
    console.log(`${''.padEnd(58)} the machine's CPU a job (this process's main thread and other threads, Redis, the client, PostgreSQL):`);
    for (const [name, tally] of [['bare', cpu.bare], ['ours', cpu.ours], ...used.map(({ label: l }, k) => [l, cpu.floors[k]] as const)] as const) {
      console.log(`${''.padEnd(60)} ${name}: ${tally.describe(runs)}`);
    }
    return median(pipe);
  };
  const pipe = [await compare('end-to-end job ÷ bare pipeline (256², 20 steps)', REQUEST, RUNS, WARMUP, '≤ 1.10', true)];
  for (const { floor } of floors) await floor.close();
  await threaded.release();
  // The machine's own share of that overhead: the same render while a plain busy loop in another process
  // holds the other core, which the service's HTTP, bookkeeping, database and Redis work takes during a job.
  const spun = await besideBusyLoop(async () => {
    const runs: number[] = [];
    for (let i = 0; i < RUNS; i += 1) runs.push((await time(() => bare.generate(REQUEST)))[0]);
    return median(runs);
  });
  row('  reference: the bare pipeline beside a busy loop ÷ bare', spun, pipe[0], 'ms');
  console.log(`${''.padEnd(58)} what sharing the cores alone costs a render ≈ ${(spun - pipe[0]).toFixed(1)} ms`);
  // The machine's other share: a thread that has idled runs its next work slower (on a VM whose idle vCPUs
  // halt, 2-3× for a millisecond or so; docs/performance.md, "A thread that has idled comes back slower").
  // A job's threads idle between its hand-offs; a bare loop's never does. Blocks of each, alternating
  // (one run after a pause between two back-to-back ones does not show it), the pause about what the
  // service's render thread idles between one job's PNG and the next job's run.
  const paused: number[] = [];
  const backToBack: number[] = [];
  for (let block = 0; block < 6; block += 1) {
    for (let i = 0; i < 2 * RUNS; i += 1) {
      if (block % 2) await new Promise((resolve) => setTimeout(resolve, IDLE_PAUSE_MS));
      (block % 2 ? paused : backToBack).push((await time(() => bare.generate(REQUEST)))[0]);
    }
  }
  row(`  reference: the bare pipeline after ${IDLE_PAUSE_MS} ms idle ÷ back to back`, median(paused), median(backToBack), 'ms');
  console.log(`${''.padEnd(58)} what an idle spell alone costs a render ≈ ${(median(paused) - median(backToBack)).toFixed(1)} ms`);
  // A client that opens its graphql-ws connection for each job (graphql-ws's default, and the SDK's before
  // `socketIdleMs`) against one that keeps it, as the row above does, interleaved.
  const kept: number[] = [];
  const reconnected: number[] = [];
  for (let i = 0; i < 3 * RUNS; i += 1) {
    kept.push(await endToEnd(REQUEST));
    reconnected.push(await endToEnd(REQUEST, true));
  }
  row('  reference: a new connection per job ÷ the connection kept', median(reconnected), median(kept), 'ms');
  console.log(`${''.padEnd(58)} what a connection's handshake and sign-in add to a job ≈ ${(median(reconnected) - median(kept)).toFixed(1)} ms`);
  // The service is warm by now: a few runs at the new size are enough.
  await compare('end-to-end job ÷ bare pipeline (1024², 30 steps)', { ...REQUEST, width: 1024, height: 1024, steps: 30 }, 3, 3, '≤ 1.10');
  clients.close();

  // 2. Warm job (model cached) vs cold (load + first run).
  const cold: number[] = [];
  for (let i = 0; i < 3; i += 1) {
    cold.push((await time(async () => {
      const fresh = await DiffusionPipeline.load(modelDir, loadOptions);
      await fresh.generate(REQUEST);
      await fresh.release();
    }))[0]);
  }
  row('warm job ÷ cold job (model load + first run)', median(pipe), median(cold), 'ms');

  // 3. Swapping LoRAs on a loaded model vs reloading the base model.
  const targets = describeLoraTargets(bare);
  const loraFile = path.join(os.tmpdir(), `bench-lora-${process.pid}.safetensors`);
  await writeLoraSafetensors(loraFile, {
    targets: Object.fromEntries(targets.map((t) => {
      const rank = 2;
      const up = Float32Array.from({ length: t.outFeatures * rank }, (_, k) => Math.sin(k) * 0.05);
      const down = Float32Array.from({ length: rank * t.inFeatures }, (_, k) => Math.cos(k) * 0.05);
      return [t.name, { up, down, rank, alpha: rank }];
    })),
  });
  // Swap cost = a 1-step job with a newly weighted LoRA minus the same job without one;
  // reload cost = loading the base model's sessions again.
  const withLora: number[] = [];
  const withoutLora: number[] = [];
  const reload: number[] = [];
  const tinyRequest = { ...REQUEST, width: 64, height: 64, steps: 1 };
  for (let i = 0; i < RUNS * 2; i += 1) {
    withoutLora.push((await time(() => bare.generate(tinyRequest)))[0]);
    withLora.push((await time(() => bare.generate({ ...tinyRequest, loras: [{ name: 'bench', path: loraFile, weight: 0.2 + (i % 5) * 0.15 }] })))[0]);
    reload.push((await time(async () => {
      const fresh = await DiffusionPipeline.load(modelDir, loadOptions);
      await fresh.release();
    }))[0]);
  }
  // Upper bound: the whole 1-step job with a new LoRA, inference included.
  row('LoRA swap (≤ 1-step job with new LoRA) ÷ base-model reload', median(withLora), median(reload), 'ms', '≤ 0.1');
  const swapMs = median(withLora) - median(withoutLora);
  const swapText = swapMs > 0.05 ? `≈ ${swapMs.toFixed(2)} ms` : 'less than the run-to-run noise';
  console.log(`${''.padEnd(58)} same job without LoRA ${median(withoutLora).toFixed(2)} ms: the swap itself costs ${swapText}`);


  // 4. Batched (count 4 in one UNet call) vs 4 separate runs: images per second.
  const batched: number[] = [];
  const separate: number[] = [];
  for (let i = 0; i < 3; i += 1) {
    batched.push((await time(() => bare.generate({ ...REQUEST, count: 4 })))[0]);
    separate.push((await time(async () => { for (let k = 0; k < 4; k += 1) await bare.generate({ ...REQUEST, seed: REQUEST.seed + k }); }))[0]);
  }
  row('throughput batched ÷ unbatched (4 images, images/s)', 4000 / median(batched), 4000 / median(separate), 'img/s', '> 1 to keep batching');

  await bare.release();
  await app.stop();
  await app.teardown();
}
