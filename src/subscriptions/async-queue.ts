/**
 * A push-to-pull bridge: producers `push`, one consumer iterates. Ending the
 * iteration (return/throw from `for await`) runs `onClose` exactly once.
 *
 * The consumer may also take items itself, without a promise each
 * (`deliverDirectly`): graphql-ws iterates a subscription's queue, and the
 * socket glue writes each event's frame at once while graphql-ws waits in
 * `next()` (server/graphql-ws-socket.ts).
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private readonly waiting: { resolve: (result: IteratorResult<T> | Promise<IteratorResult<T>>) => void; reject: (error: Error) => void }[] = [];
  private closed = false;
  private failure: Error | null = null;
  private map: ((item: T) => unknown) | null = null;
  /** Takes (mapped) items while the iterating consumer waits: `deliverDirectly`. */
  private offer: ((value: unknown) => boolean) | null = null;
  /** An item's mapping is being awaited on its way to `offer`: the items behind it wait. */
  private mapping = false;
  /** Set when the stream was cut (`abort`, `return`, `throw`): a mapping still awaited is dropped. */
  private cut = false;

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

  /**
   * What the consumer is handed for `item`. A mapping that throws or rejects
   * rejects that `next()` and ends the stream: a `for await` (graphql-ws's)
   * stops at a rejected `next()` without calling `return()`, so the queue
   * ends itself, and `onClose` lets go of what fed it.
   */
  private handOut(item: T): IteratorResult<T> | Promise<IteratorResult<T>> {
    if (!this.map) return { value: item, done: false };
    try {
      const value = this.map(item);
      return value instanceof Promise
        ? value.then((v) => ({ value: v as T, done: false }), (error: unknown) => this.failed(error))
        : { value: value as T, done: false };
    } catch (error) {
      return this.failed(error);
    }
  }

  /** A mapping failed: the stream ends (nothing more is handed out) and the error goes to the `next()` that asked. */
  private failed(error: unknown): Promise<never> {
    this.dropPending();
    this.end();
    return Promise.reject(error);
  }

  /** True once `mapped` gave the queue a mapping: what the consumer gets are mapped items. */
  get isMapped(): boolean {
    return this.map !== null;
  }

  /**
   * From now on each item (mapped, its promise awaited, in order) goes to
   * `offer` while the iterating consumer waits in `next()` with nothing ahead
   * of it; `next()` is handed only what `offer` declines (returns false for),
   * and the stream's end. The consumer's order is kept: nothing is offered
   * while it holds a declined item, until it asks for the next one.
   */
  deliverDirectly(offer: (value: unknown) => boolean): void {
    this.offer = offer;
    this.drain();
  }

  push(item: T): void {
    if (this.closed) return;
    if (this.offer) {
      this.items.push(item);
      if (this.isLast(item)) this.end();
      else this.drain();
      return;
    }
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
    if (this.offer) return this.drain();
    if (this.items.length > 0) return;
    this.finish();
  }

  /** Ends the stream now with `error`, dropping items not yet taken (access was lost: nothing more may reach the consumer). */
  abort(error: Error): void {
    this.dropPending();
    this.end(error);
  }

  /** Tells every waiting `next()` the stream is over (its error once, if it ended with one). */
  private finish(): void {
    for (const waiter of this.waiting.splice(0)) {
      const failure = this.failure;
      this.failure = null; // the error is told once, like next() does
      if (failure) waiter.reject(failure);
      else waiter.resolve({ value: undefined, done: true });
    }
  }

  private dropPending(): void {
    this.items.length = 0;
    this.cut = true;
  }

  /** With `offer`: hands the items on, in order, while the consumer waits; then the end, once they are all out. */
  private drain(): void {
    while (!this.mapping && this.waiting.length > 0 && this.items.length > 0) {
      const item = this.items.shift() as T;
      let value: unknown;
      try {
        value = this.map ? this.map(item) : item;
      } catch (error) {
        this.waiting.shift()!.resolve(this.failed(error)); // as next() does: that turn fails, the stream ends
        return;
      }
      if (value instanceof Promise) {
        this.mapping = true;
        value.then(
          (mapped) => {
            this.mapping = false;
            if (!this.cut) this.hand(mapped);
            this.drain();
          },
          (error: unknown) => {
            this.mapping = false;
            if (!this.cut) this.waiting.shift()?.resolve(this.failed(error));
            this.drain();
          },
        );
        return;
      }
      this.hand(value);
    }
    if (this.closed && this.items.length === 0 && !this.mapping) this.finish();
  }

  /**
   * To `offer`, or to the waiting `next()` when `offer` declines it. An offer
   * that throws counts as declined: the consumer's own path takes the item
   * (and reports what is wrong with it), and the producer, which pushes to
   * many queues in a row, never sees the error.
   */
  private hand(value: unknown): void {
    let taken = false;
    try {
      taken = this.offer!(value);
    } catch {
      taken = false;
    }
    if (!taken) this.waiting.shift()?.resolve({ value: value as T, done: false });
  }

  get size(): number {
    return this.items.length;
  }

  /** True once the stream has ended (its last item pushed, `end`, `abort`, or the consumer left). */
  get ended(): boolean {
    return this.closed;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.offer) {
      return new Promise((resolve, reject) => {
        this.waiting.push({ resolve, reject });
        this.drain();
      });
    }
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
    this.dropPending();
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.dropPending();
    this.end();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
