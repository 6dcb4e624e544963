import { describe, expect, it } from 'vitest';
import { AsyncQueue } from '../../src/subscriptions/async-queue';

describe('AsyncQueue.mapped', () => {
  it('hands out each item mapped, in order, whether the mapping answers at once or later, queued or awaited', async () => {
    const queue = new AsyncQueue<number>();
    const mapped = queue.mapped((n) => (n % 2 ? Promise.resolve(`odd ${n}`) : `even ${n}`));
    queue.push(1); // queued before anyone waits
    queue.push(2);
    const waiting = [mapped.next(), mapped.next(), mapped.next(), mapped.next()];
    queue.push(3); // handed to a waiting next()
    queue.push(4);
    queue.end();
    expect(await Promise.all(waiting)).toEqual([
      { value: 'odd 1', done: false }, { value: 'even 2', done: false },
      { value: 'odd 3', done: false }, { value: 'even 4', done: false },
    ]);
    await expect(mapped.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('a mapping that throws or rejects fails that next() and ends the stream, as a for await sees it: onClose runs, nothing piles up', async () => {
    for (const failing of [(n: number) => { throw new Error(`cannot map ${n}`); }, (n: number) => Promise.reject(new Error(`cannot map ${n}`))]) {
      let closed = 0;
      const queue = new AsyncQueue<number>(() => { closed += 1; });
      const mapped = queue.mapped((n) => (n === 2 ? failing(n) : n * 10));
      const seen: unknown[] = [];
      const consumed = (async () => {
        for await (const value of mapped) seen.push(value);
      })();
      queue.push(1);
      queue.push(2);
      queue.push(3);
      await expect(consumed).rejects.toThrow('cannot map 2');
      expect(seen).toEqual([10]);
      expect(closed).toBe(1);
      for (let i = 0; i < 100; i += 1) queue.push(i);
      expect(queue.size).toBe(0);
      expect(queue.ended).toBe(true);
    }
  });

  it('return() ends the stream and runs onClose once', async () => {
    let closed = 0;
    const queue = new AsyncQueue<number>(() => { closed += 1; });
    const mapped = queue.mapped((n) => n);
    queue.push(1);
    await mapped.return!();
    await mapped.return!();
    expect(closed).toBe(1);
    await expect(mapped.next()).resolves.toEqual({ value: undefined, done: true });
  });
});

describe('AsyncQueue.deliverDirectly', () => {
  it('offers each item, mapped and in order, while the consumer waits; what is declined goes to next(), and nothing passes it', async () => {
    const queue = new AsyncQueue<number>();
    const mapped = queue.mapped((n) => (n % 2 ? Promise.resolve(n * 10) : n * 10));
    const offered: number[] = [];
    // 30 is declined (as a socket with too much waiting is): it goes to the consumer, and 40 waits behind it.
    queue.deliverDirectly((value) => (value === 30 ? false : (offered.push(value as number), true)));
    queue.push(1); // nobody waits yet: held
    expect(offered).toEqual([]);
    const first = mapped.next();
    for (const n of [2, 3, 4]) queue.push(n);
    await expect(first).resolves.toEqual({ value: 30, done: false });
    expect(offered).toEqual([10, 20]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(offered).toEqual([10, 20]); // 40 is not offered while the consumer holds 30
    const second = mapped.next();
    await new Promise((resolve) => setImmediate(resolve));
    expect(offered).toEqual([10, 20, 40]);
    queue.end();
    await expect(second).resolves.toEqual({ value: undefined, done: true });
  });

  it('an item for which isLast holds is offered, then the stream ends, after a mapping still awaited', async () => {
    let closed = 0;
    const queue = new AsyncQueue<number>(() => { closed += 1; }, (n) => n === 2);
    const mapped = queue.mapped((n) => Promise.resolve(n));
    const offered: unknown[] = [];
    queue.deliverDirectly((value) => offered.push(value) > 0);
    const waiting = mapped.next();
    queue.push(1);
    queue.push(2);
    queue.push(3); // after the last: dropped
    await expect(waiting).resolves.toEqual({ value: undefined, done: true });
    expect(offered).toEqual([1, 2]);
    expect(closed).toBe(1);
  });

  it('abort() drops what waits and a mapping still awaited, and the consumer hears the error', async () => {
    let release!: (n: number) => void;
    const queue = new AsyncQueue<number>();
    const mapped = queue.mapped((n) => (n === 1 ? new Promise<number>((resolve) => { release = resolve; }) : n));
    const offered: unknown[] = [];
    queue.deliverDirectly((value) => offered.push(value) > 0);
    const waiting = mapped.next();
    queue.push(1);
    queue.push(2);
    queue.abort(new Error('access lost'));
    release(1);
    await expect(waiting).rejects.toThrow('access lost');
    expect(offered).toEqual([]);
  });

  it('a mapping that throws or rejects fails that next() and ends the stream: onClose runs, a for await stops there', async () => {
    for (const failing of [(n: number) => { throw new Error(`cannot map ${n}`); }, (n: number) => Promise.reject(new Error(`cannot map ${n}`))]) {
      let closed = 0;
      const queue = new AsyncQueue<number>(() => { closed += 1; });
      const mapped = queue.mapped((n) => (n === 2 ? failing(n) : n));
      const offered: unknown[] = [];
      queue.deliverDirectly((value) => offered.push(value) > 0);
      const consumed = (async () => {
        for await (const value of mapped) offered.push(`handed ${String(value)}`);
      })();
      queue.push(1);
      queue.push(2);
      queue.push(3);
      await expect(consumed).rejects.toThrow('cannot map 2');
      expect(offered).toEqual([1]);
      expect(closed).toBe(1);
      queue.push(4);
      expect(queue.size).toBe(0);
    }
  });

  it('an offer that throws counts as declined: the consumer gets the item, and the producer never sees the error', async () => {
    const queue = new AsyncQueue<number>();
    const mapped = queue.mapped((n) => Promise.resolve(n));
    queue.deliverDirectly((value) => {
      if (value === 2) throw new Error('cannot write 2');
      return true;
    });
    const first = mapped.next();
    expect(() => queue.push(2)).not.toThrow();
    await expect(first).resolves.toEqual({ value: 2, done: false });
  });
});
