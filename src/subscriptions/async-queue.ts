/**
 * A push-to-pull bridge: producers `push`, one consumer iterates. Ending the
 * iteration (return/throw from `for await`) runs `onClose` exactly once.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private readonly waiting: { resolve: (result: IteratorResult<T> | Promise<IteratorResult<T>>) => void; reject: (error: Error) => void }[] = [];
  private closed = false;
  private failure: Error | null = null;
  private map: ((item: T) => unknown) | null = null;

  /**
   * @param onClose runs once when the stream ends, however it ends.
   * @param isLast an item for which it returns true is delivered, then the stream ends.
   */
  constructor(
    private readonly onClose: () => void = () => undefined,
    private readonly isLast: (item: T) => boolean = () => false,
  ) {}

  /**
   * The consumer gets `map(item)` (awaited when it is a promise) instead of
   * each item, and the queue itself is returned as that iterator: a wrapper
   * iterator would add a promise and a turn of the microtask queue per item
   * (server/shared-execution.ts maps each event to its shared result this way).
   */
  mapped<U>(map: (item: T) => U | Promise<U>): AsyncIterableIterator<U> {
    this.map = map;
    return this as unknown as AsyncIterableIterator<U>;
  }

  /** What the consumer is handed for `item`: a mapping that throws rejects that `next()`. */
  private handOut(item: T): IteratorResult<T> | Promise<IteratorResult<T>> {
    if (!this.map) return { value: item, done: false };
    try {
      const value = this.map(item);
      return value instanceof Promise ? value.then((v) => ({ value: v as T, done: false })) : { value: value as T, done: false };
    } catch (error) {
      return Promise.reject(error);
    }
  }

  push(item: T): void {
    if (this.closed) return;
    const waiter = this.waiting.shift();
    if (waiter) waiter.resolve(this.handOut(item));
    else this.items.push(item);
    if (this.isLast(item)) this.end();
  }

  /** Ends the stream after the items already pushed; with an error, the consumer sees it next. */
  end(error?: Error): void {
    if (this.closed) return;
    if (error) this.failure = error;
    this.closed = true;
    this.onClose();
    if (this.items.length > 0) return;
    for (const waiter of this.waiting.splice(0)) {
      const failure = this.failure;
      this.failure = null; // the error is told once, like next() does
      if (failure) waiter.reject(failure);
      else waiter.resolve({ value: undefined, done: true });
    }
  }

  /** Ends the stream now with `error`, dropping items not yet taken (access was lost: nothing more may reach the consumer). */
  abort(error: Error): void {
    this.items.length = 0;
    this.end(error);
  }

  get size(): number {
    return this.items.length;
  }

  /** True once the stream has ended (its last item pushed, `end`, `abort`, or the consumer left). */
  get ended(): boolean {
    return this.closed;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve(this.handOut(this.items.shift() as T));
    if (this.closed) {
      if (this.failure) {
        const failure = this.failure;
        this.failure = null;
        return Promise.reject(failure);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.items.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.items.length = 0;
    this.end();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
