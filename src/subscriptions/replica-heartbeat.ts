import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Redis } from 'ioredis';

/** Where the liveness key of API replica `id` lives; Lua scripts build it from this prefix. */
export function replicaKeyPrefix(prefix: string): string {
  return `${prefix}:replica:`;
}

/**
 * An API replica's liveness: one Redis key with a short TTL, refreshed every
 * few seconds. Connection-cap and presence entries carry their replica's id,
 * and the scripts that count them skip (and delete) entries whose replica's
 * key is gone, so a replica that dies without closing its sockets stops
 * counting within one TTL: its users can reconnect to a survivor at once and
 * presence drops them. A clean stop deletes the key straight away.
 */
export class ReplicaHeartbeat {
  /** Host, pid and a random part; never contains ':' (entries are "...:replica:connection"). */
  readonly id = `${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`.replace(/[^A-Za-z0-9._-]/g, '-');
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly timing = { ttlMs: 10_000, everyMs: 3_000 },
  ) {}

  private get key(): string {
    return replicaKeyPrefix(this.prefix) + this.id;
  }

  /** Beats now (so the replica counts before it accepts a socket), then every few seconds until `stop`. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat().catch(() => undefined), this.timing.everyMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    await this.redis.set(this.key, String(process.pid), 'PX', this.timing.ttlMs);
  }

  /** With Redis away the key is left to its TTL: waiting out the client's retries would only delay the stop. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.redis.status === 'ready') await this.redis.del(this.key);
  }
}
