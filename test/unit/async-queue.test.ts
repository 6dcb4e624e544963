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

  it('a mapping that throws rejects that next() only; the stream goes on', async () => {
    const queue = new AsyncQueue<number>();
    const mapped = queue.mapped((n) => {
      if (n === 2) throw new Error('cannot map 2');
      return n * 10;
    });
    const first = mapped.next();
    queue.push(1);
    queue.push(2);
    queue.push(3);
    await expect(first).resolves.toEqual({ value: 10, done: false });
    await expect(mapped.next()).rejects.toThrow('cannot map 2');
    await expect(mapped.next()).resolves.toEqual({ value: 30, done: false });
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
