import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signUp, waitFor, wsConnect } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { startLatencyProxy } from '../support/latency-proxy';

/*
 * Redis is reached through a 3 ms (each way) proxy, as from a replica in
 * another zone: a check-then-act over several round trips lets concurrent
 * connects all pass the check; one script does not.
 */
let app: TestApp;
let proxy: Awaited<ReturnType<typeof startLatencyProxy>>;
beforeAll(async () => {
  proxy = await startLatencyProxy(inject('redisUrl'), 3);
  app = await startTestApp({ ATELIER_ROLE: 'api', ATELIER_MAX_CONNECTIONS_PER_USER: '20', REDIS_URL: proxy.url });
});
afterAll(async () => {
  await app?.close();
  await proxy?.close();
});

describe('per-user connection cap under concurrency', () => {
  it('accepts exactly 20 of 40 simultaneous connects of one user; the rest close with 4429', async () => {
    const user = await signUp(app.url);
    const attempts = await Promise.all(Array.from({ length: 40 }, () => wsConnect(app.url, user.token)));
    const codes = attempts.map((a) => a.code);
    expect(codes.filter((c) => c === 'open')).toHaveLength(20);
    expect(codes.filter((c) => c === 4429)).toHaveLength(20);
    for (const a of attempts) a.dispose();
    // Closed connections stop counting: the user can connect again.
    const again = await waitFor(async () => {
      const attempt = await wsConnect(app.url, user.token);
      if (attempt.code === 'open') return attempt;
      return null;
    }, 5000);
    again.dispose();
  });
});
