import type { WebSocket } from 'ws';
import type { ClientNetwork } from '../kernel/client-network';

/**
 * Signed-out graphql-ws connections per client address on this replica (an
 * IPv6 client's /64, and its /56 and /48 at 4 and 16 times the cap:
 * kernel/client-network.ts).
 * Signed-in connections are capped per user (ATELIER_MAX_CONNECTIONS_PER_USER);
 * this caps the rest (ATELIER_MAX_ANONYMOUS_CONNECTIONS_PER_ADDRESS). Counted
 * in memory, so a dead replica's sockets never hold slots on the others.
 */
export class AnonymousConnections {
  private readonly open = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** Counts `socket` in each of `networks` (clientNetworksOf) until it closes; false when one of them is at its cap. */
  admit(networks: readonly ClientNetwork[], socket: WebSocket): boolean {
    if (networks.some(({ network, times }) => (this.open.get(network) ?? 0) >= this.limit * times)) return false;
    for (const { network } of networks) this.open.set(network, (this.open.get(network) ?? 0) + 1);
    socket.once('close', () => {
      for (const { network } of networks) {
        const left = (this.open.get(network) ?? 1) - 1;
        if (left > 0) this.open.set(network, left);
        else this.open.delete(network);
      }
    });
    return true;
  }
}

/**
 * What one graphql-ws socket may have going at once (docs/request-limits.md):
 * at most `maxOpen` operations open (a further subscribe is refused with
 * QUOTA_EXCEEDED), and at most `maxStarting` of them being set up (their
 * checks and first reads), the rest of a burst waiting their turn, so one
 * socket's 500 subscribes cannot fill the database's queue ahead of everyone
 * else's requests.
 */
export class SocketOperations {
  private readonly sockets = new WeakMap<object, { open: Set<string>; starting: Map<string, () => void>; waiting: (() => void)[] }>();

  constructor(readonly maxOpen: number, private readonly maxStarting: number) {}

  private of(socket: object) {
    let entry = this.sockets.get(socket);
    if (!entry) this.sockets.set(socket, (entry = { open: new Set(), starting: new Map(), waiting: [] }));
    return entry;
  }

  /** Counts operation `id` on `socket`; false when the socket has `maxOpen` open already. */
  open(socket: object, id: string): boolean {
    const { open } = this.of(socket);
    if (open.size >= this.maxOpen) return false;
    open.add(id);
    return true;
  }

  /** Resolves once `id` may be set up: fewer than `maxStarting` of the socket's operations are. */
  async turn(socket: object, id: string): Promise<void> {
    const entry = this.of(socket);
    while (entry.starting.size >= this.maxStarting) await new Promise<void>((resolve) => entry.waiting.push(resolve));
    entry.starting.set(id, () => {
      entry.starting.delete(id);
      entry.waiting.shift()?.();
    });
  }

  /** `id` is set up (it runs, or it was refused): the next of the socket's burst may start. Once only. */
  started(socket: object, id: string): void {
    this.sockets.get(socket)?.starting.get(id)?.();
  }

  /** `id` ended (completed, refused, or the client completed it): its place is free. */
  ended(socket: object, id: string): void {
    this.started(socket, id);
    this.sockets.get(socket)?.open.delete(id);
  }
}
