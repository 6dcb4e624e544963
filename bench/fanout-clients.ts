/**
 * Child process of bench/fanout: opens the subscriber sockets (graphql-ws or
 * raw ws), says "ready" on stdout, records each PROGRESS event's delivery
 * latency; answers "count" with the deliveries so far and "report" with the
 * latencies and the CPU milliseconds used since the last report as JSON (and starts a new round), and exits on "exit". One request per stdin line, one answer per
 * stdout line. Subscribers live in their own process, as browsers would, for
 * ours and the baseline alike.
 */
import { createInterface } from 'node:readline';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

interface Plan {
  mode: 'graphql-ws' | 'raw';
  url: string;
  subscribers: { token?: string; sessionId?: string }[];
}

/** Sockets opened at once: thousands of simultaneous handshakes overflow the listen backlog. */
const BATCH = 250;

const latencies: number[] = [];
/** CPU this process has used since the last report: what receiving cost the subscribers' side. */
let cpuAtLastReport = process.cpuUsage();

function record(at: string): void {
  latencies.push(Date.now() - new Date(at).getTime());
}

/** Opens one graphql-ws client and subscribes; resolves once the connection is acknowledged. */
function openGraphqlWs(url: string, s: Plan['subscribers'][number]): Promise<void> {
  return new Promise<void>((connected) => {
    const client = createClient({
      url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true,
      connectionParams: { authorization: `Bearer ${s.token}` },
    });
    client.on('connected', () => connected());
    client.subscribe<any>({ query: 'subscription($s:ID!){ sessionEvents(sessionId:$s){ type at } }', variables: { s: s.sessionId } }, {
      next: (value) => {
        const event = value.data?.sessionEvents;
        if (event?.type === 'PROGRESS') record(event.at);
      },
      error: (e) => console.error('subscription error', e),
      complete: () => undefined,
    });
  });
}

function openRaw(url: string): Promise<void> {
  return new Promise<void>((open) => {
    const socket = new WebSocket(url);
    socket.on('message', (data) => record(JSON.parse(data.toString()).payload.data.sessionEvents.at));
    socket.once('open', () => open());
  });
}

async function openAll(plan: Plan): Promise<void> {
  for (let i = 0; i < plan.subscribers.length; i += BATCH) {
    const batch = plan.subscribers.slice(i, i + BATCH);
    await Promise.all(batch.map((s) => (plan.mode === 'raw' ? openRaw(plan.url) : openGraphqlWs(plan.url, s))));
  }
}

function main(): void {
  let plan: Plan | null = null;
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (!plan) {
      plan = JSON.parse(line) as Plan;
      void openAll(plan).then(() => {
        cpuAtLastReport = process.cpuUsage();
        process.stdout.write('ready\n');
      });
    } else if (line === 'count') {
      process.stdout.write(`${latencies.length}\n`);
    } else if (line === 'report') {
      const cpu = process.cpuUsage(cpuAtLastReport);
      cpuAtLastReport = process.cpuUsage();
      process.stdout.write(`${JSON.stringify({ latencies, cpuMs: Math.round((cpu.user + cpu.system) / 1000) })}\n`);
      latencies.length = 0;
    } else if (line === 'exit') {
      process.exit(0);
    }
  });
}

main();
