import type { Redis } from 'ioredis';

/**
 * Who is connected to a session now. Each live subscription is one field of a
 * Redis hash (user:connection → expiry ms), refreshed by a heartbeat, so a
 * crashed replica's connections fade out on their own; several tabs of one
 * person count once.
 */
export class Presence {
  constructor(private readonly redis: Redis, private readonly prefix: string, private readonly ttlMs = 45_000) {}

  private key(sessionId: string): string {
    return `${this.prefix}:presence:${sessionId}`;
  }

  /** Marks the connection present; returns the online users if that set changed. */
  async enter(sessionId: string, userId: string, connectionId: string): Promise<string[] | null> {
    const before = await this.online(sessionId);
    await this.redis.hset(this.key(sessionId), `${userId}:${connectionId}`, Date.now() + this.ttlMs);
    await this.redis.pexpire(this.key(sessionId), this.ttlMs * 4);
    const after = await this.online(sessionId);
    return sameSet(before, after) ? null : after;
  }

  async heartbeat(sessionId: string, userId: string, connectionId: string): Promise<void> {
    await this.redis.hset(this.key(sessionId), `${userId}:${connectionId}`, Date.now() + this.ttlMs);
    await this.redis.pexpire(this.key(sessionId), this.ttlMs * 4);
  }

  async leave(sessionId: string, userId: string, connectionId: string): Promise<string[] | null> {
    const before = await this.online(sessionId);
    await this.redis.hdel(this.key(sessionId), `${userId}:${connectionId}`);
    const after = await this.online(sessionId);
    return sameSet(before, after) ? null : after;
  }

  /** Distinct user ids with a live connection, sorted. */
  async online(sessionId: string): Promise<string[]> {
    const entries = await this.redis.hgetall(this.key(sessionId));
    const now = Date.now();
    const users = new Set<string>();
    const expired: string[] = [];
    for (const [field, expiry] of Object.entries(entries)) {
      if (Number(expiry) > now) users.add(field.split(':')[0]);
      else expired.push(field);
    }
    if (expired.length) await this.redis.hdel(this.key(sessionId), ...expired);
    return [...users].sort();
  }
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
