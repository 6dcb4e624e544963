import { createIORedisClient, RedisConnection } from 'bullmq';
import { Command, Redis, type RedisOptions } from 'ioredis';
import { closeHandler } from 'ioredis/built/redis/event_handler';

/**
 * ioredis, with fixes. `disconnect()` on a client that is waiting to
 * reconnect (status `reconnecting`: the server went away, no socket, a retry
 * timer pending) clears the timer and nothing else, so the client never
 * reaches `end` and never emits it (ioredis 5.11 and 6.0). BullMQ's
 * `Worker.close()` disconnects its blocking client and waits for that `end`,
 * so a worker closed during a Redis outage, or in the retry back-off just
 * after one, never closed and shutdown hung (docs/operations.md, "Outages of
 * PostgreSQL or Redis"). Here such a disconnect ends the client the way ioredis ends a
 * live one: `close`, then `end`, and queued commands fail with "Connection is
 * closed.".
 */
export class AtelierRedis extends Redis {
  constructor(target: string | RedisOptions, options: RedisOptions = {}) {
    if (typeof target === 'string') super(target, options);
    else super(target);
    this.on('close', () => this.forgetSocketTimeout());
  }

  /**
   * ioredis keeps the `socketTimeout` timer of a connection that closed for
   * another reason (Redis restarted with a command in flight) and, when it
   * fires, destroys whatever socket the client has then: the healthy one of
   * the reconnection, whose commands it would send again (ioredis 5.11).
   * Once a connection has closed, its timer has nothing left to watch; the
   * next command on the new connection arms a new one (docs/operations.md,
   * "Outages of PostgreSQL or Redis").
   */
  private forgetSocketTimeout(): void {
    const client = this as unknown as { socketTimeoutTimer?: NodeJS.Timeout };
    clearTimeout(client.socketTimeoutTimer);
    client.socketTimeoutTimer = undefined;
  }

  override disconnect(reconnect = false): void {
    const waitingToReconnect = !reconnect && this.status === 'reconnecting';
    super.disconnect(reconnect);
    if (waitingToReconnect && this.status === 'reconnecting') closeHandler(this)();
  }

  /**
   * ioredis applies `commandTimeout` to every command. A blocking command
   * (BZPOPMIN, XREAD BLOCK) waits longer than that by design, and a
   * (p|s)subscribe or unsubscribe that timed out would leave ioredis's idea of
   * the subscriptions wrong; ioredis also resubscribes after a reconnection
   * without a catch, so one timing out there would be an unhandled
   * rejection. So those go untimed on a client that has the timeout, such as
   * a `duplicate()` of the command client made into a subscriber
   * (docs/operations.md, "Outages of PostgreSQL or Redis").
   */
  override sendCommand(command: Command, stream?: Parameters<Redis['sendCommand']>[1]): unknown {
    const { commandTimeout } = this.options;
    if (commandTimeout === undefined || !untimed(command.name)) return super.sendCommand(command, stream);
    // ioredis reads the option in sendCommand only, synchronously, before anything is sent.
    this.options.commandTimeout = undefined;
    try {
      return super.sendCommand(command, stream);
    } finally {
      this.options.commandTimeout = commandTimeout;
    }
  }

  /** A copy is an AtelierRedis too (ioredis's own makes a plain client). */
  override duplicate(override?: Partial<RedisOptions>): AtelierRedis {
    return new AtelierRedis({ ...this.options, ...override });
  }
}

function untimed(name: string): boolean {
  return Command.checkFlag('BLOCKING_COMMANDS', name) || Command.checkFlag('ENTER_SUBSCRIBER_MODE', name)
    || Command.checkFlag('EXIT_SUBSCRIBER_MODE', name);
}

/**
 * How long a command on a non-blocking client waits for its answer before it
 * fails with ioredis's `Command timed out`, an outage (`isServiceOutage`): a
 * Redis that is reachable but does not answer (stopped, a network partition,
 * a failover) gets the same 503 as one that refuses connections, instead of
 * every request waiting for the whole outage. Well above any command's
 * normal time (a few ms), so a busy Redis is not taken for a hung one. The
 * clock starts when the command is sent: ioredis sends one auto-pipeline at
 * a time, so a command issued while one waits goes out after it, and can
 * take up to twice this to fail (docs/operations.md, "Outages of PostgreSQL
 * or Redis").
 */
export const REDIS_COMMAND_TIMEOUT_MS = 3000;

/**
 * TCP keep-alive after this long idle: a connection whose peer vanished
 * without a word (a partition, a host gone) is found dead and reconnected
 * while no command is waiting on it, where the probes go unanswered. Where
 * something in between still answers them, only a command that waits finds
 * it: a subscriber's PING ({@link pingSubscriber}).
 */
export const REDIS_KEEP_ALIVE_MS = 10_000;

/**
 * How long a connection with a command waiting may receive nothing before
 * its socket is destroyed and a new one made (ioredis's `socketTimeout`).
 * A command timeout fails one command and leaves the connection; a network
 * partition that never closes it (a proxy, a NAT or a failover in between)
 * would leave every later command timing out on it too, and TCP keep-alive
 * does not notice while something in between still answers the probes.
 * Twice the command timeout: a Redis that sends nothing for that long is not
 * slow, and a late answer to a timed out command still arrives on its own
 * connection (docs/operations.md, "Outages of PostgreSQL or Redis").
 */
