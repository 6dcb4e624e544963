import http from 'node:http';
import type { Client } from 'graphql-ws';
import WebSocket, { WebSocketServer } from 'ws';
import { gqlData, signUp, wsClient } from '../test/support/graphql';
import { percentile, row, startBenchApp } from './harness';

const SESSIONS = 50;
const PER_SESSION = 20;
const EVENTS = 20;

interface Received { latencies: number[]; count: number }

/** 1,000 graphql-ws subscribers in 50 sessions receive a job's events, vs a raw ws broadcast to 1,000 sockets. */
export async function fanoutBench(): Promise<void> {
  console.log(`\n== fan-out (${SESSIONS * PER_SESSION} subscribers, ${SESSIONS} sessions, ${EVENTS} events each) ==`);
  const app = await startBenchApp({ ATELIER_ROLE: 'api', ATELIER_MAX_CONNECTIONS_PER_USER: String(PER_SESSION + 5) });
  const owners: { token: string; sessionId: string }[] = [];
  for (let i = 0; i < SESSIONS; i += 1) {
    const user = await signUp(app.url, `fan${i}`);
    const { createSession } = await gqlData<any>(app.url, 'mutation { createSession(name: "fan") { id } }', {}, user.token);
    owners.push({ token: user.token, sessionId: createSession.id });
  }
  const ours: Received = { latencies: [], count: 0 };
  const clients: Client[] = [];
  let subscribed = 0;
  await new Promise<void>((ready) => {
    for (const owner of owners) {
      for (let k = 0; k < PER_SESSION; k += 1) {
        const client = wsClient(app.url, owner.token);
        clients.push(client);
        client.subscribe<any>({ query: 'subscription($s:ID!){ sessionEvents(sessionId:$s){ type elapsedMs at } }', variables: { s: owner.sessionId } }, {
          next: (value) => {
            const event = value.data?.sessionEvents;
            if (event?.type !== 'PROGRESS') return;
            ours.latencies.push(Date.now() - new Date(event.at).getTime());
            ours.count += 1;
          },
          error: (e) => console.error('subscription error', e),
          complete: () => undefined,
        });
      }
    }
    const poll = setInterval(async () => {
      subscribed = 0;
      for (const owner of owners) subscribed += (await app.services.presence.online(owner.sessionId)).length;
      if (subscribed >= SESSIONS) {
        clearInterval(poll);
        setTimeout(ready, 1000); // presence is per user; give every socket time to finish subscribing
      }
    }, 200);
  });
  const profiler = process.env.FANOUT_PROFILE ? await startProfiler() : null;
  for (let step = 1; step <= EVENTS; step += 1) {
    await Promise.all(owners.map((o) => app.services.events.publish({
      type: 'PROGRESS', at: new Date().toISOString(), jobId: null, sessionId: o.sessionId, actorId: null, step, totalSteps: EVENTS,
    })));
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 1500));
  if (profiler) await profiler(process.env.FANOUT_PROFILE!);
  await Promise.all(clients.map((c) => c.dispose()));
  await app.stop();
  await app.redisStop?.();

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

/** Baseline: a bare ws server sends the same JSON payload to 1,000 sockets. */
async function rawBroadcast(): Promise<Received> {
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  await new Promise<void>((r) => server.listen(0, r));
  const port = (server.address() as { port: number }).port;
  const received: Received = { latencies: [], count: 0 };
  const sockets: WebSocket[] = [];
  for (let i = 0; i < SESSIONS * PER_SESSION; i += 1) {
    const socket = new WebSocket(`ws://127.0.0.1:${port}`);
    socket.on('message', (data) => {
      const event = JSON.parse(data.toString()).payload.data.sessionEvents;
      received.latencies.push(Date.now() - new Date(event.at).getTime());
      received.count += 1;
    });
    sockets.push(socket);
  }
  await Promise.all(sockets.map((s) => new Promise((r) => s.once('open', r))));
  for (let step = 1; step <= EVENTS; step += 1) {
    const payload = JSON.stringify({ type: 'next', id: '1', payload: { data: { sessionEvents: { type: 'PROGRESS', at: new Date().toISOString(), elapsedMs: null } } } });
    for (const client of wss.clients) client.send(payload);
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 500));
  for (const s of sockets) s.close();
  wss.close();
  server.close();
  return received;
}
