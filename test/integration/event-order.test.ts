import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AtelierEvent, EventOrder } from '../../src/kernel/events';
import { startTestApp, type TestApp } from '../support/app';
import { gqlData, signUp, waitFor } from '../support/graphql';

/**
 * A job's STARTED follows its QUEUED. The API appends QUEUED once the queue
 * entry is added, and a worker can take the entry and start the job first;
 * the worker then waits for QUEUED before announcing the start
 * (JobLifecycle.begin). Here the API's QUEUED is held back on purpose.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp(); // API and worker in one process, as `npm start`
  await runJob(); // the model is loaded: a start takes milliseconds, not a load
});
afterAll(() => app?.close());

const CREATE = 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id } }';
const SMALL = { prompt: 'a lamp in a window', width: 64, height: 64, steps: 3 };

/** Runs `fn` with the event log's QUEUED appends passed through `hold` first. */
async function withQueuedHeld<T>(hold: () => Promise<'append' | 'drop'>, fn: () => Promise<T>): Promise<T> {
  const events = app.services.events;
  const publish = events.publish;
  events.publish = async (event: AtelierEvent, order?: EventOrder) =>
    (event.type === 'QUEUED' && (await hold()) === 'drop' ? {} : publish.call(events, event, order));
  try {
    return await fn();
  } finally {
    events.publish = publish;
  }
}

async function runJob(): Promise<string[]> {
  const user = await signUp(app.url);
  const { createGeneration } = await gqlData<any>(app.url, CREATE, { input: SMALL }, user.token);
  // COMPLETED is announced after the row commits (images first): wait for the event, not the row.
  const types = async () => (await app.events.read('job', createGeneration.id, null)).map((e) => e.type);
  await waitFor(async () => (await types()).includes('COMPLETED'), 15_000);
  expect((await gqlData<any>(app.url, 'query($id:ID!){ job(id:$id){ status } }', { id: createGeneration.id }, user.token)).job.status).toBe('COMPLETED');
  return types();
}

describe('the order of a job\'s events', () => {
  it('STARTED comes after QUEUED even when the API announces the job after a worker took it', async () => {
    const types = await withQueuedHeld(async () => {
      await sleep(300); // the worker takes the entry within milliseconds
      return 'append';
    }, runJob);
    const lifecycle = types.filter((t) => t !== 'POSITION');
    expect(lifecycle[0]).toBe('QUEUED');
    expect(lifecycle[1]).toBe('STARTED');
    expect(lifecycle.at(-1)).toBe('COMPLETED');
  });

  it('a job whose QUEUED never comes still starts, announces STARTED after about two seconds, and completes', async () => {
    const started = Date.now();
    const types = await withQueuedHeld(async () => 'drop', runJob);
    expect(types.filter((t) => t !== 'POSITION' && t !== 'PROGRESS')).toEqual(['STARTED', 'COMPLETED']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
  });
});
