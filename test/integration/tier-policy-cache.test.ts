import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tier } from '../../src/entities';
import { startTestApp, type TestApp } from '../support/app';

let app: TestApp;
const policyReads: string[] = [];

beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
  const logger = app.db.logger as { logQuery(query: string): void };
  const log = logger.logQuery.bind(logger);
  logger.logQuery = (query: string) => {
    if (/FROM "tier_policies"/.test(query)) policyReads.push(query);
    log(query);
  };
  (app.db.options as { logging: unknown }).logging = true;
});
afterAll(() => app?.close());

describe('tier policies across requests', () => {
  it('are read from the table once for a burst of requests, and an admin change applies to the next one', async () => {
    const quotas = app.services.quotas;
    const first = await quotas.policyFor(Tier.PRO);
    policyReads.length = 0;
    for (let i = 0; i < 20; i += 1) expect((await quotas.policyFor(Tier.PRO)).maxSteps).toBe(first.maxSteps);
    expect(policyReads).toHaveLength(0);

    await quotas.updatePolicy(Tier.PRO, { maxSteps: first.maxSteps - 1 });
    expect((await quotas.policyFor(Tier.PRO)).maxSteps).toBe(first.maxSteps - 1);
    await quotas.updatePolicy(Tier.PRO, { maxSteps: first.maxSteps });
    expect((await quotas.policyFor(Tier.PRO)).maxSteps).toBe(first.maxSteps);
  });

  it('pick up a change made elsewhere (another replica, by hand) within a second', async () => {
    const quotas = app.services.quotas;
    const before = (await quotas.policyFor(Tier.FREE)).maxSteps;
    await app.db.query(`UPDATE tier_policies SET max_steps = $1 WHERE tier = 'FREE'`, [before - 1]);
    try {
      await new Promise((r) => setTimeout(r, 1100));
      expect((await quotas.policyFor(Tier.FREE)).maxSteps).toBe(before - 1);
    } finally {
      await app.db.query(`UPDATE tier_policies SET max_steps = $1 WHERE tier = 'FREE'`, [before]);
    }
  });
});
