import type { Redis } from 'ioredis';
import { RedisScript, runScriptCall, type ScriptCall } from '../redis/script';
import { DataSource, In } from 'typeorm';
import { Job, JobKind, OPEN_JOB_STATUSES, Role, TierPolicy, UsageRecord, type Tier, type User } from '../entities';
import { AppError } from '../kernel/errors';
import { nextUtcMidnight, utcDay, type Clock } from '../kernel/clock';
import { batchesPerHourRefusal, dailyRefusal, openJobsRefusal, serviceJobsRefusal, type QuotaAsk } from './quota-refusals';
import { checkPolicyValue, TIER_POLICY_BOUNDS, UNLIMITED, UNLIMITED_FIELDS, type EditablePolicyField } from './tier-policy-bounds';

/*
 * Admission is one Redis script rather than a database transaction: it runs
 * atomically on the server every API replica shares, so fifty simultaneous
 * requests against a limit of two admit exactly two without row locks or
 * serialisable retries in PostgreSQL, and a refusal touches nothing. Open jobs
 * are a sorted set of job ids (score = admission time), so releasing is
 * idempotent and a crash that leaves a ghost id is repaired by `reconcile`,
 * which compares the set with the jobs table. The daily counter is a cache of
 * usage_records, rebuilt from the table when Redis lost it (the script
 * answers {0, 0} then, so a normal admission is one round trip). A refusal
 * past the service's cap answers how many jobs are open across the service,
 * the slots that must free before the job fits (quota-refusals.ts).
 */
const ADMIT_SCRIPT = new RedisScript<number[]>('atelierQuotaAdmit', 3, `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return {1, 0} end
if redis.call('EXISTS', KEYS[2]) == 0 then return {0, 0} end
local open = redis.call('ZCARD', KEYS[1])
if open >= tonumber(ARGV[2]) then return {0, 1, open} end
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
local dayLimit = tonumber(ARGV[4])
if dayLimit >= 0 and used + tonumber(ARGV[3]) > dayLimit then return {0, 2, used} end
local cap = tonumber(ARGV[6])
local all = cap > 0 and redis.call('ZCARD', KEYS[3]) or 0
if cap > 0 and all >= cap then return {0, 3, all} end
redis.call('ZADD', KEYS[1], ARGV[5], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
redis.call('INCRBY', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[2], 172800)
return {1, 0}`);

/*
 * A whole batch in one step (docs/batches.md): every job id gets a slot, the
 * images of all of them come off today's allowance and the batch counts
 * against the rolling hour, or nothing changes. KEYS: open, day, open-all,
 * batches-hour; ARGV: now, maxOpen, images, dayLimit, cap, batchesPerHour,
 * batchId, hourAgo, then the job ids. A refusal for the hour also answers
 * when the batch whose leaving the hour lets one more in was admitted (-1
 * when the tier allows none), so Retry-After is exact in the same round trip.
 */
const ADMIT_BATCH_SCRIPT = new RedisScript<number[]>('atelierQuotaAdmitBatch', 4, `
local n = #ARGV - 8
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[8])
if redis.call('ZSCORE', KEYS[4], ARGV[7]) then return {1, 0} end
local open = redis.call('ZCARD', KEYS[1])
if open + n > tonumber(ARGV[2]) then return {0, 1, open} end
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
local dayLimit = tonumber(ARGV[4])
if dayLimit >= 0 and used + tonumber(ARGV[3]) > dayLimit then return {0, 2, used} end
local cap = tonumber(ARGV[5])
local all = cap > 0 and redis.call('ZCARD', KEYS[3]) or 0
if cap > 0 and all + n > cap then return {0, 3, all} end
local hourly = tonumber(ARGV[6])
local inHour = redis.call('ZCARD', KEYS[4])
if inHour >= hourly then
  local frees = redis.call('ZRANGE', KEYS[4], inHour - hourly, inHour - hourly, 'WITHSCORES')
  if frees[2] then return {0, 4, hourly, tonumber(frees[2])} end
  return {0, 4, hourly, -1}
end
for i = 9, #ARGV do
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[i])
  redis.call('ZADD', KEYS[3], ARGV[1], ARGV[i])
end
redis.call('ZADD', KEYS[4], ARGV[1], ARGV[7])
redis.call('EXPIRE', KEYS[4], 3600)
redis.call('INCRBY', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[2], 172800)
return {1, 0}`);

