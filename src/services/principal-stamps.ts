import type { Redis } from 'ioredis';

/**
 * A version number per user in Redis, bumped whenever what the user may do
 * changes: an API key revoked, the role or tier changed, the account removed.
 * Open WebSockets compare it once per operation instead of reading the
 * database (subscriptions/principal-check.ts), and every bump is announced on
 * `channel` so that sockets holding only subscriptions re-check at once.
 * Anything that changes a user's standing outside these services (SQL by
 * hand) should bump it too; otherwise a socket re-reads its credentials only
 * at an operation a minute or more after its last check (README, "Open
 * WebSockets follow revocation").
 */
export class PrincipalStamps {
  private readonly listeners: ((userId: string) => void)[] = [];

  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  /** `listener` hears each bump made by this process, before it is announced (the user cache drops its copy). */
  onBump(listener: (userId: string) => void): void {
    this.listeners.push(listener);
  }

  /** Pub/sub channel carrying the id of each user whose stamp moved. */
  get channel(): string {
    return `${this.prefix}:principal-changed`;
  }

  private key(userId: string): string {
    return `${this.prefix}:principal:${userId}`;
  }

  /** Call after the change is committed, so whoever re-checks reads it. */
  async bump(userId: string): Promise<void> {
    for (const listener of this.listeners) listener(userId);
    await this.redis.multi().incr(this.key(userId)).publish(this.channel, userId).exec();
  }

  /** The user's current stamp; '0' until the first change. */
  async read(userId: string): Promise<string> {
    return (await this.redis.get(this.key(userId))) ?? '0';
  }
}
