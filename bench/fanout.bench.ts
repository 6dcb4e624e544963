import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { gqlData, signUp } from '../test/support/graphql';
import { percentile, row, startBenchApp, startProfiler } from './harness';

/** FANOUT_SUBSCRIBERS (default 1,000; the goal is 10,000 across 500 sessions), 20 per session. */
const SUBSCRIBERS = Number(process.env.FANOUT_SUBSCRIBERS ?? 1000);
const PER_SESSION = 20;
const SESSIONS = Math.max(1, Math.ceil(SUBSCRIBERS / PER_SESSION));
const EVENTS = 20;

interface Received { latencies: number[]; count: number }
type Clients = Awaited<ReturnType<typeof startClients>>;

/**
 * FANOUT_SUBSCRIBERS graphql-ws subscribers, 20 per session, receive a job's
 * events, vs a raw ws broadcast of the same payload to as many sockets in the
 * same run. Subscribers run in a child process (as browsers would, elsewhere),
 * for both sides. Events are published only once the server counts every
 * subscription as active, so none is lost to a subscribe still in flight.
 */
export async function fanoutBench(): Promise<void> {
  const total = SESSIONS * PER_SESSION;
  console.log(`\n== fan-out (${total} subscribers, ${SESSIONS} sessions, ${EVENTS} events each) ==`);
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
  const clients = await startClients({ mode: 'graphql-ws', url: `${app.url.replace('http', 'ws')}/graphql`, subscribers });
  await until(async () => (await activeSubscriptions()) >= total, `${total} active subscriptions`);
  await new Promise((r) => setTimeout(r, 1000)); // the joins' PRESENCE events drain before the clock starts
  const after = await settledMemory();
  const profiler = process.env.FANOUT_PROFILE ? await startProfiler() : null;
  for (let step = 1; step <= EVENTS; step += 1) {
    await Promise.all(owners.map((o) => app.services.events.publish({
      type: 'PROGRESS', at: new Date().toISOString(), jobId: o.jobId, sessionId: o.sessionId, actorId: null, step, totalSteps: EVENTS, elapsedMs: 0, etaMs: 0,
    })));
    await new Promise((r) => setTimeout(r, 20));
  }
  const ours = await drain(clients, total * EVENTS);
  if (profiler) await profiler(process.env.FANOUT_PROFILE!);
  await app.stop();
  await app.teardown();

  const raw = await rawBroadcast(total);
  const expected = total * EVENTS;
  row('delivery latency p50, graphql-ws ÷ raw ws', percentile(ours.latencies, 50), percentile(raw.latencies, 50), 'ms');
  row('delivery latency p99, graphql-ws ÷ raw ws', percentile(ours.latencies, 99), percentile(raw.latencies, 99), 'ms', '≤ 2');
  console.log(`events lost: ours ${expected - ours.count} of ${expected}, raw ws ${expected - raw.count} of ${expected} (goal 0)`);
  const kb = (bytes: number) => `${(bytes / total / 1024).toFixed(1)} KB`;
  console.log(`memory per idle subscription (API process, after ${total} subscribed − before): RSS ${kb(after.rss - before.rss)}, heap ${kb(after.heapUsed - before.heapUsed)} (goal ≤ 30 KB)`);
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

/** Waits for `expected` deliveries (or 10 s without progress), then takes the child's report. */
async function drain(clients: Clients, expected: number): Promise<Received> {
  let last = -1;
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    const count = await clients.count();
    if (count >= expected || count === last) break;
    last = count;
  }
  return clients.report();
}

/** Baseline: a bare ws server sends the same JSON payload to `total` sockets of the same client process. */
async function rawBroadcast(total: number): Promise<Received> {
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  await new Promise<void>((r) => server.listen(0, r));
  const port = (server.address() as { port: number }).port;
  const clients = await startClients({ mode: 'raw', url: `ws://127.0.0.1:${port}`, subscribers: Array.from({ length: total }, () => ({})) });
  for (let step = 1; step <= EVENTS; step += 1) {
    const payload = JSON.stringify({ type: 'next', id: '1', payload: { data: { sessionEvents: { type: 'PROGRESS', at: new Date().toISOString() } } } });
    for (const client of wss.clients) client.send(payload);
    await new Promise((r) => setTimeout(r, 20));
  }
  const received = await drain(clients, total * EVENTS);
  wss.close();
  server.close();
  return received;
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
    /** The latencies; the child exits after answering. */
    report: async (): Promise<Received> => {
      const latencies = JSON.parse(await ask('report')) as number[];
      return { latencies, count: latencies.length };
    },
  };
}
