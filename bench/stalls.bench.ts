import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as factory from '../test/support/factories';
import { gqlData } from '../test/support/graphql';
import { besideBusyLoop, percentile, row, startBenchApp, startChild, startProfiler } from './harness';

/** STALLS_QUERIES (default 400) `me` queries per phase: with 150 the p99 was the second-slowest query, and the ratio moved 0.96–1.83 between runs. */
const QUERIES = Number(process.env.STALLS_QUERIES ?? 400);
const JOB = { prompt: 'a harbour at night, wide', width: 1024, height: 1024, steps: 6 };

/**
 * The single-process `npm start` layout (API and worker in one process) with
 * the default preview cadence: p99 of a `me` query while 1024² images render,
 * against the same query on the idle process; and the event-loop delay p99
 * while rendering. The queries and the jobs come from two client processes
 * (bench/stalls-clients.ts), so the service's event loop runs the service
 * alone.
 */
export async function stallsBench(): Promise<void> {
  console.log(`\n== stalls (API + worker in one process, ${QUERIES} me queries, 1024² jobs) ==`);
  const app = await startBenchApp({ ATELIER_PREVIEW_EVERY: '2' });
  const user = await factory.user(app, { tier: 'ENTERPRISE', role: 'ADMIN' });
  await gqlData(app.url, 'mutation { updateTierPolicy(tier: ENTERPRISE, input: { maxOpenJobs: 10000, generationsPerMinute: 100000, requestsPerMinute: 1000000, imagesPerDay: -1 }) { tier } }', {}, user.token);
  const queries = startChild('stalls-clients.js');
  const submitter = startChild('stalls-clients.js');
  const meLatencies = async () => (await queries.ask<{ latencies: number[] }>({ op: 'me', url: app.url, token: user.token, n: QUERIES })).latencies;
  await meLatencies(); // warm-up
  const idleDelay = monitorEventLoopDelay({ resolution: 5 });
  idleDelay.enable();
  const idle = await meLatencies();
  idleDelay.disable();

  await submitter.ask({ op: 'jobs', url: app.url, token: user.token, job: JOB });
  await new Promise((r) => setTimeout(r, 1000)); // the first job is rendering
  const delay = monitorEventLoopDelay({ resolution: 5 });
  // STALLS_PROFILE=file.cpuprofile: a CPU profile of the main thread while the `me` queries run beside the renders.
  const profiler = process.env.STALLS_PROFILE ? await startProfiler() : null;
  delay.enable();
  const busy = await meLatencies();
  delay.disable();
  if (profiler) await profiler(process.env.STALLS_PROFILE!);
  const { images } = await submitter.ask<{ images: number }>({ op: 'stop' });
  submitter.close();
  row('me p99 while rendering 1024² ÷ idle p99', percentile(busy, 99), percentile(idle, 99), 'ms', '≤ 1.5');
  console.log(`${''.padEnd(58)} event-loop delay while rendering: p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms (goal p99 ≤ 20 ms); idle p99 ${(idleDelay.percentile(99) / 1e6).toFixed(1)} ms; ${images} images`);

  // The machine's own floor: the same queries while a plain busy loop in another process holds one core,
  // as the render thread does. Whatever this costs `me` is the hardware sharing cores, not Atelier.
  const spun = await besideBusyLoop(meLatencies);
  queries.close();
  row('  reference: me p99 beside a busy loop in another process ÷ idle', percentile(spun, 99), percentile(idle, 99), 'ms');
  await app.stop();
  await app.teardown();
}