export const REDIS_SOCKET_TIMEOUT_MS = 2 * REDIS_COMMAND_TIMEOUT_MS;

/**
 * How often a subscriber connection is pinged ({@link pingSubscriber}). A
 * subscriber sends nothing between its (un)subscribes, so no command waits on
 * it and its socket timeout never starts: one that a partition cut off
 * without closing it would stay silent for good. With a PING every 5 s, such a
 * connection is replaced within this plus {@link REDIS_SOCKET_TIMEOUT_MS}
 * (11 s) of its last answer; one PING per connection every 5 s costs Redis
 * nothing noticeable (docs/operations.md, "A subscriber connection that
 * never answers again").
 */
export const REDIS_SUBSCRIBER_PING_MS = 5000;

/**
 * Pings a subscriber connection every `everyMs` while it is ready (one timer
 * per connection, however many channels it has), so that a connection cut
 * off without closing has a command waiting and its socket timeout replaces
 * it; ioredis then subscribes its channels again on the new one and emits
 * `ready`, on which the event log catches its subscribers up
 * (`EventLog.catchUp`). PING is allowed in subscribed mode, and ioredis
 * resolves it with Redis's `pong` reply there; a PING that fails (its
 * command timeout, the connection closing) is dropped: the socket timeout
 * does the rest. Stops when the client ends.
 */
export function pingSubscriber(client: Redis, everyMs = REDIS_SUBSCRIBER_PING_MS): void {
  let waiting = false;
  const timer = setInterval(() => {
    if (waiting || client.status !== 'ready') return;
    waiting = true;
    client.ping().catch(() => undefined).finally(() => { waiting = false; });
  }, everyMs);
  timer.unref();
  client.once('end', () => clearInterval(timer));
}

/**
 * BullMQ's workers' `socketTimeout`. A worker's blocking connection is a copy
 * of its options (BullMQ copies them), and its BZPOPMIN receives nothing for
 * up to 10 s by design (BullMQ's longest block; 5 s when the queue is empty),
 * so the timeout is well above that; BullMQ itself gives up on a BZPOPMIN 1 s
 * past its block.
 */
export const REDIS_WORKER_SOCKET_TIMEOUT_MS = 15_000;

/**
 * Makes BullMQ build its connections (queues, workers, their blocking
 * clients) as AtelierRedis; BullMQ still owns and closes them. Called before
 * any queue or worker is made; idempotent.
 */
export function useAtelierRedisInBullmq(): void {
  RedisConnection.clientFactory ??= (options: RedisOptions & { url?: string }) => {
    const { url, ...rest } = options;
    return createIORedisClient(url ? new AtelierRedis(url, rest) : new AtelierRedis(rest));
  };
}

/**
 * Connection options for BullMQ queues (submitting, cancelling, counting):
 * they block on nothing, so they fail fast like the command client, and a
 * `queue.add` during an outage is the caller's 503, not a request that waits
 * for Redis to come back. Workers block and keep `maxRetriesPerRequest:
 * null` with no command timeout ({@link workerConnection}).
 */
export function queueConnection(url: string): { url: string; maxRetriesPerRequest: number; commandTimeout: number; socketTimeout: number; keepAlive: number } {
  return { url, maxRetriesPerRequest: 3, commandTimeout: REDIS_COMMAND_TIMEOUT_MS, socketTimeout: REDIS_SOCKET_TIMEOUT_MS, keepAlive: REDIS_KEEP_ALIVE_MS };
}

/**
 * Connection options for BullMQ workers (and the queues that share them):
 * `maxRetriesPerRequest: null` as BullMQ requires, no command timeout, and a
 * socket timeout longer than their blocking commands wait
 * ({@link REDIS_WORKER_SOCKET_TIMEOUT_MS}).
 */
export function workerConnection(url: string): { url: string; maxRetriesPerRequest: null; socketTimeout: number } {
  return { url, maxRetriesPerRequest: null, socketTimeout: REDIS_WORKER_SOCKET_TIMEOUT_MS };
}

/**
 * Opens an ioredis client. BullMQ needs `maxRetriesPerRequest: null` on the
 * connections its workers block on; commands elsewhere fail fast instead:
 * after 3 reconnection attempts while Redis refuses connections, and after
 * {@link REDIS_COMMAND_TIMEOUT_MS} while it does not answer; a connection
 * that gets nothing for {@link REDIS_SOCKET_TIMEOUT_MS} while a command waits
 * is replaced (a blocking client gets neither timeout: how long it blocks is
 * its caller's; subscribe commands are never timed).
 * `autoPipelining` sends the commands issued in one tick of the event loop
 * (concurrent requests, a job's events) in one socket write: on this kind of
 * machine a write that wakes Redis costs more CPU than the command
 * (docs/architecture.md, "The request path"). Only for connections that run
 * plain commands and scripts, never for a subscriber.
 */
export function connectRedis(url: string, options: { blocking?: boolean; name?: string; autoPipelining?: boolean } = {}): Redis {
  return new AtelierRedis(url, {
    connectionName: options.name,
    enableAutoPipelining: options.autoPipelining ?? false,
    maxRetriesPerRequest: options.blocking ? null : 3,
    ...(options.blocking ? {} : { commandTimeout: REDIS_COMMAND_TIMEOUT_MS, socketTimeout: REDIS_SOCKET_TIMEOUT_MS }),
    keepAlive: REDIS_KEEP_ALIVE_MS,
    enableReadyCheck: true,
    lazyConnect: false,
  });
}
