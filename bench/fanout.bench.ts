import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { createInterface } from 'node:readline';
import { gqlData, signUp } from '../test/support/graphql';
import { percentile, row, startBenchApp, startProfiler } from './harness';

/** FANOUT_SUBSCRIBERS (default 1,000; the goal is 10,000 across 500 sessions), 20 per session. */
const SUBSCRIBERS = Number(process.env.FANOUT_SUBSCRIBERS ?? 1000);
const PER_SESSION = 20;
const SESSIONS = Math.max(1, Math.ceil(SUBSCRIBERS / PER_SESSION));
const EVENTS = 20;

interface Received { latencies: number[]; count: number; clientCpuMs: number; serverCpuMs?: number }
type Clients = Awaited<ReturnType<typeof startClients>>;

/** FANOUT_ROUNDS (default 3): rounds of 20 events, ours and the baseline alternating, on the same open sockets. */
const ROUNDS = Number(process.env.FANOUT_ROUNDS ?? 3);
/**
 * FANOUT_WARMUP (default 1): rounds of both sides run first and printed but
 * left out of the percentiles (the JIT compiles the delivery path on the first
 * events after the subscribes); their events still count towards "lost".
 */
const WARMUP = Number(process.env.FANOUT_WARMUP ?? 1);

/**
 * FANOUT_SUBSCRIBERS graphql-ws subscribers, 20 per session, receive a job's
 * events, vs a raw ws broadcast of the same payload to as many sockets in the
 * same run. Subscribers run in child processes (as browsers would, elsewhere),
 * for both sides. Both sides' sockets stay open throughout and the rounds
 * alternate (ours then raw, raw then ours, …), so both see the same machine;
 * percentiles are over every round's deliveries. Events are published only
 * once the server counts every subscription as active, so none is lost to a
 * subscribe still in flight.
 */
