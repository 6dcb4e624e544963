import { createHmac } from 'node:crypto';

/** Header names of a delivery (documented in README.md, "Webhooks"). */
export const WEBHOOK_HEADERS = {
  id: 'Atelier-Webhook-Id',
  timestamp: 'Atelier-Webhook-Timestamp',
  signature: 'Atelier-Webhook-Signature',
} as const;

export const WEBHOOK_USER_AGENT = 'Atelier-Webhooks/1';
/** A receiver that has not answered by then counts as failed (and is retried). */
export const WEBHOOK_TIMEOUT_MS = 10_000;

import type { WebhookPayload } from '../kernel/queues';

export type { WebhookPayload };

/** How one HTTP attempt went. */
export interface WebhookAttempt {
  /** True for a 2xx answer. */
  delivered: boolean;
  /** HTTP status; null when no answer came (timeout, refused connection, DNS). */
  statusCode: number | null;
  durationMs: number;
  /** Why it failed, in words; null when delivered. */
  error: string | null;
}

/**
 * `v1=` + hex HMAC-SHA256 of `"<timestamp>.<raw body>"` keyed with the whole
 * secret string (`whsec_…`, as UTF-8). Signing the timestamp with the body
 * lets receivers refuse replays of an old delivery.
 */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Signs and POSTs one delivery; never throws (the caller decides what a failure means). */
export async function sendWebhook(url: string, secret: string, payload: WebhookPayload, now: Date): Promise<WebhookAttempt> {
  const body = JSON.stringify(payload);
  const timestamp = Math.floor(now.getTime() / 1000);
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const res = await fetch(url, {
      method: 'POST',
      // A redirect would re-send a signed body to a host the owner never registered: count it as a failure.
      redirect: 'manual',
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': WEBHOOK_USER_AGENT,
        [WEBHOOK_HEADERS.id]: payload.id,
        [WEBHOOK_HEADERS.timestamp]: String(timestamp),
        [WEBHOOK_HEADERS.signature]: webhookSignature(secret, timestamp, body),
      },
      body,
    });
    // The answer's body is of no interest; dropping it frees the connection.
    await res.body?.cancel().catch(() => undefined);
    const delivered = res.status >= 200 && res.status < 300;
    return { delivered, statusCode: res.status, durationMs: elapsed(), error: delivered ? null : `HTTP ${res.status}` };
  } catch (error) {
    const timedOut = error instanceof Error && error.name === 'TimeoutError';
    const reason = timedOut ? `No answer within ${WEBHOOK_TIMEOUT_MS / 1000} s` : describeFetchError(error);
    return { delivered: false, statusCode: null, durationMs: elapsed(), error: reason };
  }
}

/** undici hides the useful part (ECONNREFUSED, ENOTFOUND) in `cause`. */
function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `Connection failed (${cause.code})`;
  return error instanceof Error ? error.message : String(error);
}
