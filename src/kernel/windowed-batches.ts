/**
 * Items that come closer together than a window go out together. An item
 * that comes the window's length or more after the last send goes at the
 * end of this tick, with any added in the same tick; closer ones wait for
 * the rest of the window; a last item goes at once, with everything before
 * it. A job's steps pass two of these: from the render thread to the main
 * thread, then from the main thread to Redis (docs/architecture.md, "The job
 * path").
 */
export class WindowedBatches<T> {
  private waiting: T[] = [];
  private timer: NodeJS.Timeout | null = null;
  private soon: NodeJS.Immediate | null = null;
  private lastSent = 0;

  constructor(private readonly windowMs: number, private readonly sendBatch: (items: T[]) => void) {}

  add(item: T, last = false): void {
    const now = Date.now();
    this.waiting.push(item);
    if (last) this.flush();
    else if (now - this.lastSent >= this.windowMs) this.soon ??= setImmediate(() => this.flush());
    else this.timer ??= setTimeout(() => this.flush(), this.lastSent + this.windowMs - now);
  }

  /** Sends whatever waits, now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.soon) clearImmediate(this.soon);
    this.timer = null;
    this.soon = null;
    this.lastSent = Date.now();
    if (this.waiting.length === 0) return;
    const items = this.waiting;
    this.waiting = [];
    this.sendBatch(items);
  }
}
