/**
 * Child process of bench/fanout: the baseline's bare ws server, in its own
 * process so that neither server's 10,000 sockets count against the other's
 * file limit. Prints its port on stdout; on each "round" line it sends every
 * socket the same JSON payload, EVENTS times 20 ms apart, then prints "sent";
 * on "cpu" it prints the CPU milliseconds it used since the round began.
 */
import http from 'node:http';
import { createInterface } from 'node:readline';
import { WebSocketServer } from 'ws';

const EVENTS = Number(process.argv[2] ?? 20);

async function round(wss: WebSocketServer): Promise<void> {
  for (let step = 1; step <= EVENTS; step += 1) {
    const payload = JSON.stringify({ type: 'next', id: '1', payload: { data: { sessionEvents: { type: 'PROGRESS', at: new Date().toISOString() } } } });
    for (const client of wss.clients) client.send(payload);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const server = http.createServer();
const wss = new WebSocketServer({ server });
server.listen(0, () => {
  process.stdout.write(`${(server.address() as { port: number }).port}\n`);
  let roundCpu = process.cpuUsage();
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line === 'round') {
      roundCpu = process.cpuUsage();
      void round(wss).then(() => process.stdout.write('sent\n'));
    } else if (line === 'cpu') {
      // Asked once the round's deliveries are all in: its writes have all left by then.
      const used = process.cpuUsage(roundCpu);
      process.stdout.write(`${Math.round((used.user + used.system) / 1000)}\n`);
    } else if (line === 'exit') {
      process.exit(0);
    }
  });
});
