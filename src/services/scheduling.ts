import type { Redis } from 'ioredis';

/**
 * Fair scheduling on BullMQ priorities (lower runs first; equal priorities
 * run in insertion order). Each tier owns a band of priorities; inside a band
 * a job's priority is its virtual-time tag: max(tier clock, user's last tag)+1.
 * The tier clock advances to the tag of each job that starts, so a user who
 * queued 200 jobs holds tags 1..200 while a teammate arriving later gets the
 * next tag after the clock: one of theirs, one of the other's, round-robin.
 * Tags restart when a tier's queue drains (tag space: 2^19 per band).
 */
const BAND = 1 << 19;

const TAG_SCRIPT = `
local clock = tonumber(redis.call('GET', KEYS[1]) or '0')
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
local tag = math.max(clock, last) + 1
if tag >= tonumber(ARGV[1]) then tag = tonumber(ARGV[1]) - 1 end
redis.call('SET', KEYS[2], tag, 'EX', 604800)
return tag`;

const ADVANCE_SCRIPT = `
local clock = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > clock then redis.call('SET', KEYS[1], ARGV[1]) end
return 1`;

export class FairScheduler {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  /** BullMQ priority for a new job of `userId` in the tier band `band` (1 = highest). */
  async priorityFor(band: number, userId: string): Promise<number> {
    const epoch = (await this.redis.get(`${this.prefix}:sched:epoch:${band}`)) ?? '0';
    const tag = (await this.redis.eval(
      TAG_SCRIPT, 2, `${this.prefix}:sched:clock:${band}:${epoch}`, `${this.prefix}:sched:last:${band}:${epoch}:${userId}`, BAND,
    )) as number;
    return (band - 1) * BAND + tag;
  }

  /** Called by the worker when a job starts: the band's clock moves to its tag. */
  async started(priority: number): Promise<void> {
    const band = Math.floor(priority / BAND) + 1;
    const epoch = (await this.redis.get(`${this.prefix}:sched:epoch:${band}`)) ?? '0';
    await this.redis.eval(ADVANCE_SCRIPT, 1, `${this.prefix}:sched:clock:${band}:${epoch}`, priority % BAND);
  }

  /** Called when the band has nothing waiting: tags start again from 1. */
  async drained(band: number): Promise<void> {
    await this.redis.incr(`${this.prefix}:sched:epoch:${band}`);
  }
}