export async function fanoutBench(): Promise<void> {
  const total = SESSIONS * PER_SESSION;
  console.log(`\n== fan-out (${total} subscribers, ${SESSIONS} sessions, ${EVENTS} events each, ${ROUNDS} rounds after ${WARMUP} warm-up) ==`);
  const app = await startBenchApp({ ATELIER_ROLE: 'api', ATELIER_MAX_CONNECTIONS_PER_USER: String(PER_SESSION + 5) });
  const owners: { token: string; sessionId: string; jobId: string }[] = [];
  for (let i = 0; i < SESSIONS; i += 1) {
    const user = await signUp(app.url, `fan${i}`);
    const { createSession } = await gqlData<any>(app.url, 'mutation { createSession(name: "fan") { id } }', {}, user.token);
    owners.push({ token: user.token, sessionId: createSession.id, jobId: randomUUID() });
  }
  const subscribers = owners.flatMap((o) => Array.from({ length: PER_SESSION }, () => ({ token: o.token, sessionId: o.sessionId })));
  const activeSubscriptions = async () => (await app.metrics.registry.getSingleMetric('atelier_websocket_subscriptions')!.get()).values[0]?.value ?? 0;
  const before = await settledMemory();
  // FANOUT_HEAP_SNAPSHOT=prefix: heap snapshots of the API process before and after the subscribes, to diff.
  const snapshot = (suffix: string) => process.env.FANOUT_HEAP_SNAPSHOT && writeHeapSnapshot(`${process.env.FANOUT_HEAP_SNAPSHOT}-${suffix}.heapsnapshot`);
  snapshot('before');
  const clients = await startClients({ mode: 'graphql-ws', url: `${app.url.replace('http', 'ws')}/graphql`, subscribers });
  await until(async () => (await activeSubscriptions()) >= total, `${total} active subscriptions`);
  await new Promise((r) => setTimeout(r, 1000)); // the joins' PRESENCE events drain before the clock starts
  const after = await settledMemory();
  snapshot('after');
  const raw = await startRawBroadcast(total);

  const ourRound = async (): Promise<Received> => {
    // The API process's CPU for the round (this process: the events' publishing too), until every event is delivered.
    const cpu = process.cpuUsage();
    for (let step = 1; step <= EVENTS; step += 1) {
      await Promise.all(owners.map((o) => app.services.events.publish({
        type: 'PROGRESS', at: new Date().toISOString(), jobId: o.jobId, sessionId: o.sessionId, actorId: null, step, totalSteps: EVENTS, elapsedMs: 0, etaMs: 0,
      })));
      await new Promise((r) => setTimeout(r, 20));
    }
    const received = await drain(clients, total * EVENTS, () => {
      const used = process.cpuUsage(cpu);
      return Math.round((used.user + used.system) / 1000);
    });
    return received;
  };
  const ours: Received[] = [];
  const baseline: Received[] = [];
  let lostInWarmup = { ours: 0, raw: 0 };
  for (let round = -WARMUP; round < ROUNDS; round += 1) {
    // FANOUT_PROFILE=file.cpuprofile: a CPU profile of our first measured round's delivery.
    const profiler = round === 0 && process.env.FANOUT_PROFILE ? await startProfiler() : null;
    const pair: Received[] = [];
    if (round % 2 !== 0) pair[1] = await raw.round();
    pair[0] = await ourRound();
    if (profiler) await profiler(process.env.FANOUT_PROFILE!);
    if (round % 2 === 0) pair[1] = await raw.round();
    const p99 = (r: Received) => percentile(r.latencies, 99);
    const label = round < 0 ? 'warm-up (not counted)' : `round ${round + 1}`;
    console.log(`${''.padEnd(58)} ${label}: p99 ${p99(pair[0])} ÷ ${p99(pair[1])} ms; server CPU ${pair[0].serverCpuMs} ÷ ${pair[1].serverCpuMs} ms; subscribers' process CPU ${pair[0].clientCpuMs} ÷ ${pair[1].clientCpuMs} ms`);
    if (round < 0) {
      lostInWarmup = { ours: lostInWarmup.ours + total * EVENTS - pair[0].count, raw: lostInWarmup.raw + total * EVENTS - pair[1].count };
    } else {
      ours.push(pair[0]);
      baseline.push(pair[1]);
    }
  }
  clients.exit();
  raw.close();
  await app.stop();
  await app.teardown();

  const pooled = (rounds: Received[]) => rounds.flatMap((r) => r.latencies);
  const sent = (ROUNDS + WARMUP) * total * EVENTS;
  const lost = (rounds: Received[], inWarmup: number) => inWarmup + ROUNDS * total * EVENTS - rounds.reduce((sum, r) => sum + r.count, 0);
  row('delivery latency p50, graphql-ws ÷ raw ws', percentile(pooled(ours), 50), percentile(pooled(baseline), 50), 'ms');
  row('delivery latency p99, graphql-ws ÷ raw ws', percentile(pooled(ours), 99), percentile(pooled(baseline), 99), 'ms', '≤ 2');
  const cpuOf = (rounds: Received[]) => rounds.reduce((sum, r) => sum + (r.serverCpuMs ?? 0), 0) / rounds.length;
  // CPU moves less with the machine's load than latency does: what each server spends on a round of deliveries.
  row('  server CPU a round (API process ÷ raw ws server)', cpuOf(ours), cpuOf(baseline), 'ms');
  const ratios = ours.map((r, i) => percentile(r.latencies, 99) / percentile(baseline[i].latencies, 99)).sort((a, b) => a - b);
  console.log(`${''.padEnd(58)} p99 ratio per round: ${ratios.map((r) => r.toFixed(2)).join(', ')} (median ${ratios[Math.floor(ratios.length / 2)].toFixed(2)})`);
  console.log(`events lost: ours ${lost(ours, lostInWarmup.ours)} of ${sent}, raw ws ${lost(baseline, lostInWarmup.raw)} of ${sent} (goal 0)`);
  const kb = (bytes: number) => `${(bytes / total / 1024).toFixed(1)} KB`;
  console.log(`memory per idle subscription (API process, after ${total} subscribed − before): RSS ${kb(after.rss - before.rss)}, heap ${kb(after.heapUsed - before.heapUsed)} (goal ≤ 30 KB)`);
  // What RSS holds besides the live heap: V8's committed heap pages (used or not) and memory outside the heap.
  console.log(`${''.padEnd(58)} of RSS: V8 heap committed ${kb(after.heapTotal - before.heapTotal)}, outside the heap (external) ${kb(after.external - before.external)}`);
}

