import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { WebhookTargetRefusedError, type WebhookTargets } from './webhook-targets';

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

/**
 * Signs and POSTs one delivery; never throws (the caller decides what a
 * failure means). The connection goes only to addresses `targets` allows,
 * checked as it is made; a refused address is reported in the same words
 * whatever is (or is not) listening there.
 */
export async function sendWebhook(url: string, secret: string, payload: WebhookPayload, now: Date, targets: WebhookTargets): Promise<WebhookAttempt> {
  const body = JSON.stringify(payload);
  const timestamp = Math.floor(now.getTime() / 1000);
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const target = new URL(url);
    targets.assertDeliverable(target);
    const status = await post(target, {
      'Content-Type': 'application/json',
      'User-Agent': WEBHOOK_USER_AGENT,
      [WEBHOOK_HEADERS.id]: payload.id,
      [WEBHOOK_HEADERS.timestamp]: String(timestamp),
      [WEBHOOK_HEADERS.signature]: webhookSignature(secret, timestamp, body),
    }, body, targets);
    const delivered = status >= 200 && status < 300;
    return { delivered, statusCode: status, durationMs: elapsed(), error: delivered ? null : `HTTP ${status}` };
  } catch (error) {
    return { delivered: false, statusCode: null, durationMs: elapsed(), error: describeFailure(error) };
  }
}

class WebhookTimeoutError extends Error {
  override name = 'WebhookTimeoutError';
}

/**
 * One POST over node:http(s), whose `lookup` hook lets the guard vet the
 * addresses the socket really connects to. Redirects are not followed: they
 * would re-send a signed body to a host the owner never registered.
 */
function post(url: URL, headers: Record<string, string>, body: string, targets: WebhookTargets): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST', headers: { ...headers, 'Content-Length': Buffer.byteLength(body) }, lookup: targets.lookup,
    });
    const timer = setTimeout(() => request.destroy(new WebhookTimeoutError()), WEBHOOK_TIMEOUT_MS);
    request.on('response', (res) => {
      clearTimeout(timer);
      // The answer's body is of no interest; dropping it frees the connection.
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.end(body);
  });
}

function describeFailure(error: unknown): string {
  if (error instanceof WebhookTargetRefusedError) return error.message;
  if (error instanceof WebhookTimeoutError) return `No answer within ${WEBHOOK_TIMEOUT_MS / 1000} s`;
  const code = (error as { code?: string }).code;
  if (code) return `Connection failed (${code})`;
  return error instanceof Error ? error.message : String(error);
}
