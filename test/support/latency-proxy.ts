import net from 'node:net';

/**
 * A TCP proxy that delays every chunk by `delayMs` each way, so a test can
 * reach Redis (or a bench its S3 bucket) the way a replica in another zone
 * does; `url` is the target's with the proxy's address. Order is kept: Node
 * fires timers of equal duration in the order they were set.
 */
export async function startLatencyProxy(target: string, delayMs: number): Promise<{ url: string; close: () => Promise<void> }> {
  const { protocol, hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
      sockets.add(from);
      from.on('data', (chunk) => setTimeout(() => to.write(chunk), delayMs));
      from.on('close', () => setTimeout(() => to.destroy(), delayMs));
      from.on('error', () => to.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: proxyPort } = server.address() as net.AddressInfo;
  return {
    url: `${protocol}//127.0.0.1:${proxyPort}`,
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}
