import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import type { Logger } from '../observability/logger';

/** A member the set always holds once it has been built from the database. */
const BUILT = '*';

/**
 * The API keys that have a webhook, as a Redis set, so that a transition of
 * a job submitted with a key that has none enqueues no delivery (one
 * SMISMEMBER instead of a delivery job and its worker's reads of the job and
 * the key; README, "Webhooks"). The set may hold more than the keys with a
 * webhook, never fewer:
 *
 * - a key is added before its webhook is written;
 * - nothing takes a key out: removing a webhook (or a receiver's 410) while
 *   another request sets one could otherwise leave a key with a webhook
 *   outside the set, and its deliveries lost. A key whose webhook was
 *   removed costs a delivery job per transition, dropped when it runs, as
 *   every key's did before the set;
 * - until the set has been built from the database (a new Redis, or one that
 *   lost it), every key counts as having one, and the first look builds it;
 * - building only adds, so a webhook set meanwhile is never lost.
 *
 * A delivery still reads the key's webhook when it runs: the set only spares
 * the ones that would find none.
 */
export class WebhookKeys {
  private readonly key: string;
  private building: Promise<void> | null = null;

  constructor(private readonly redis: Redis, prefix: string, private readonly db: DataSource, private readonly logger: Logger) {
    this.key = `${prefix}:webhooks:keys`;
  }

  /** False only when the set says the key has no webhook. */
  async mayHaveWebhook(apiKeyId: string): Promise<boolean> {
    const [member, built] = await this.redis.smismember(this.key, apiKeyId, BUILT);
    if (built === 1) return member === 1;
    this.building ??= this.build()
      .catch((err) => this.logger.warn({ err }, 'could not build the set of API keys with webhooks'))
      .finally(() => { this.building = null; });
    return true;
  }

  /** Before the key's webhook is written. */
  async added(apiKeyId: string): Promise<void> {
    await this.redis.sadd(this.key, apiKeyId);
  }

  private async build(): Promise<void> {
    const rows = (await this.db.query('SELECT id FROM api_keys WHERE webhook_url IS NOT NULL')) as { id: string }[];
    await this.redis.sadd(this.key, ...rows.map((row) => row.id), BUILT);
  }
}
