import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/kernel/clock';
import { gql, gqlData, signUp } from '../support/graphql';
import { startTestApp } from '../support/app';
import * as factory from '../support/factories';

// Its own file: it boots an app with an injected clock (one embedded database per process).
const CREATE = 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id status } }';

describe('daily quota', () => {
  it('resets at UTC midnight (injectable clock)', async () => {
    const clock = new ManualClock(new Date('2026-03-01T23:59:30Z'));
    const dayApp = await startTestApp({ ATELIER_ROLE: 'api' }, { clock });
    try {
      const user = await signUp(dayApp.url);
      const boss = await factory.user(dayApp, { role: 'ADMIN' });
      await gqlData(dayApp.url, 'mutation { updateTierPolicy(tier: FREE, input: { imagesPerDay: 3, maxOpenJobs: 10 }) { imagesPerDay } }', {}, boss.token);
      await gqlData(dayApp.url, CREATE, { input: { prompt: 'one', count: 2 } }, user.token);
      await gqlData(dayApp.url, CREATE, { input: { prompt: 'two' } }, user.token);
      const refused = await gql(dayApp.url, CREATE, { input: { prompt: 'three' } }, user.token);
      expect(refused.errors?.[0].extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: 3, retryAfterSeconds: 30 });
      const usage = await gqlData<any>(dayApp.url, '{ usage { imagesToday imagesRemainingToday resetsAt } }', {}, user.token);
      expect(usage.usage).toMatchObject({ imagesToday: 3, imagesRemainingToday: 0 });
      expect(new Date(usage.usage.resetsAt).toISOString()).toBe('2026-03-02T00:00:00.000Z');
      clock.advance(31_000);
      expect((await gql(dayApp.url, CREATE, { input: { prompt: 'next day' } }, user.token)).errors).toBeUndefined();
    } finally {
      await dayApp.close();
    }
  });
});
