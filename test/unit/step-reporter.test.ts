import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { STEP_EVENTS_WINDOW_MS } from '../../src/gpu-worker/pipeline/types';
import { StepReporter } from '../../src/gpu-worker/step-reporter';

/** A reporter over a Redis stand-in that counts cancel-flag reads; `flag` is what the reads answer. */
function reporter(flag: () => string | null, after?: Promise<unknown>, published: (number | string)[] = []) {
  const seen = { reads: 0, published, sends: [] as { steps: number[]; at: number }[], recorded: [] as number[], cancelled: 0, errors: 0 };
  const redis = { get: async () => { seen.reads += 1; return flag(); } } as unknown as Redis;
  const steps = new StepReporter({
    redis, cancelKey: 'cancel:job',
    recordStep: async (step) => { seen.recorded.push(step); },
    publishProgress: async (steps) => {
      seen.sends.push({ steps: steps.map((p) => p.step), at: performance.now() });
      seen.published.push(...steps.map((p) => p.step));
    },
    onCancelRequested: () => { seen.cancelled += 1; },
    onError: () => { seen.errors += 1; },
    after,
  });
  return { steps, seen };
}

const tick = () => new Promise((r) => setImmediate(r));
const progress = (step: number, totalSteps: number) => ({ step, totalSteps, elapsedMs: step, etaMs: 0 });

