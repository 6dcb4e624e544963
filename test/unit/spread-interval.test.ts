import { afterEach, describe, expect, it, vi } from 'vitest';
import { randomUUID } from 'node:crypto';
import { SpreadInterval } from '../../src/subscriptions/spread-interval';
import { LiveEvents, type EndsOfFinalRows } from '../../src/subscriptions/live-events';
import { CollabSession, SessionRole } from '../../src/entities';
import type { AccessPolicy } from '../../src/services/access';
import { AsyncQueue } from '../../src/subscriptions/async-queue';

afterEach(() => {
  vi.useRealTimers();
});

describe('SpreadInterval', () => {
  it('runs each callback once per period, spread over the ticks, and stops what is removed', () => {
    vi.useFakeTimers();
    const spread = new SpreadInterval(2400, 24);
    const runs: number[][] = [];
    const stops = Array.from({ length: 48 }, (_, i) => spread.add(() => { (runs[i] ??= []).push(Date.now()); }));
    vi.advanceTimersByTime(2400);
    expect(runs.filter(Boolean).map((r) => r.length)).toEqual(Array(48).fill(1));
    // Two callbacks per tick: 24 distinct times, 100 ms apart.
    const times = [...new Set(runs.map((r) => r[0]))].sort((a, b) => a - b);
    expect(times).toHaveLength(24);
    expect(times[1] - times[0]).toBe(100);
    stops[0]();
    vi.advanceTimersByTime(2400);
    expect(runs[0]).toHaveLength(1);
    expect(runs[1]).toHaveLength(2);
  });

  it('holds a timer only while something is added', () => {
    vi.useFakeTimers();
    const spread = new SpreadInterval(1000, 4);
    expect(vi.getTimerCount()).toBe(0);
    const stop = spread.add(() => undefined);
    expect(vi.getTimerCount()).toBe(1);
    stop();
    stop(); // twice is harmless
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('sessionFeed presence', () => {
  it('a subscription closed while its presence was being entered leaves again and keeps no heartbeat', async () => {
    let entered!: (online: string[] | null) => void;
    const calls: string[] = [];
    const presence = {
      enter: () => { calls.push('enter'); return new Promise<string[] | null>((resolve) => { entered = resolve; }); },
      leave: async () => { calls.push('leave'); return null; },
      heartbeat: async () => { calls.push('beat'); return null; },
    };
    let queue!: AsyncQueue<unknown>;
    const events = {
      subscribe: async (_kind: string, _id: string, _after: unknown, options: { onClose: () => void }) => (queue = new AsyncQueue(options.onClose)),
      publish: async () => undefined,
      onReconnected: () => undefined,
      watch: async () => () => undefined,
    };
    const access: Pick<AccessPolicy, 'assertSessionMember' | 'sessionRole'> = {
      assertSessionMember: async () => ({ session: Object.assign(new CollabSession(), { ownerId: randomUUID() }), role: SessionRole.WATCHER }),
      sessionRole: async () => SessionRole.WATCHER,
    };
    const ends: EndsOfFinalRows = { job: async () => undefined, run: async () => undefined, finalJobs: async () => [], finalRuns: async () => [] };
    const live = new LiveEvents(events as never, access as AccessPolicy, presence as never, { now: () => new Date() } as never, ends);
    vi.useFakeTimers();
    const feed = live.sessionFeed({ id: randomUUID() } as never, randomUUID(), null);
    await vi.waitFor(() => expect(calls).toEqual(['enter']));
    await queue.return(); // the socket closed meanwhile
    entered(null);
    await feed;
    await vi.waitFor(() => expect(calls).toEqual(['enter', 'leave', 'leave']));
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(calls).not.toContain('beat');
  });
});
