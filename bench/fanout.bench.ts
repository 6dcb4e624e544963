import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { gqlData, signUp } from '../test/support/graphql';
import { percentile, row, startBenchApp } from './harness';

const SESSIONS = 50;
const PER_SESSION = 20;
const EVENTS = 20;

interface Received { latencies: number[]; count: number }

/**
 * 1,000 graphql-ws subscribers in 50 sessions receive a job's events, vs a raw
 * ws broadcast of the same payload to 1,000 sockets. Subscribers run in a child
 * process (as browsers would, elsewhere), for both sides.
 */
export async function fanoutBench(): Promise<void> {
  console.log(`\n== fan-out (${SESSIONS * PER_SESSION} subscribers, ${SESSIONS} sessions, ${EVENTS} events each) ==`);
  const app = await startBenchApp({ ATELIER_ROLE: 'api', ATELIER_MAX_CONNECTIONS_PER_USER: String(PER_SESSION + 5) });
  const owners: { token: string; sessionId: string; jobId: string }[] = [];
  for (let i = 0; i < SESSIONS; i += 1) {
    const user = await signUp(app.url, `fan${i}`);
    const { createSession } = await gqlData<any>(app.url, 'mutation { createSession(name: "fan") { id } }', {}, user.token);
    owners.push({ token: user.token, sessionId: createSession.id, jobId: randomUUID() });
  }
  const subscribers = owners.flatMap((o) => Array.from({ length: PER_SESSION }, () => ({ token: o.token, sessionId: o.sessionId })));
  const clients = await startClients({ mode: 'graphql-ws', url: `${app.url.replace('http', 'ws')}/graphql`, subscribers });
  await new Promise((r) => setTimeout(r, 1000)); // let every subscribe reach the server
  const profiler = process.env.FANOUT_PROFILE ? await startProfiler() : null;
  for (let step = 1; step <= EVENTS; step += 1) {
    await Promise.all(owners.map((o) => app.services.events.publish({
      type: 'PROGRESS', at: new Date().toISOString(), jobId: o.jobId, sessionId: o.sessionId, actorId: null, step, totalSteps: EVENTS, elapsedMs: 0, etaMs: 0,
    })));
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 1500));
  if (profiler) await profiler(process.env.FANOUT_PROFILE!);
  const ours = await clients.report();
  await app.stop();
  await app.teardown();

  const raw = await rawBroadcast();
  const expected = SESSIONS * PER_SESSION * EVENTS;
  row('delivery latency p50, graphql-ws ÷ raw ws', percentile(ours.latencies, 50), percentile(raw.latencies, 50), 'ms');
  row('delivery latency p99, graphql-ws ÷ raw ws', percentile(ours.latencies, 99), percentile(raw.latencies, 99), 'ms', '≤ 2');
  console.log(`events lost: ours ${expected - ours.count} of ${expected}, raw ws ${expected - raw.count} of ${expected} (goal 0)`);
}

/** CPU profile of the delivery phase only (FANOUT_PROFILE=file.cpuprofile). */
async function startProfiler(): Promise<(file: string) => Promise<void>> {
  const { Session } = await import('node:inspector/promises');
  const { writeFileSync } = await import('node:fs');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async (file) => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

/** Baseline: a bare ws server sends the same JSON payload to 1,000 sockets of the same client process. */
async function rawBroadcast(): Promise<Received> {
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  await new Promise<void>((r) => server.listen(0, r));
  const port = (server.address() as { port: number }).port;
  const clients = await startClients({ mode: 'raw', url: `ws://127.0.0.1:${port}`, subscribers: Array.from({ length: SESSIONS * PER_SESSION }, () => ({})) });
  for (let step = 1; step <= EVENTS; step += 1) {
    const payload = JSON.stringify({ type: 'next', id: '1', payload: { data: { sessionEvents: { type: 'PROGRESS', at: new Date().toISOString() } } } });
    for (const client of wss.clients) client.send(payload);
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 1500));
  const received = await clients.report();
  wss.close();
  server.close();
  return received;
}

/** Starts bench/fanout-clients in its own process and waits until its sockets are open. */
async function startClients(plan: { mode: 'graphql-ws' | 'raw'; url: string; subscribers: { token?: string; sessionId?: string }[] }) {
  const child = spawn(process.execPath, [path.join(__dirname, 'fanout-clients.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stdin.write(`${JSON.stringify(plan)}\n`);
  await new Promise<void>((resolve) => {
    const check = () => (out.includes('ready\n') ? resolve() : setTimeout(check, 50));
    check();
  });
  return {
    report: async (): Promise<Received> => {
      out = '';
      child.stdin.write('report\n');
      const latencies = await new Promise<number[]>((resolve) => {
        child.stdout.on('data', () => {
          const line = out.split('\n').find((l) => l.startsWith('['));
          if (line) resolve(JSON.parse(line) as number[]);
        });
      });
      return { latencies, count: latencies.length };
    },
  };
}
