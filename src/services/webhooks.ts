import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ApiKey, type User } from '../entities';
import { badInput, notFound } from '../kernel/errors';
import type { Clock } from '../kernel/clock';
import { assertUuid } from '../kernel/ids';
import { sendWebhook, type WebhookAttempt } from './webhook-delivery';
import type { WebhookTargets } from './webhook-targets';
import type { WebhookKeys } from './webhook-keys';

const SECRET_PREFIX = 'whsec_';
/** A test delivery's outcome, with the id it was sent under. */
export interface WebhookTestResult extends WebhookAttempt {
  id: string;
  type: string;
}

/** Registering, removing and testing the webhook of an API key. Only the key's owner may. */
export class WebhookService {
  constructor(private readonly db: DataSource, private readonly clock: Clock, private readonly targets: WebhookTargets, private readonly keys: WebhookKeys) {}

  /**
   * Sets (or replaces) the key's webhook with a fresh signing secret, returned
   * only here: calling it again with the same URL rotates the secret.
   */
  async setWebhook(user: User, apiKeyId: string, rawUrl: string): Promise<{ apiKey: ApiKey; secret: string }> {
    const key = await this.ownedKey(user, apiKeyId);
    // The key's state first: a revoked key is refused whatever the URL, without resolving its host.
    if (key.revokedAt) throw badInput('apiKeyId', 'This API key is revoked');
    const url = await this.targets.parse(rawUrl);
    const secret = SECRET_PREFIX + randomBytes(32).toString('base64url');
    await this.keys.added(key.id); // before the row: a transition meanwhile may enqueue a delivery, never miss one
    await this.db.getRepository(ApiKey).update({ id: key.id }, { webhookUrl: url, webhookSecret: secret });
    return { apiKey: { ...key, webhookUrl: url, webhookSecret: secret } as ApiKey, secret };
  }

  /** Removes the key's webhook; deliveries still queued are dropped when they come up. */
  async removeWebhook(user: User, apiKeyId: string): Promise<ApiKey> {
    const key = await this.ownedKey(user, apiKeyId);
    if (key.webhookUrl || key.webhookSecret) {
      // The key stays in WebhookKeys: taking it out could race a new webhook being set (its deliveries are dropped when they run).
      await this.db.getRepository(ApiKey).update({ id: key.id }, { webhookUrl: null, webhookSecret: null });
    }
    return { ...key, webhookUrl: null, webhookSecret: null } as ApiKey;
  }

  /**
   * Sends a signed `ping` now (no retries) and reports how the receiver
   * answered; an address the guard refuses is reported as refused, never
   * with what answers there. A revoked key's webhook is sent nothing.
   */
  async testWebhook(user: User, apiKeyId: string): Promise<WebhookTestResult> {
    const key = await this.ownedKey(user, apiKeyId);
    if (key.revokedAt) throw badInput('apiKeyId', 'This API key is revoked');
    if (!key.webhookUrl || !key.webhookSecret) throw badInput('apiKeyId', 'This API key has no webhook');
    const now = this.clock.now();
    const id = randomUUID();
    const payload = { id, type: 'ping', createdAt: now.toISOString(), data: { apiKey: { id: key.id, name: key.name } } };
    return { id, type: payload.type, ...(await sendWebhook(key.webhookUrl, key.webhookSecret, payload, now, this.targets)) };
  }

  /** Someone else's key reads as missing: its existence is not revealed. */
  private async ownedKey(user: User, apiKeyId: string): Promise<ApiKey> {
    const key = await this.db.getRepository(ApiKey).findOneBy({ id: assertUuid('apiKeyId', apiKeyId), userId: user.id });
    if (!key) throw notFound('API key');
    return key;
  }
}
