import net from 'node:net';

/** A TCP proxy in front of a server (see {@link startLatencyProxy}). */
export interface TcpProxy {
  /** The target's URL with the proxy's address. */
  url: string;
  /**
   * A partition that never closes anything: every connection open now stops
   * forwarding in both directions, for good, and stays open; so does every
   * connection opened until {@link heal}. Nothing is refused or reset.
   */
  partition(): void;
  /**
   * A server that went away: every connection open now is closed, and so is
   * every connection opened until {@link heal}, at once.
   */
  refuse(): void;
  /** Connections opened from now on are forwarded again; the ones cut off stay cut off. */
  heal(): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy that delays every chunk by `delayMs` each way, so a test can
 * reach Redis (or a bench its S3 bucket) the way a replica in another zone
 * does, and that can be partitioned. Order is kept: Node fires timers of
 * equal duration in the order they were set.
 */
export async function startLatencyProxy(target: string, delayMs: number): Promise<TcpProxy> {
  const { protocol, hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  const cutOff = new Set<net.Socket>();
  let partitioned = false;
  let refusing = false;
  const server = net.createServer((client) => {
    if (refusing) return void client.destroy();
    const upstream = net.connect(Number(port), hostname);
    if (partitioned) cutOff.add(client);
    const forwarding = () => !cutOff.has(client);
    for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
      sockets.add(from);
      from.on('data', (chunk) => setTimeout(() => forwarding() && to.write(chunk), delayMs));
      from.on('close', () => setTimeout(() => forwarding() && to.destroy(), delayMs));
      from.on('error', () => forwarding() && to.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: proxyPort } = server.address() as net.AddressInfo;
  return {
    url: `${protocol}//127.0.0.1:${proxyPort}`,
    partition: () => {
      partitioned = true;
      for (const socket of sockets) cutOff.add(socket);
    },
    refuse: () => {
      refusing = true;
      for (const socket of sockets) socket.destroy();
    },
    heal: () => {
      partitioned = false;
      refusing = false;
    },
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}
