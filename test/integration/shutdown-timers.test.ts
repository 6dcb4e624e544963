import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger';
import { startTestApp } from '../support/app';
import { waitFor } from '../support/graphql';

/*
 * A stop leaves nothing behind that reaches for the database or Redis after
 * they closed: a queue-position announcement put off for half a second (a job
 * that went ahead of waiting ones schedules one) is dropped at shutdown.
 * Before, it ran after the close and logged `could not publish queue
 * positions` ("Driver not Connected", or Redis's "Connection is closed").
 */
describe('shutdown', () => {
  it('drops the queue positions it had put off, instead of publishing them after the database and Redis closed', async () => {
    const lines: { msg: string; level: number }[] = [];
    const app = await startTestApp({ ATELIER_ROLE: 'api' }, {
      logger: createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } }),
    });
    const redis = app.redis.duplicate();
    try {
      app.services.lifecycle.announcePositionsSoon();
      // Scheduled once its claim is in Redis; the announcement would run 500 ms later.
      await waitFor(async () => (await redis.exists(`${app.config.redisPrefix}:positions:pending-announce`)) === 1, 5_000, 5);
      const closing = Date.now();
      await app.close();
      const closedIn = Date.now() - closing;
      await new Promise((resolve) => setTimeout(resolve, 800));
      console.log(`closed in ${closedIn} ms`);
      expect(lines.filter((l) => l.level >= 40).map((l) => l.msg)).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });
});
