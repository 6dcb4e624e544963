import type { Socket } from 'node:net';
import pg from 'pg';

/**
 * How long a PostgreSQL connection with a statement in flight may go
 * without hearing from its server. `paused` while migrations run: a
 * migration may rewrite a large table in one statement, and nothing else is
 * served meanwhile.
 */
export interface AnswerGuard {
  timeoutMs: number;
  paused: boolean;
}

/** What pg's Client keeps private and the guard reads: its socket and whether it waits on the server. */
interface ClientInternals {
  connection: { stream: Socket };
  _activeQuery: unknown;
  _queryQueue: unknown[];
}

/**
 * A pg Client class (for the pool's `Client` option) whose connection is
 * dropped when it has a statement in flight and nothing has come from the
 * server for `guard.timeoutMs`. Without it a connection cut off without a
 * reset (a network partition, a proxy or failover that keeps the socket open,
 * a frozen server) waits for TCP's retransmissions to give up, about 15
 * minutes on Linux: every request on it hangs that long, and a pool whose
 * connections all hang stalls the process even after the network is back.
 * Redis commands have had the same bound (their command timeout) all along.
 *
 * The statement fails with code ETIMEDOUT, which is an outage
 * (kernel/errors.ts): a request is answered SERVICE_UNAVAILABLE, a worker
 * waits the outage out (docs/operations.md, "Outages of PostgreSQL or
 * Redis"). The dropped connection leaves the pool and the next statement
 * opens a new one. The client cannot tell a statement that runs that long
 * from a server that went silent, so the bound is long against any statement
 * the service runs (they are indexed or batched).
 */
export function guardedClient(guard: AnswerGuard): typeof pg.Client {
  return class GuardedClient extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super(config);
      const self = this as unknown as ClientInternals;
      // Connection made the socket already (pg swaps in a TLS socket on top of it for SSL; this one still carries it).
      const stream = self.connection.stream;
      stream.setTimeout(guard.timeoutMs);
      stream.on('timeout', () => {
        // An idle pooled connection may be silent for as long as it likes; the socket's timer re-arms on any traffic.
        if (guard.paused || (!self._activeQuery && self._queryQueue.length === 0)) return;
        const error = Object.assign(
          new Error(`PostgreSQL did not answer within ${guard.timeoutMs / 1000} s: connection dropped (ATELIER_DATABASE_TIMEOUT_SECONDS)`),
          { code: 'ETIMEDOUT' },
        );
        stream.destroy(error);
      });
    }
  };
}
