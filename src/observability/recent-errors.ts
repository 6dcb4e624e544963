import type { Redis } from 'ioredis';

/** One unexpected error, kept for the admin's monitoring page. */
export interface RecordedError {
  at: string;
  code: string;
  message: string;
  requestId: string | null;
  operation: string | null;
}

const KEEP = 100;

/**
 * The last {@link KEEP} unexpected (INTERNAL) API errors, in a capped Redis
 * list shared by every replica, so an admin sees them next to failed jobs and
 * can look the request id up in the logs. Expected errors (bad input,
 * forbidden, quota) are not kept: they are the API working as designed.
 */
export class RecentErrors {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  private get key(): string {
    return `${this.prefix}:errors:recent`;
  }

  async record(error: RecordedError): Promise<void> {
    await this.redis.multi().lpush(this.key, JSON.stringify({ ...error, message: error.message.slice(0, 500) })).ltrim(this.key, 0, KEEP - 1).exec();
  }

  /** Newest first. */
  async list(limit: number): Promise<RecordedError[]> {
    const raw = await this.redis.lrange(this.key, 0, Math.max(0, limit - 1));
    return raw.flatMap((entry) => {
      try {
        return [JSON.parse(entry) as RecordedError];
      } catch {
        return [];
      }
    });
  }
}
