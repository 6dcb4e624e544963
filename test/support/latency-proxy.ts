import net from 'node:net';

/** A TCP proxy in front of a server (see {@link startLatencyProxy}). */
export interface TcpProxy {
  /** The target's URL with the proxy's address. */
  url: string;
  /**
   * A partition that never closes anything: every connection open now stops
   * forwarding in both directions, for good, and stays open; so does every
   * connection opened until {@link heal}. Nothing is refused or reset. With
   * `name`, only the connections of Redis clients that name themselves so
   * (`CLIENT SETNAME`, the first command ioredis sends with `connectionName`).
   */
  partition(name?: string): void;
  /**
   * A server that went away: every connection open now is closed, and so is
   * every connection opened until {@link heal}, at once. With `name`, only
   * those of Redis clients of that name, as for {@link partition}.
   */
  refuse(name?: string): void;
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
  const { hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  const cutOff = new Set<net.Socket>();
  /** Each client connection's upstream, and the name its Redis client gave (once it has). */
  const upstreams = new Map<net.Socket, net.Socket>();
  const names = new Map<net.Socket, string>();
  // Which connections are partitioned, refused: none, all (true), or those of the clients of one name.
  let partitioned: boolean | string = false;
  let refusing: boolean | string = false;
  const applies = (which: boolean | string, client: net.Socket) => which === true || (which !== false && names.get(client) === which);
  /** Cuts off or closes a client connection as the partition and refusal say; true when it was closed. */
  const enforce = (client: net.Socket): boolean => {
    if (applies(refusing, client)) {
      client.destroy();
      upstreams.get(client)?.destroy();
      return true;
    }
    if (applies(partitioned, client)) cutOff.add(client);
    return false;
  };
  const server = net.createServer((client) => {
    if (refusing === true) return void client.destroy();
    const upstream = net.connect(Number(port), hostname);
    upstreams.set(client, upstream);
    if (partitioned === true) cutOff.add(client);
    const forwarding = () => !cutOff.has(client);
    client.on('data', (chunk) => {
      const name = names.has(client) ? null : /setname\r\n\$\d+\r\n([^\r]*)\r\n/i.exec(chunk.toString('latin1'))?.[1];
      if (name) names.set(client, name);
      // Its first command names it: a named partition or refusal takes it before anything is forwarded.
      if (name) enforce(client);
    });
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
    url: withAddress(target, proxyPort),
    partition: (name) => {
      partitioned = name ?? true;
      if (name === undefined) for (const socket of sockets) cutOff.add(socket);
      else for (const client of upstreams.keys()) enforce(client);
    },
    refuse: (name) => {
      refusing = name ?? true;
      if (name === undefined) for (const socket of sockets) socket.destroy();
      else for (const client of upstreams.keys()) enforce(client);
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

/** `target` (credentials, database, options and all) with the proxy's address in place of the server's. */
function withAddress(target: string, port: number): string {
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return url.toString().replace(/\/$/, '');
}
