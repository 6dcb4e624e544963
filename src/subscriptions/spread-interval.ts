/**
 * One timer for many periodic callbacks: each added callback runs once per
 * `periodMs`, the callbacks spread over `slots` evenly spaced ticks, so
 * thousands of them (a heartbeat per socket or per subscription) neither hold
 * a timer each nor all run in one burst (docs/architecture.md, "Fan-out").
 * The timer runs only while something is added, and never keeps the process
 * alive.
 */
export class SpreadInterval {
  private readonly slots: Set<() => void>[];
  private size = 0;
  private added = 0;
  private tick = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly periodMs: number, slots = 24) {
    this.slots = Array.from({ length: slots }, () => new Set<() => void>());
  }

  /** Runs `callback` once per period from now on (first within one period); returns what stops it. */
  add(callback: () => void): () => void {
    const slot = this.slots[this.added++ % this.slots.length];
    slot.add(callback);
    this.size += 1;
    if (!this.timer) {
      this.timer = setInterval(() => this.run(), this.periodMs / this.slots.length);
      this.timer.unref();
    }
    return () => {
      if (!slot.delete(callback)) return;
      this.size -= 1;
      if (this.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    };
  }

  private run(): void {
    this.tick = (this.tick + 1) % this.slots.length;
    for (const callback of this.slots[this.tick]) callback();
  }
}
