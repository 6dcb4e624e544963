/**
 * Child process of bench/fanout: opens the subscriber sockets (graphql-ws or
 * raw ws), says "ready" on stdout, records each PROGRESS event's delivery
 * latency, and on "report" from stdin prints the latencies as JSON and exits.
 * Subscribers live in their own process, as browsers would, for ours and the
 * baseline alike.
 */
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

interface Plan {
  mode: 'graphql-ws' | 'raw';
  url: string;
  subscribers: { token?: string; sessionId?: string }[];
}

const latencies: number[] = [];

function record(at: string): void {
  latencies.push(Date.now() - new Date(at).getTime());
}

async function openGraphqlWs(plan: Plan): Promise<void> {
  let acknowledged = 0;
  await new Promise<void>((ready) => {
    for (const s of plan.subscribers) {
      const client = createClient({
        url: plan.url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true,
        connectionParams: { authorization: `Bearer ${s.token}` },
      });
      client.subscribe<any>({ query: 'subscription($s:ID!){ sessionEvents(sessionId:$s){ type at } }', variables: { s: s.sessionId } }, {
        next: (value) => {
          const event = value.data?.sessionEvents;
          if (event?.type === 'PRESENCE' || event?.type === 'MEMBER_JOINED') return;
          if (event?.type === 'PROGRESS') record(event.at);
        },
        error: (e) => console.error('subscription error', e),
        complete: () => undefined,
      });
      client.on('connected', () => {
        acknowledged += 1;
        if (acknowledged === plan.subscribers.length) ready();
      });
    }
  });
}

async function openRaw(plan: Plan): Promise<void> {
  await Promise.all(plan.subscribers.map(() => new Promise<void>((open) => {
    const socket = new WebSocket(plan.url);
    socket.on('message', (data) => record(JSON.parse(data.toString()).payload.data.sessionEvents.at));
    socket.once('open', () => open());
  })));
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  process.stdin.on('data', (c: Buffer) => {
    chunks.push(c);
    const text = Buffer.concat(chunks).toString();
    if (!text.includes('\n')) return;
    const [first, ...rest] = text.split('\n');
    if (!plan) {
      plan = JSON.parse(first) as Plan;
      chunks.length = 0;
      if (rest.join('\n')) chunks.push(Buffer.from(rest.join('\n')));
      (plan.mode === 'raw' ? openRaw(plan) : openGraphqlWs(plan)).then(() => process.stdout.write('ready\n'));
    } else if (first.trim() === 'report') {
      process.stdout.write(`${JSON.stringify(latencies)}\n`, () => process.exit(0));
    }
  });
  let plan: Plan | null = null;
}

void main();
