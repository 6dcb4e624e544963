import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLog } from '../../src/subscriptions/event-log';
import { startTestApp, type TestApp } from '../support/app';
import { waitFor } from '../support/graphql';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
});
afterAll(() => app?.close());

const progress = (jobId: string, step: number) => ({
  type: 'PROGRESS' as const, at: new Date().toISOString(), jobId, sessionId: null, actorId: null, step, totalSteps: 9, elapsedMs: 0, etaMs: 0,
});

describe('the event log', () => {
  it('replays and continues live with no gap and no duplicate when an event lands while the replay is read', async () => {
    const events = app.services.events as EventLog;
    const jobId = randomUUID();
    await events.publish(progress(jobId, 1));
    await events.publish(progress(jobId, 2));
    // Step 3 is published after the live listener is attached and before the replay is read:
    // it reaches the subscriber both ways, and must be delivered once.
    const read = events.read.bind(events);
    events.read = (async (...args: Parameters<EventLog['read']>) => {
      await events.publish(progress(jobId, 3));
      await new Promise((r) => setTimeout(r, 50)); // its live copy arrives while the replay is read
      return read(...args);
    }) as EventLog['read'];
    const queue = await events.subscribe('job', jobId, 'start');
    events.read = read;
    for (const step of [4, 5]) await events.publish(progress(jobId, step));
    const steps: number[] = [];
    await waitFor(async () => {
      while (queue.size > 0) steps.push(((await queue.next()).value as { step: number }).step);
      return steps.length >= 5;
    }, 5000, 20);
    await new Promise((r) => setTimeout(r, 100));
    while (queue.size > 0) steps.push(((await queue.next()).value as { step: number }).step);
    expect(steps).toEqual([1, 2, 3, 4, 5]);
    await queue.return();
  });
});
