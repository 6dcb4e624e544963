import type { WebSocket } from 'ws';

/**
 * Signed-out graphql-ws connections per client address on this replica.
 * Signed-in connections are capped per user (ATELIER_MAX_CONNECTIONS_PER_USER);
 * this caps the rest (ATELIER_MAX_ANONYMOUS_CONNECTIONS_PER_ADDRESS). Counted
 * in memory, so a dead replica's sockets never hold slots on the others.
 */
export class AnonymousConnections {
  private readonly open = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** Counts `socket` against `address` until it closes; false when the address is at the cap. */
  admit(address: string, socket: WebSocket): boolean {
    const count = this.open.get(address) ?? 0;
    if (count >= this.limit) return false;
    this.open.set(address, count + 1);
    socket.once('close', () => {
      const left = (this.open.get(address) ?? 1) - 1;
      if (left > 0) this.open.set(address, left);
      else this.open.delete(address);
    });
    return true;
  }
}