const RELEASE_SCRIPT = new RedisScript<number>('atelierQuotaRelease', 3, `
redis.call('ZREM', KEYS[3], ARGV[1])
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
if removed == 1 and tonumber(ARGV[2]) > 0 and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('DECRBY', KEYS[2], ARGV[2])
end
return removed`);

/** The daily allowances a job draws on: images, or seconds of video (docs/video.md, "Quotas"). */
export type QuotaMeter = 'images' | 'videoSeconds';

/** What a job holds of its day's allowance: its images, or its clip's length in whole seconds (rounded up). */
export function quotaCharge(job: Pick<Job, 'kind' | 'count' | 'videoFrames' | 'videoFps'>): { meter: QuotaMeter; amount: number } {
  if (job.kind !== JobKind.VIDEO) return { meter: 'images', amount: job.count };
  return { meter: 'videoSeconds', amount: Math.ceil((job.videoFrames ?? 0) / Math.max(1, job.videoFps ?? 1)) };
}

/** What `usage` reports. */
export interface UsageSnapshot {
  tier: Tier;
  policy: TierPolicy;
  openJobs: number;
  imagesToday: number;
  videoSecondsToday: number;
  resetsAt: Date;
}

/** Limits that are the service's rather than a tier's. */
export interface ServiceLimits {
  /** Jobs queued or running across all users at once (0 = no cap): past it, submissions are refused. */
  maxQueuedJobs: number;
  /** How long a job may run before it fails as TIMEOUT (ATELIER_JOB_TIMEOUT_SECONDS): the longest wait a refusal past the cap names. */
  jobTimeoutSeconds: number;
  /** What admins get instead of their tier's rate limits. */
  adminRateLimits: RateLimits;
}

/** Per-minute rate limits of one caller. */
export interface RateLimits {
  requestsPerMinute: number;
  generationsPerMinute: number;
}

/** How long a replica trusts its copy of a tier policy (another replica's change shows after at most this). */
const POLICY_TTL_MS = 1000;

export class QuotaService {
  /** Tier policies as last read, with when (see policyFor). */
  private readonly policies = new Map<Tier, { policy: TierPolicy; readAt: number }>();

  constructor(
    private readonly db: DataSource,
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly clock: Clock,
    private readonly limits: ServiceLimits = { maxQueuedJobs: 0, jobTimeoutSeconds: 600, adminRateLimits: { requestsPerMinute: 10_000, generationsPerMinute: 1000 } },
  ) {}

  /**
   * The rate limits that apply to `user`: their tier's, except for admins,
   * who run the service and are held to their own (ATELIER_ADMIN_*_PER_MINUTE).
   */
  rateLimitsOf(user: Pick<User, 'role'>, policy: TierPolicy): RateLimits {
    return user.role === Role.ADMIN ? this.limits.adminRateLimits : policy;
  }

  private openKey(userId: string): string {
    return `${this.prefix}:quota:open:${userId}`;
  }

  /** Every open job of every user: the cluster-wide cap counts this set. */
  private allOpenKey(): string {
    return `${this.prefix}:quota:open-all`;
  }

  private dayKey(userId: string, day: string, meter: QuotaMeter = 'images'): string {
    return meter === 'images' ? `${this.prefix}:quota:day:${userId}:${day}` : `${this.prefix}:quota:video-day:${userId}:${day}`;
  }

  /**
   * A tier's limits, read on every request: from this process's copy when it
   * is under POLICY_TTL_MS old, else from the table. An admin's change
   * (updatePolicy) applies to this replica's next request and to the other
   * replicas within POLICY_TTL_MS. The returned object is shared: do not mutate it.
   */
  async policyFor(tier: Tier): Promise<TierPolicy> {
    const cached = this.policies.get(tier);
    // Real elapsed time, not the domain clock: a test's manual clock must not freeze the copy.
    if (cached && performance.now() - cached.readAt < POLICY_TTL_MS) return cached.policy;
    const readAt = performance.now();
    const policy = await this.db.getRepository(TierPolicy).findOneBy({ tier });
    if (!policy) throw new AppError('INTERNAL', `No policy for tier ${tier}`);
    this.policies.set(tier, { policy, readAt });
    return policy;
  }