describe('StepReporter', () => {
  it('publishes every step in order but reads the cancel flag at most every 100 ms, and writes no step during a short run', async () => {
    const { steps, seen } = reporter(() => null);
    for (let step = 1; step <= 20; step += 1) {
      steps.step(progress(step, 20));
      await tick();
    }
    await steps.flush();
    expect(seen.published).toEqual([...Array(20).keys()].map((k) => k + 1));
    // One read per step before.
    expect(seen.reads).toBe(1);
    // The start wrote step 0 just before and the completion writes the last one: nothing is due in 20 fast steps.
    expect(seen.recorded).toEqual([]);
  });

  it('publishes the first step only after what it must follow (STARTED), even when that fails', async () => {
    const order: (number | string)[] = [];
    const started = new Promise<void>((resolve) => setTimeout(() => { order.push('STARTED'); resolve(); }, 30));
    const run = reporter(() => null, started, order);
    run.steps.step(progress(1, 2));
    run.steps.step(progress(2, 2));
    await run.steps.flush();
    expect(order).toEqual(['STARTED', 1, 2]);

    const failed = reporter(() => null, Promise.reject(new Error('Redis went away')));
    failed.steps.step(progress(1, 2));
    await failed.steps.flush();
    // Its failure is the caller's to report; the steps still go out.
    expect([failed.seen.published, failed.seen.errors]).toEqual([[1], 0]);
  });

  it('sends steps 8 ms apart or more at once, closer ones together once 8 ms have passed, and the last one without waiting', async () => {
    const fast = reporter(() => null);
    const sentAt: number[] = [];
    for (let step = 1; step <= 20; step += 1) {
      sentAt.push(performance.now());
      fast.steps.step(progress(step, 20));
      await tick();
    }
    await fast.steps.flush();
    const groups = fast.seen.sends.map((send) => send.steps);
    // The first at once; every step once, in order; fewer sends than steps; the last step in the last send.
    expect(groups[0]).toEqual([1]);
    expect(groups.flat()).toEqual([...Array(20).keys()].map((k) => k + 1));
    expect(groups.length).toBeLessThan(20);
    expect(fast.seen.sends[0].at - sentAt[0]).toBeLessThan(5);

    // Steps handed over in one tick (the render thread's group) go out together at once; a step that comes
    // while the window is open goes out when it closes, not at the next step.
    const waiting = reporter(() => null);
    const first = performance.now();
    waiting.steps.step(progress(1, 10));
    waiting.steps.step(progress(2, 10));
    await tick();
    waiting.steps.step(progress(3, 10));
    const third = performance.now();
    await new Promise((r) => setTimeout(r, 30));
    expect(waiting.seen.sends.map((send) => send.steps)).toEqual([[1, 2], [3]]);
    expect(waiting.seen.sends[0].at - first).toBeLessThan(5);
    expect(waiting.seen.sends[1].at - third).toBeGreaterThanOrEqual(STEP_EVENTS_WINDOW_MS - 2);
    expect(waiting.seen.sends[1].at - third).toBeLessThan(STEP_EVENTS_WINDOW_MS + 20);

    // Slow steps (a real model's) each go out at once.
    const slow = reporter(() => null);
    for (let step = 1; step <= 3; step += 1) {
      const at = performance.now();
      slow.steps.step(progress(step, 5));
      await tick();
      expect(slow.seen.sends.at(-1)).toEqual({ steps: [step], at: expect.any(Number) });
      expect(slow.seen.sends.at(-1)!.at - at).toBeLessThan(5);
      await new Promise((r) => setTimeout(r, STEP_EVENTS_WINDOW_MS + 4));
    }
    await slow.steps.flush();
  });

  it('writes the step at most every 500 ms during a long run', async () => {
    const { steps, seen } = reporter(() => null);
    for (let step = 1; step <= 6; step += 1) {
      steps.step(progress(step, 100));
      await new Promise((r) => setTimeout(r, 110));
    }
    await steps.flush();
    expect(seen.recorded.length).toBe(1);
    expect(seen.recorded[0]).toBeGreaterThanOrEqual(4);
  });

  it('tells the job was taken from its run when a step write finds a later start (the row says false), and not before', async () => {
    const answers = [true, false];
    const written: number[] = [];
    let superseded = 0;
    const steps = new StepReporter({
      redis: { get: async () => null } as unknown as Redis, cancelKey: 'cancel:job',
      recordStep: async (step) => { written.push(step); return answers.shift()!; },
      publishProgress: async () => undefined,
      onCancelRequested: () => undefined,
      onSuperseded: () => { superseded += 1; },
      onError: () => undefined,
    });
    for (let step = 1; step <= 12; step += 1) {
      steps.step(progress(step, 100));
      await new Promise((r) => setTimeout(r, 110));
      // The first write (still held) tells nothing.
      if (written.length === 1) expect(superseded).toBe(0);
    }
    await steps.flush();
    expect(written).toHaveLength(2);
    expect(superseded).toBe(1);
  });

  it('still sees a cancel on the first step after the interval', async () => {
    let flag: string | null = null;
    const { steps, seen } = reporter(() => flag);
    steps.step(progress(1, 100));
    await tick();
    flag = '1';
    steps.step(progress(2, 100));
    await tick();
    expect(seen.cancelled).toBe(0);
    await new Promise((r) => setTimeout(r, 110));
    steps.step(progress(3, 100));
    await steps.flush();
    expect(seen.cancelled).toBe(1);
  });

  it('drops what was queued behind a failed send instead of waiting on each, and tries the steps after it again', async () => {
    const attempts: number[][] = [];
    let answer: (ok: boolean) => void = () => undefined;
    const errors: unknown[] = [];
    const steps = new StepReporter({
      redis: { get: async () => null } as unknown as Redis,
      cancelKey: 'cancel:job',
      recordStep: async () => undefined,
      // Each send waits until the test answers it, as a command does on a connection that stopped answering.
      publishProgress: (sent) => {
        attempts.push(sent.map((p) => p.step));
        return new Promise((resolve, reject) => { answer = (ok) => (ok ? resolve(undefined) : reject(new Error('Command timed out'))); });
      },
      onCancelRequested: () => undefined,
      onError: (error) => void errors.push(error),
    });
    const later = () => new Promise((r) => setTimeout(r, STEP_EVENTS_WINDOW_MS + 2));
    steps.step(progress(1, 100));
    await later();
    // Steps 2 to 4 queue behind step 1's send, which then fails.
    for (const step of [2, 3, 4]) {
      steps.step(progress(step, 100));
      await later();
    }
    expect(attempts).toEqual([[1]]);
    answer(false);
    await tick();
    // Step 5 comes once the failure is known: it is sent.
    steps.step(progress(5, 100));
    await later();
    answer(true);
    await steps.flush();
    expect(attempts).toEqual([[1], [5]]);
    expect(errors).toHaveLength(1);
  });
});
