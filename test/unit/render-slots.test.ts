import type { Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { RenderSlots } from '../../src/gpu-worker/render-slots';

/** Just what RenderSlots touches of a BullMQ worker: its concurrency and the fetch loop's queue. */
function fakeWorker(concurrency: number) {
  const wakes: Promise<unknown>[] = [];
  const worker = { concurrency, mainLoopQueue: { add: (item: Promise<unknown>) => wakes.push(item) } };
  return { worker, wakes, slots: new RenderSlots(worker as unknown as Worker, concurrency) };
}

describe('RenderSlots', () => {
  it('raises the concurrency by one while a rendered job is recorded, and wakes the fetch loop', () => {
    const { worker, wakes, slots } = fakeWorker(1);
    const recorded = slots.renderEnded();
    expect(worker.concurrency).toBe(2);
    expect(slots.overlapping).toBe(1);
    expect(wakes).toHaveLength(1);
    recorded();
    expect(worker.concurrency).toBe(1);
    recorded(); // a second call changes nothing
    expect(worker.concurrency).toBe(1);
    expect(slots.overlapping).toBe(0);
  });

  it('gives at most one slot per renderer; a job past that gets the first slot freed, the concurrency unchanged', () => {
    const { worker, wakes, slots } = fakeWorker(1);
    const first = slots.renderEnded();
    const second = slots.renderEnded();
    expect(worker.concurrency).toBe(2);
    expect(wakes).toHaveLength(1);
    first();
    // `second` now holds the slot: BullMQ takes the next job as `first`'s entry completes.
    expect(worker.concurrency).toBe(2);
    expect(slots.overlapping).toBe(1);
    second();
    expect(worker.concurrency).toBe(1);
  });

  it('forgets a job that was recorded while it waited for a slot', () => {
    const { worker, slots } = fakeWorker(2);
    const held = [slots.renderEnded(), slots.renderEnded()];
    expect(worker.concurrency).toBe(4);
    const waiting = slots.renderEnded();
    waiting(); // recorded (or failed) before any slot freed
    held[0]();
    held[1]();
    expect(worker.concurrency).toBe(2);
    expect(slots.overlapping).toBe(0);
  });
});