  /** A signed-in caller's policy: the one the RequestGate read for this request, else a read by tier. */
  policyOf(viewer: { user: { tier: Tier }; policy?: TierPolicy }): Promise<TierPolicy> {
    return viewer.policy ? Promise.resolve(viewer.policy) : this.policyFor(viewer.user.tier);
  }

  listPolicies(): Promise<TierPolicy[]> {
    return this.db.getRepository(TierPolicy).find({ order: { queuePriority: 'DESC' } });
  }

  /**
   * Admin change of a tier's limits; `imagesPerDay: -1` (or `retentionDays`) means unlimited. Every
   * value is checked against TIER_POLICY_BOUNDS before anything is written.
   */
  async updatePolicy(tier: Tier, input: Partial<Record<EditablePolicyField, number | null | undefined>>): Promise<TierPolicy> {
    const policy = await this.policyFor(tier);
    const changes: Partial<TierPolicy> = {};
    for (const field of Object.keys(TIER_POLICY_BOUNDS) as EditablePolicyField[]) {
      const value = input[field];
      if (value == null) continue;
      checkPolicyValue(field, value);
      (changes as Record<string, number | null>)[field] = UNLIMITED_FIELDS.has(field) && value === UNLIMITED ? null : value;
    }
    await this.db.getRepository(TierPolicy).update({ tier }, changes);
    this.policies.delete(tier);
    return { ...policy, ...changes } as TierPolicy;
  }

  /** Makes sure the day counter of `meter` exists, seeding it from the usage table and the open jobs. */
  private async ensureDayCounter(userId: string, day: string, meter: QuotaMeter = 'images'): Promise<void> {
    const key = this.dayKey(userId, day, meter);
    if (await this.redis.exists(key)) return;
    const row = await this.db
      .getRepository(UsageRecord)
      .createQueryBuilder('u')
      .select(meter === 'images' ? 'COALESCE(SUM(u.images), 0)' : 'COALESCE(SUM(u.videoSeconds), 0)', 'total')
      .where('u.userId = :userId AND u.day = :day', { userId, day })
      .getRawOne<{ total: string }>();
    const open = await this.db.getRepository(Job).find({
      select: { count: true, createdAt: true, kind: true, videoFrames: true, videoFps: true },
      where: { ownerId: userId, status: In([...OPEN_JOB_STATUSES]) },
    });
    const reserved = open.filter((j) => utcDay(j.createdAt) === day).map(quotaCharge)
      .filter((c) => c.meter === meter).reduce((sum, c) => sum + c.amount, 0);
    await this.redis.set(key, Number(row?.total ?? 0) + reserved, 'EX', 172800, 'NX');
  }

  /**
   * Reserves an open-job slot and `count` of today's allowance of `meter`
   * (images, or video seconds) for `jobId`, or throws QUOTA_EXCEEDED and
   * reserves nothing. `first` is the answer of `admitCall`'s script when the
   * caller ran it in a chain: the first attempt, not made again.
   */
  async admit(userId: string, jobId: string, count: number, policy: TierPolicy, meter: QuotaMeter = 'images', first?: number[]): Promise<void> {
    const now = this.clock.now();
    const day = utcDay(now);
    const admit = () => {
      const call = this.admitCall(userId, jobId, count, policy, meter, now);
      return runScriptCall(this.redis, call) as Promise<number[]>;
    };
    let result = first ?? await admit();
    // [0, 0]: today's counter is not in Redis yet (first job of the day, or Redis lost it): rebuild it, then admit.
    if (result[0] === 0 && result[1] === 0) {
      await this.ensureDayCounter(userId, day, meter);
      result = await admit();
    }
    if (result[0] === 0 && result[1] === 1 && (await this.reconcile(userId)) > 0) result = await admit();
    if (result[0] === 0 && result[1] === 3 && (await this.reconcileAll()) > 0) result = await admit();
    if (result[0] === 1) return;
    throw await this.refusal(result, userId, policy, now, { batch: false, jobs: 1, meter, amount: count });
  }

