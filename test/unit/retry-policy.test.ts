import { describe, expect, it } from 'vitest';
import { answerOf, isQueryText, isRetryable, retryPolicy } from '../../sdk/src/retries';

/*
 * The retry policy the SDK, the CLI and the MCP server share (sdk/README.md,
 * "Retries"), answer by answer. test/integration/client-retries.test.ts runs
 * it against a live Atelier.
 */
const failure = (status: number | null, retryAfterSeconds: number | null = null) => ({ status, retryAfterSeconds });
const MINUTE = 60_000;

describe('which failures are made again', () => {
  it('any call after Atelier\'s "come back later" (429, or 503 with a Retry-After), within the longest wait', () => {
    for (const repeatable of [true, false]) {
      expect(isRetryable(failure(503, 5), repeatable, MINUTE)).toBe(true);
      expect(isRetryable(failure(429, 30), repeatable, MINUTE)).toBe(true);
      expect(isRetryable(failure(429), repeatable, MINUTE)).toBe(true);
      // A day's quota asks for hours: not waited for.
      expect(isRetryable(failure(429, 3600), repeatable, MINUTE)).toBe(false);
    }
  });

  it('no answer, or a proxy\'s 502/503/504, only when repeating the call is harmless', () => {
    for (const status of [null, 502, 503, 504]) {
      expect(isRetryable(failure(status), true, MINUTE)).toBe(true);
      expect(isRetryable(failure(status), false, MINUTE)).toBe(false);
    }
  });

  it('never an answer that says what was wrong, nor an error without an answer\'s details', () => {
    for (const status of [200, 400, 401, 403, 404, 413, 500]) expect(isRetryable(failure(status), true, MINUTE)).toBe(false);
    expect(isRetryable(new Error('boom'), true, MINUTE)).toBe(false);
    expect(isRetryable(null, true, MINUTE)).toBe(false);
  });
});

describe('the policy', () => {
  it('waits the answer\'s Retry-After, at most maxRetries times, then throws the last failure', async () => {
    const waits: number[] = [];
    const policy = retryPolicy({ maxRetries: 2 }, false);
    policy.onRetry(({ delay }) => waits.push(delay));
    let calls = 0;
    const refused = Object.assign(new Error('busy'), failure(429, 0.01));
    await expect(policy.execute(async () => { calls += 1; throw refused; })).rejects.toBe(refused);
    expect(calls).toBe(3);
    expect(waits).toEqual([10, 10]);
  });

  it('backs off from retryDelayMs, doubling, with jitter, when the failure names no wait', async () => {
    const waits: number[] = [];
    const policy = retryPolicy({ maxRetries: 3, retryDelayMs: 4 }, true);
    policy.onRetry(({ delay }) => waits.push(delay));
    let calls = 0;
    const result = await policy.execute(async () => {
      calls += 1;
      if (calls < 4) throw Object.assign(new Error('socket hang up'), failure(null));
      return 'answered';
    });
    expect(result).toBe('answered');
    expect(waits).toHaveLength(3);
    waits.forEach((wait, i) => {
      expect(wait).toBeGreaterThanOrEqual(4 * 2 ** i * 0.5);
      expect(wait).toBeLessThanOrEqual(4 * 2 ** i);
    });
  });

  it('makes nothing again with maxRetries 0', async () => {
    let calls = 0;
    await expect(retryPolicy({ maxRetries: 0 }, true).execute(async () => { calls += 1; throw Object.assign(new Error('x'), failure(503, 0)); })).rejects.toThrow('x');
    expect(calls).toBe(1);
  });
});

describe('reading an answer', () => {
  it('takes Retry-After in seconds, and nothing else (an HTTP date or garbage is no wait)', () => {
    const answer = (retryAfter: string | null) => answerOf({ status: 503, headers: new Headers(retryAfter === null ? {} : { 'retry-after': retryAfter }) });
    expect(answer('5')).toEqual({ status: 503, retryAfterSeconds: 5 });
    expect(answer(null)).toEqual({ status: 503, retryAfterSeconds: null });
    expect(answer('Wed, 21 Oct 2026 07:28:00 GMT')).toEqual({ status: 503, retryAfterSeconds: null });
    expect(answer('-1')).toEqual({ status: 503, retryAfterSeconds: null });
  });

  it('tells a query from a mutation or a subscription by its text', () => {
    expect(isQueryText('query Me { me { id } }')).toBe(true);
    expect(isQueryText('  { me { id } }')).toBe(true);
    expect(isQueryText('mutation M { login(email: "a", password: "b") { token } }')).toBe(false);
    expect(isQueryText('subscription S { jobUpdated(jobId: "x") { type } }')).toBe(false);
    expect(isQueryText('queryish')).toBe(false);
  });
});
