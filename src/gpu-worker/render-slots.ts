import type { Worker } from 'bullmq';

/**
 * Lets a worker take its next job the moment a render's sampler ends, while
 * the job that rendered is still decoded to pixels, stored and recorded
 * (docs/architecture.md, "The job path"). BullMQ's worker fetches when a slot
 * frees, i.e. when a processor returns; here a job gives its slot up as soon
 * as its last step is done by raising the worker's concurrency by one until
 * it is recorded. The next job's run then waits in the render thread for
 * the decode (a third of a 256², 20-step render of the tiny model; a few
 * percent of a real model's), instead of the render thread waiting for the
 * next job to be taken and started. No job is taken while a render samples,
 * so a job that arrives with a higher priority (or a fairer tag) before the
 * last step still goes first, exactly as without the overlap; one that
 * arrives during the decode goes after the job already taken.
 *
 * At most one job per render slot is being recorded beside the renders: if
 * recording falls behind (a slow artifact store), the worker stops taking
 * jobs early and waits for it, as it did before.
 */
export class RenderSlots {
  /** Jobs being recorded beside the renders, each holding a slot of its own. */
  private recording = 0;
  /** Jobs whose render ended while every such slot was taken, in order. */
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly worker: Worker, private readonly renderers: number) {}

  /**
   * The calling job's render has ended. Returns what to call once the job is
   * recorded (any number of times; only the first counts).
   */
  renderEnded(): () => void {
    let state: 'slot' | 'waiting' | 'done' = 'waiting';
    const takeSlot = () => { state = 'slot'; };
    if (this.recording < this.renderers) {
      this.recording += 1;
      takeSlot();
      this.apply();
      wakeFetchLoop(this.worker);
    } else {
      this.waiting.push(takeSlot);
    }
    return () => {
      if (state === 'waiting') this.waiting.splice(this.waiting.indexOf(takeSlot), 1);
      else if (state === 'slot') this.release();
      state = 'done';
    };
  }

  /** Jobs being recorded beside the renders now. */
  get overlapping(): number {
    return this.recording;
  }

  /**
   * A recorded job's slot goes to the oldest job waiting for one; the
   * concurrency stays, so BullMQ takes the next job as the recorded one's
   * entry completes. With no one waiting the concurrency comes down.
   */
  private release(): void {
    const next = this.waiting.shift();
    if (next) return next();
    this.recording -= 1;
    this.apply();
  }

  private apply(): void {
    this.worker.concurrency = this.renderers + this.recording;
  }
}

/**
 * BullMQ's fetch loop waits for one of its jobs to settle before it looks at
 * its concurrency again; it is woken the way `Worker.resume()` wakes it (one
 * settled promise in the loop's queue). Without the wake the overlap only
 * starts when a processor returns, which is a delay, not an error: the
 * overlap test (test/integration/render-overlap.test.ts) fails if a BullMQ
 * upgrade renames the queue.
 */
function wakeFetchLoop(worker: Worker): void {
  const loop = (worker as unknown as { mainLoopQueue?: { add(item: Promise<unknown>): void } | null }).mainLoopQueue;
  loop?.add(Promise.resolve());
}
