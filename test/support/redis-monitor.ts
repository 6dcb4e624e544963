import net from 'node:net';

/** A MONITOR connection: `stop` closes it. */
export interface RedisMonitor {
  stop(): void;
}

/**
 * Calls `onCommand` with the arguments of each command Redis runs (MONITOR),
 * from when the returned promise resolves (MONITOR has answered +OK) until
 * `stop`. A raw socket rather than ioredis's `monitor()`: on a Redis shared
 * with busy tests, MONITOR's first lines can arrive in the same read as its
 * +OK, and ioredis 5 parses those as replies to commands it never sent
 * ("Command queue state error", thrown from the socket's data handler).
 */
export function monitorRedis(url: string, onCommand: (args: string[]) => void): Promise<RedisMonitor> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port || 6379), hostname);
  let pending = '';
  let answered = false;
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.on('connect', () => socket.write('MONITOR\r\n'));
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      let end: number;
      while ((end = pending.indexOf('\r\n')) >= 0) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 2);
        if (!answered) {
          if (line !== '+OK') return reject(new Error(`MONITOR answered ${line}`));
          answered = true;
          socket.removeListener('error', reject);
          socket.on('error', () => undefined);
          resolve({ stop: () => socket.destroy() });
          continue;
        }
        // +1700000000.123456 [0 127.0.0.1:5000] "evalsha" "…" "1" "key"
        const args = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map(([, quoted]) => unescape(quoted));
        if (args.length > 0) onCommand(args);
      }
    });
  });
}

/** An argument as MONITOR quotes it (sdscatrepr): \" \\ \n \r \t \a \b and \xHH. */
function unescape(quoted: string): string {
  const named: Record<string, string> = { n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b' };
  return quoted.replace(/\\(x[0-9a-f]{2}|.)/g, (_, code: string) => (code.length === 3 ? String.fromCharCode(parseInt(code.slice(1), 16)) : named[code] ?? code));
}