  /** The QUOTA_EXCEEDED error for an admission script's refusal [0, reason, value, …] (quota-refusals.ts). */
  private async refusal(result: number[], userId: string, policy: TierPolicy, now: Date, ask: QuotaAsk): Promise<AppError> {
    const sources = { db: this.db, redis: this.redis, prefix: this.prefix };
    switch (result[1]) {
      case 0: return new AppError('INTERNAL', 'The daily quota counter could not be rebuilt in Redis');
      case 1: return openJobsRefusal(sources, userId, policy, result[2], ask);
      case 3: return serviceJobsRefusal(sources, this.limits, result[2], ask);
      case 4: return batchesPerHourRefusal(policy, result[3], now);
      default: return dailyRefusal(policy, result[2], ask, now);
    }
  }

  /**
   * Admits every job of a batch or none (docs/batches.md): `jobIds.length`
   * open-job slots, `images` of today's allowance and one of the tier's
   * batches per hour, in one script; QUOTA_EXCEEDED otherwise, nothing reserved.
   * Jobs are released one by one as they finish (`release`).
   */
  async admitBatch(userId: string, batchId: string, jobIds: string[], images: number, policy: TierPolicy): Promise<void> {
    const now = this.clock.now();
    const day = utcDay(now);
    await this.ensureDayCounter(userId, day);
    const run = () => ADMIT_BATCH_SCRIPT.run(
      this.redis, [this.openKey(userId), this.dayKey(userId, day), this.allOpenKey(), this.batchesKey(userId)],
      [now.getTime(), policy.maxOpenJobs, images, policy.imagesPerDay ?? -1, this.limits.maxQueuedJobs, policy.batchesPerHour,
        batchId, now.getTime() - 3600_000, ...jobIds],
    );
    let result = await run();
    if (result[0] === 0 && result[1] === 1 && (await this.reconcile(userId)) > 0) result = await run();
    if (result[0] === 0 && result[1] === 3 && (await this.reconcileAll()) > 0) result = await run();
    if (result[0] === 1) return;
    throw await this.refusal(result, userId, policy, now, { batch: true, jobs: jobIds.length, meter: 'images', amount: images });
  }

  /** Undoes `admitBatch` when the batch could not be written: the slots, the images and the hour's count. */
  async releaseBatch(userId: string, batchId: string, jobIds: string[], admittedAt: Date, images: number): Promise<void> {
    for (const [i, jobId] of jobIds.entries()) await this.release(userId, jobId, admittedAt, i === 0 ? images : 0);
    await this.redis.zrem(this.batchesKey(userId), batchId);
  }

  private batchesKey(userId: string): string {
    return `${this.prefix}:quota:batches:${userId}`;
  }

  /**
   * The admission script's call, `admit`'s first attempt, for a caller that
   * runs it in a chain (`runScriptChain`) and hands its answer to `admit`.
   */
  admitCall(userId: string, jobId: string, count: number, policy: TierPolicy, meter: QuotaMeter = 'images', now = this.clock.now()): ScriptCall {
    const dayLimit = (meter === 'images' ? policy.imagesPerDay : policy.videoSecondsPerDay) ?? -1;
    return {
      script: ADMIT_SCRIPT,
      keys: [this.openKey(userId), this.dayKey(userId, utcDay(now), meter), this.allOpenKey()],
      args: [jobId, policy.maxOpenJobs, count, dayLimit, now.getTime(), this.limits.maxQueuedJobs],
    };
  }

  /**
   * Gives the slot back. `refund` returns the unproduced images (or video
   * seconds) to the allowance of the day the job was admitted (failed or
   * cancelled jobs).
   */
  async release(userId: string, jobId: string, admittedAt: Date, refund: number, meter: QuotaMeter = 'images'): Promise<void> {
    await RELEASE_SCRIPT.run(this.redis, [this.openKey(userId), this.dayKey(userId, utcDay(admittedAt), meter), this.allOpenKey()], [jobId, refund]);
  }