/** Polls until `done` or 120 s pass. */
async function until(done: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** RSS and heap after a full collection when node runs with --expose-gc (npm run bench passes it). */
async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 2; i += 1) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 50));
  }
  return process.memoryUsage();
}

/**
 * Waits for `expected` deliveries (or 1 s without progress), then takes the
 * child's report; `serverCpu` is read as soon as the last delivery is counted.
 */
async function drain(clients: Clients, expected: number, serverCpu?: () => Promise<number> | number): Promise<Received> {
  let last = -1;
  let progressAt = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    const count = await clients.count();
    if (count >= expected) break;
    if (count !== last) {
      last = count;
      progressAt = Date.now();
    } else if (Date.now() - progressAt >= 1000) {
      break;
    }
  }
  const serverCpuMs = serverCpu ? await serverCpu() : undefined;
  return { ...(await clients.report()), ...(serverCpuMs === undefined ? {} : { serverCpuMs }) };
}

/** Baseline: a bare ws server (bench/fanout-raw-server.ts, its own process) sends the same JSON payload to `total` sockets of its own client process. */
async function startRawBroadcast(total: number) {
  const child = spawn(process.execPath, [path.join(__dirname, 'fanout-raw-server.js'), String(EVENTS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const nextLine = () => new Promise<string>((resolve) => lines.once('line', resolve));
  const port = Number(await nextLine());
  const clients = await startClients({ mode: 'raw', url: `ws://127.0.0.1:${port}`, subscribers: Array.from({ length: total }, () => ({})) });
  return {
    round: async (): Promise<Received> => {
      const sent = nextLine();
      child.stdin.write('round\n');
      await sent;
      return drain(clients, total * EVENTS, async () => {
        const cpu = nextLine();
        child.stdin.write('cpu\n');
        return Number(await cpu);
      });
    },
    close: () => {
      clients.exit();
      child.stdin.write('exit\n');
    },
  };
}

/**
 * Starts bench/fanout-clients in its own process and waits until its sockets
 * are open. The child answers on stdout one line per request; lines are
 * parsed only once complete (a report of 200,000 latencies arrives in chunks).
 */
async function startClients(plan: { mode: 'graphql-ws' | 'raw'; url: string; subscribers: { token?: string; sessionId?: string }[] }) {
  const child = spawn(process.execPath, [path.join(__dirname, 'fanout-clients.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting: ((line: string) => void)[] = [];
  let partial = '';
  child.stdout.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) waiting.shift()?.(line);
  });
  const ask = (request: string) => new Promise<string>((resolve) => {
    waiting.push(resolve);
    if (request) child.stdin.write(`${request}\n`);
  });
  const ready = ask(JSON.stringify(plan));
  if ((await ready) !== 'ready') throw new Error('fan-out clients did not start');
  return {
    /** Deliveries recorded so far. */
    count: async (): Promise<number> => Number(await ask('count')),
    /** The latencies of this round; the next round starts empty. */
    report: async (): Promise<Received> => {
      const { latencies, cpuMs } = JSON.parse(await ask('report')) as { latencies: number[]; cpuMs: number };
      return { latencies, count: latencies.length, clientCpuMs: cpuMs };
    },
    exit: () => child.stdin.write('exit\n'),
  };
}
