import type { Redis } from 'ioredis';
import { RedisScript, runScriptCall, type ScriptCall } from '../redis/script';
import type { QueuePlace } from './queue-positions';

/**
 * Fair scheduling on BullMQ priorities (lower runs first; equal priorities
 * run in insertion order). Each tier owns a band of priorities; inside a band
 * a job's priority is its virtual-time tag: max(tier clock, user's last tag)+1.
 * The tier clock advances to the tag of each job that starts, so a user who
 * queued 200 jobs holds tags 1..200 while a teammate arriving later gets the
 * next tag after the clock: one of theirs, one of the other's, round-robin.
 *
 * Tags restart from 1 whenever a job arrives while nothing of its band waits
 * in BullMQ's prioritized set: the script checks that set and resets the band
 * in the same atomic step, so no job can slip in between. A band only runs out
 * of tags (and degrades to FIFO at its top) after 2^19 jobs of one tier start
 * without that tier's line ever emptying once.
 */
export const DEFAULT_BAND_SIZE = 1 << 19;

/** BullMQ scores a prioritized job as priority * 2^32 + insertion counter. */
const BULL_PRIORITY_SCALE = 2 ** 32;

/**
 * The tag, then where a job with that tag enters BullMQ's prioritized set:
 * how many waiting entries run before it (every entry of its priority or
 * lower is ahead: equal priorities run in insertion order) and whether any
 * waits behind it. Two ZCOUNTs on the sorted set, O(log n) however long the
 * line is. Scores are written with %.0f: tostring would round them to 14 digits.
 */
const TAG_SCRIPT = new RedisScript<number[]>('atelierFairTag', 3, `
if redis.call('ZCOUNT', KEYS[3], ARGV[3], ARGV[4]) == 0 then redis.call('DEL', KEYS[1], KEYS[2]) end
local clock = tonumber(redis.call('HGET', KEYS[1], 'clock') or '0')
local last = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local tag = math.max(clock, last) + 1
if tag >= tonumber(ARGV[2]) then tag = tonumber(ARGV[2]) - 1 end
local lastTag = math.min(tag + tonumber(ARGV[5]) - 1, tonumber(ARGV[2]) - 1)
redis.call('HSET', KEYS[2], ARGV[1], lastTag)
redis.call('EXPIRE', KEYS[2], 604800)
local after = string.format('%.0f', (tonumber(ARGV[6]) + tag + 1) * ${BULL_PRIORITY_SCALE})
local ahead = redis.call('ZCOUNT', KEYS[3], '-inf', '(' .. after)
local behind = redis.call('ZCOUNT', KEYS[3], after, '+inf')
return {tag, ahead, behind}`);

const ADVANCE_SCRIPT = new RedisScript<number>('atelierFairAdvance', 1, `
local clock = tonumber(redis.call('HGET', KEYS[1], 'clock') or '0')
if tonumber(ARGV[1]) > clock then redis.call('HSET', KEYS[1], 'clock', ARGV[1]) end
return 1`);

export interface FairSchedulerOptions {
  /** BullMQ's sorted set of waiting prioritized jobs (`queue.keys.prioritized`). */
  prioritizedKey: string;
  /** Priorities per tier band; BullMQ allows priorities up to 2^21, so four bands of the default size. */
  bandSize?: number;
}

export class FairScheduler {
  private readonly bandSize: number;
  private readonly prioritizedKey: string;

  constructor(private readonly redis: Redis, private readonly prefix: string, options: FairSchedulerOptions) {
    this.bandSize = options.bandSize ?? DEFAULT_BAND_SIZE;
    this.prioritizedKey = options.prioritizedKey;
  }

  private clockKey(band: number): string {
    return `${this.prefix}:sched:${band}:clock`;
  }

  /** BullMQ priority for a new job of `userId` in the tier band `band` (1 = highest). */
  async priorityFor(band: number, userId: string): Promise<number> {
    return (await this.enter(band, userId)).priority;
  }

  /**
   * A new job's priority, and its place in the line it is about to enter:
   * the waiting entries of BullMQ's prioritized set that run before it, read
   * in the same atomic step as its tag (docs/architecture.md, "The request
   * path"). Entries added between this call and the job's own are not
   * counted, as a row committed after a count would not be.
   */
  async enter(band: number, userId: string): Promise<{ priority: number; place: QueuePlace }> {
    const call = this.enterCall(band, userId);
    return this.entered(band, await runScriptCall(this.redis, call) as number[]);
  }

  /** `enter`'s script call, for a caller that runs it in a chain (`runScriptChain`) and hands its answer to `entered`. */
  enterCall(band: number, userId: string): ScriptCall {
    return this.tagCall(band, userId, 1);
  }

  /** The priority and place `enter` answers, from its script's answer. */
  entered(band: number, answer: number[]): { priority: number; place: QueuePlace } {
    const { priorities, ahead, behind } = this.tagged(band, answer, 1);
    return { priority: priorities[0], place: { position: ahead, wentAhead: behind > 0 } };
  }

  /**
   * Priorities for `count` jobs of `userId` queued together (a batch): tags
   * in one atomic step, consecutive as if queued one by one, so a batch is
   * the owner's backlog and a teammate's job still takes turns with it.
   */
  async prioritiesFor(band: number, userId: string, count: number): Promise<number[]> {
    const call = this.tagCall(band, userId, count);
    return this.tagged(band, await runScriptCall(this.redis, call) as number[], count).priorities;
  }

  private tagCall(band: number, userId: string, count: number): ScriptCall {
    const base = (band - 1) * this.bandSize;
    // Scores of this band's waiting jobs: [(base + 1) * 2^32, (base + bandSize) * 2^32).
    const lowest = String((base + 1) * BULL_PRIORITY_SCALE);
    const highest = `(${(base + this.bandSize) * BULL_PRIORITY_SCALE}`;
    return {
      script: TAG_SCRIPT,
      keys: [this.clockKey(band), `${this.prefix}:sched:${band}:last`, this.prioritizedKey],
      args: [userId, this.bandSize, lowest, highest, count, base],
    };
  }

  private tagged(band: number, [tag, ahead, behind]: number[], count: number): { priorities: number[]; ahead: number; behind: number } {
    const base = (band - 1) * this.bandSize;
    return { priorities: Array.from({ length: count }, (_, i) => base + Math.min(tag + i, this.bandSize - 1)), ahead, behind };
  }

  /** Called by the worker when a job starts: the band's clock moves to its tag. */
  async started(priority: number): Promise<void> {
    const band = Math.floor(priority / this.bandSize) + 1;
    await ADVANCE_SCRIPT.run(this.redis, [this.clockKey(band)], [priority % this.bandSize]);
  }
}