  /** Drops ids from the open set whose jobs are final or missing (after a crash); returns how many. */
  reconcile(userId: string): Promise<number> {
    return this.dropFinished(this.openKey(userId));
  }

  /** The same for the cluster-wide set, at most every 10 s across replicas (it can hold thousands of ids). */
  private async reconcileAll(): Promise<number> {
    if (!(await this.redis.set(`${this.allOpenKey()}:reconciling`, '1', 'PX', 10_000, 'NX'))) return 0;
    return this.dropFinished(this.allOpenKey());
  }

  private async dropFinished(key: string): Promise<number> {
    const members = await this.redis.zrange(key, 0, -1, 'WITHSCORES');
    const graceMs = 60_000; // a job admitted just now may not have its row yet
    const now = this.clock.now().getTime();
    const candidates: string[] = [];
    for (let i = 0; i < members.length; i += 2) {
      if (now - Number(members[i + 1]) > graceMs) candidates.push(members[i]);
    }
    if (candidates.length === 0) return 0;
    const open = await this.db.getRepository(Job).find({
      select: { id: true },
      where: { id: In(candidates), status: In([...OPEN_JOB_STATUSES]) },
    });
    const stillOpen = new Set(open.map((j) => j.id));
    const stale = candidates.filter((id) => !stillOpen.has(id));
    if (stale.length) await this.redis.zrem(key, ...stale);
    return stale.length;
  }

  /**
   * Makes every user's open-job set agree with the jobs table: open rows
   * missing from their owner's set are added back (Redis lost them), and ids
   * whose rows are final or gone are dropped (a release was lost). Run by the
   * job reconciler; returns how many slots it freed and restored.
   */
  async recomputeOpenSlots(): Promise<{ freed: number; restored: number }> {
    const open = await this.db.getRepository(Job).find({
      select: { id: true, ownerId: true, createdAt: true },
      where: { status: In([...OPEN_JOB_STATUSES]) },
    });
    const restored: Job[] = [];
    for (const job of open) {
      await this.redis.zadd(this.allOpenKey(), 'NX', job.createdAt.getTime(), job.id);
      if (await this.redis.zadd(this.openKey(job.ownerId), 'NX', job.createdAt.getTime(), job.id)) restored.push(job);
    }
    // A job that finished (and released) between the read and the ZADD must not keep a ghost slot.
    const stillOpen = new Set(restored.length === 0 ? [] : (await this.db.getRepository(Job).find({
      select: { id: true }, where: { id: In(restored.map((j) => j.id)), status: In([...OPEN_JOB_STATUSES]) },
    })).map((j) => j.id));
    for (const job of restored.filter((j) => !stillOpen.has(j.id))) await this.redis.zrem(this.openKey(job.ownerId), job.id);
    let freed = await this.dropFinished(this.allOpenKey());
    const prefix = this.openKey('');
    for await (const keys of this.redis.scanStream({ match: `${prefix}*`, count: 500 }) as AsyncIterable<string[]>) {
      for (const key of keys) freed += await this.reconcile(key.slice(prefix.length));
    }
    return { freed, restored: stillOpen.size };
  }

  async snapshot(userId: string, tier: Tier): Promise<UsageSnapshot> {
    const now = this.clock.now();
    const day = utcDay(now);
    await this.ensureDayCounter(userId, day);
    await this.ensureDayCounter(userId, day, 'videoSeconds');
    await this.reconcile(userId);
    const [open, used, videoUsed] = await Promise.all([
      this.redis.zcard(this.openKey(userId)), this.redis.get(this.dayKey(userId, day)), this.redis.get(this.dayKey(userId, day, 'videoSeconds')),
    ]);
    return {
      tier,
      policy: await this.policyFor(tier),
      openJobs: open,
      imagesToday: Number(used ?? 0),
      videoSecondsToday: Number(videoUsed ?? 0),
      resetsAt: nextUtcMidnight(now),
    };
  }
}
