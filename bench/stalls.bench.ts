import { spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as factory from '../test/support/factories';
import { gqlData } from '../test/support/graphql';
import { percentile, row, startBenchApp, startProfiler, time } from './harness';

/** STALLS_QUERIES (default 400) `me` queries per phase: with 150 the p99 was the second-slowest query, and the ratio moved 0.96–1.83 between runs. */
const QUERIES = Number(process.env.STALLS_QUERIES ?? 400);
const JOB = { prompt: 'a harbour at night, wide', width: 1024, height: 1024, steps: 6 };
const ME = 'query { me { id email } }';

/** Latencies of QUERIES `me` queries sent one after another (ms). */
async function meLatencies(url: string, token: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < QUERIES; i += 1) {
    out.push((await time(() => gqlData(url, ME, {}, token)))[0]);
    await new Promise((r) => setTimeout(r, 5));
  }
  return out;
}

/**
 * The single-process `npm start` layout (API and worker in one process) with
 * the default preview cadence: p99 of a `me` query while 1024² images render,
 * against the same query on the idle process; and the event-loop delay p99
 * while rendering.
 */
export async function stallsBench(): Promise<void> {
  console.log(`\n== stalls (API + worker in one process, ${QUERIES} me queries, 1024² jobs) ==`);
  const app = await startBenchApp({ ATELIER_PREVIEW_EVERY: '2' });
  const user = await factory.user(app, { tier: 'ENTERPRISE', role: 'ADMIN' });
  await gqlData(app.url, 'mutation { updateTierPolicy(tier: ENTERPRISE, input: { maxOpenJobs: 10000, generationsPerMinute: 100000, requestsPerMinute: 1000000, imagesPerDay: -1 }) { tier } }', {}, user.token);
  await meLatencies(app.url, user.token); // warm-up
  const idleDelay = monitorEventLoopDelay({ resolution: 5 });
  idleDelay.enable();
  const idle = await meLatencies(app.url, user.token);
  idleDelay.disable();

  let rendering = true;
  let images = 0;
  const jobs = (async () => {
    while (rendering) {
      const { createGeneration } = await gqlData<any>(app.url, 'mutation($i:GenerationInput!){ createGeneration(input:$i){ id } }', { i: JOB }, user.token);
      for (;;) {
        const { job } = await gqlData<any>(app.url, 'query($id:ID!){ job(id:$id){ status } }', { id: createGeneration.id }, user.token);
        if (job.status === 'COMPLETED') break;
        if (job.status !== 'PENDING' && job.status !== 'PROCESSING') throw new Error(`job ${job.status}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      images += 1;
    }
  })();
  await new Promise((r) => setTimeout(r, 1000)); // the first job is rendering
  const delay = monitorEventLoopDelay({ resolution: 5 });
  // STALLS_PROFILE=file.cpuprofile: a CPU profile of the main thread while the `me` queries run beside the renders.
  const profiler = process.env.STALLS_PROFILE ? await startProfiler() : null;
  delay.enable();
  const busy = await meLatencies(app.url, user.token);
  delay.disable();
  if (profiler) await profiler(process.env.STALLS_PROFILE!);
  rendering = false;
  await jobs;
  row('me p99 while rendering 1024² ÷ idle p99', percentile(busy, 99), percentile(idle, 99), 'ms', '≤ 1.5');
  console.log(`${''.padEnd(58)} event-loop delay while rendering: p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms (goal p99 ≤ 20 ms); idle p99 ${(idleDelay.percentile(99) / 1e6).toFixed(1)} ms; ${images} images`);

  // The machine's own floor: the same queries while a plain busy loop in another process holds one core,
  // as the render thread does. Whatever this costs `me` is the hardware sharing cores, not Atelier.
  const spinner = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  const spun = await meLatencies(app.url, user.token);
  spinner.kill('SIGKILL');
  row('  reference: me p99 beside a busy loop in another process ÷ idle', percentile(spun, 99), percentile(idle, 99), 'ms');
  await app.stop();
  await app.teardown();
}
