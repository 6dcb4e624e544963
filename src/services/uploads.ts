import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../kernel/clock';
import { createWriteStream } from 'node:fs';
import { lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RedisScript } from '../redis/script';
import type { ArtifactStore } from '../storage/artifact-store';
import { assertUuid, isUuid } from '../kernel/ids';

/** What POST /uploads answers. */
export interface UploadReceipt {
  uploadId: string;
  sha256: string;
  bytes: number;
}

/** Thrown when a body passes the configured limit. */
export class UploadTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`Upload exceeds the limit of ${limit} bytes`);
    this.name = 'UploadTooLargeError';
  }
}

/** Thrown when an upload would take the uploader's pending uploads past their tier's allowance. */
export class UploadQuotaExceededError extends Error {
  constructor(readonly limit: number, readonly used: number, tier: string) {
    super(`Uploads not yet registered may hold at most ${mb(limit)} MB on your ${tier} tier and ${mb(used)} MB are in use: ` +
      'use them (registerLora, addDatasetImages) or wait until unused ones are deleted, a day after upload');
    this.name = 'UploadQuotaExceededError';
  }
}

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1).replace(/\.0$/, '');

/** What an upload may take: the tier's allowance for pending uploads, and the size the client declared. */
export interface UploadAllowance {
  quotaBytes: number;
  tier: string;
  declaredBytes?: number;
}

/**
 * How fast an upload must arrive (docs/operations.md, "HTTP connections and
 * timeouts"): one is cut off when fewer than `minBytes` arrived in the last
 * `windowMs`, and the whole body may take as long as the largest upload does
 * at `averageBytesPerSecond` (`longestUploadMs`).
 */
export const UPLOAD_PACE = { minBytes: 64 * 1024, windowMs: 30_000, averageBytesPerSecond: 64 * 1024 };

/** The longest an upload's body may take to arrive: the largest at the slowest average rate, and at least 10 minutes. */
export function longestUploadMs(maxBytes: number): number {
  return Math.max(10 * 60_000, Math.ceil(maxBytes / UPLOAD_PACE.averageBytesPerSecond) * 1000);
}

/** Thrown when an upload stops arriving (fewer than the pace's bytes in its window). */
export class UploadStalledError extends Error {
  constructor(pace: { minBytes: number; windowMs: number }) {
    super(`Upload stalled: fewer than ${pace.minBytes / 1024} KiB arrived in ${pace.windowMs / 1000} s`);
    this.name = 'UploadStalledError';
  }
}

/** Temporary folders of uploads still arriving; ones a killed process left are swept at start. */
const TEMP_PREFIX = 'atelier-upload-';
/** What storing a received upload may take on top of receiving it (an S3 PUT of the file). */
const STORE_MARGIN_MS = 3600_000;
/** A reservation not refreshed for this long belongs to a process that died (refreshed every third of it). */
const RESERVATION_STALE_MS = 60_000;
/** Room reserved ahead of a body without a declared length, so that it does not ask Redis for every chunk. */
const RESERVE_AHEAD_BYTES = 1024 * 1024;

/*
 * Per user, every API replica alike: `sizes` maps the ids of uploads not yet
 * registered to their sizes; `arriving` maps the ids of uploads still arriving
 * to the bytes reserved for them, and `deadlines` to when they go stale. The
 * allowance bounds the sum of both, so uploads in flight together can never
 * pass it. This prelude drops the reservations of dead processes and sums
 * what counts against the allowance, leaving out ARGV[1]'s own reservation.
 */
const USED_BY_OTHERS = `
local dead = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[3])
for _, id in ipairs(dead) do redis.call('HDEL', KEYS[2], id) end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[3])
local used = 0
for _, size in ipairs(redis.call('HVALS', KEYS[1])) do used = used + tonumber(size) end
local arriving = redis.call('HGETALL', KEYS[2])
for i = 1, #arriving, 2 do
  if arriving[i] ~= ARGV[1] then used = used + tonumber(arriving[i + 1]) end
end`;

/**
 * Reserves room for ARGV[2] bytes of upload ARGV[1] (with up to ARGV[5] more
 * ahead, as room allows) against the allowance ARGV[4]; ARGV[3] is now,
 * ARGV[6] when the reservation goes stale. Answers {1, bytes reserved} or
 * {0, bytes used by the rest}.
 */
const RESERVE_SCRIPT = new RedisScript<number[]>('atelierUploadReserve', 3, `${USED_BY_OTHERS}
local need, quota = tonumber(ARGV[2]), tonumber(ARGV[4])
if used + need > quota then return {0, used} end
local granted = math.min(need + tonumber(ARGV[5]), quota - used)
redis.call('HSET', KEYS[2], ARGV[1], granted)
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[7])
redis.call('PEXPIRE', KEYS[3], ARGV[7])
return {1, granted}`);

/**
 * Turns upload ARGV[1]'s reservation into its entry of ARGV[2] bytes, when
 * that fits the allowance ARGV[4] (it does unless an admin lowered it, or
 * the reservation went stale, meanwhile). Answers {1, used} or {0, used}.
 */
const KEEP_SCRIPT = new RedisScript<number[]>('atelierUploadKeep', 3, `${USED_BY_OTHERS}
if used + tonumber(ARGV[2]) > tonumber(ARGV[4]) then return {0, used} end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return {1, used}`);

/**
 * Where an upload lives: under the uploader's id, so only they can refer to
 * it later (registerLora looks it up by the caller's id and the upload id).
 */
export const uploadKey = (userId: string, uploadId: string): string => `uploads/${userId}/${uploadId}.bin`;

/**
 * Raw uploads (a LoRA's safetensors file, first of all). The body is hashed
 * and counted while it streams to a temporary file, so a body over the limit
 * is cut off as soon as it passes it and never reaches the store; the file
 * then goes to the store by path, so no upload is ever held in memory whole.
 */
export class UploadService {
  /**
   * @param pending where uploads not yet consumed are remembered (Redis sorted
   * set scored by time), so abandoned ones can be swept from the store.
   * @param pace how fast a body must keep arriving (tests shorten the window).
   */
  constructor(
    private readonly store: ArtifactStore,
    private readonly maxBytes: number,
    private readonly pending: { redis: Redis; key: string; clock: Clock },
    private readonly pace: { minBytes: number; windowMs: number } = UPLOAD_PACE,
  ) {}

  get limit(): number {
    return this.maxBytes;
  }

  /** Per user: upload id → bytes of each upload not yet registered. */
  private sizesKey(userId: string): string {
    return `${this.pending.key}:bytes:${userId}`;
  }

  /** The keys of the allowance scripts: sizes, then the reservations of uploads still arriving and their deadlines. */
  private allowanceKeys(userId: string): string[] {
    return [this.sizesKey(userId), `${this.pending.key}:arriving:${userId}`, `${this.pending.key}:arriving-until:${userId}`];
  }

  /** Bytes of `userId`'s uploads not yet registered (or swept); uploads still arriving are not counted. */
  pendingBytes(userId: string): Promise<number> {
    return this.totalOf(this.sizesKey(userId));
  }

  /** Bytes reserved for `userId`'s uploads still arriving. */
  arrivingBytes(userId: string): Promise<number> {
    return this.totalOf(this.allowanceKeys(userId)[1]);
  }

  /** The sum of a hash of sizes. */
  private async totalOf(key: string): Promise<number> {
    const sizes = await this.pending.redis.hvals(key);
    return sizes.reduce((sum, size) => sum + Number(size), 0);
  }

  /**
   * Streams the body to a temporary file, then streams that to the store as a pending upload.
   * Room in the allowance is reserved before the first byte is read: the
   * declared size, or, without one, room that grows as the bytes arrive. It is
   * refused at once when the declared size does not fit, cut off as soon as it
   * passes the per-file limit or the room it can get, or when it stops arriving
   * (`pace`), and what it did not keep is given back whatever happens.
   */
  async receive(userId: string, body: Readable, allowance: UploadAllowance): Promise<UploadReceipt> {
    const uploadId = randomUUID();
    const keys = this.allowanceKeys(userId);
    // A declared size is reserved whole, nothing ahead (Node refuses a body longer than it declares); otherwise room
    // grows as bytes arrive. 1 byte at least: a user with no room left is refused before reading, empty bodies too.
    const ahead = allowance.declaredBytes === undefined ? RESERVE_AHEAD_BYTES : 0;
    let reserved = await this.reserve(keys, uploadId, Math.max(allowance.declaredBytes ?? 0, 1), ahead, allowance);
    const refresh = setInterval(() => void this.refresh(keys, uploadId).catch(() => undefined), RESERVATION_STALE_MS / 3);
    refresh.unref();
    let dir: string | null = null;
    try {
      const hash = createHash('sha256');
      let bytes = 0;
      const limit = this.maxBytes;
      const grow = (need: number) => this.reserve(keys, uploadId, need, ahead, allowance);
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          bytes += chunk.length;
          if (bytes > limit) return done(new UploadTooLargeError(limit));
          const pass = () => {
            hash.update(chunk);
            done(null, chunk);
          };
          if (bytes <= reserved) return pass();
          grow(bytes).then((granted) => {
            reserved = granted;
            pass();
          }, done);
        },
      });
      dir = await mkdtemp(path.join(os.tmpdir(), TEMP_PREFIX));
      const temp = path.join(dir, 'body');
      await this.paced(meter, () => bytes, () => pipeline(body, meter, createWriteStream(temp)));
      const sha256 = hash.digest('hex');
      const [kept, usedNow] = await KEEP_SCRIPT.run(this.pending.redis, keys, [uploadId, bytes, this.now(), allowance.quotaBytes]);
      if (kept !== 1) throw new UploadQuotaExceededError(allowance.quotaBytes, usedNow, allowance.tier);
      try {
        // From the temp file, never through memory: a 200 MB upload costs the API buffers, not 200 MB.
        await this.store.putFile(uploadKey(userId, uploadId), { path: temp, bytes, sha256, contentType: 'application/octet-stream' });
      } catch (error) {
        await this.pending.redis.hdel(this.sizesKey(userId), uploadId);
        throw error;
      }
      await this.pending.redis.zadd(this.pending.key, this.now(), uploadKey(userId, uploadId));
      return { uploadId, sha256, bytes };
    } finally {
      clearInterval(refresh);
      // Nothing to give back once kept; when Redis cannot be reached, the reservation goes stale by itself.
      await this.release(keys, uploadId).catch(() => undefined);
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  }

  private now(): number {
    return this.pending.clock.now().getTime();
  }

  /** Reserves room for `need` bytes of the upload (and up to `ahead` more); answers the bytes reserved, or throws the quota error. */
  private async reserve(keys: string[], uploadId: string, need: number, ahead: number, allowance: UploadAllowance): Promise<number> {
    const now = this.now();
    const [ok, value] = await RESERVE_SCRIPT.run(this.pending.redis, keys,
      [uploadId, need, now, allowance.quotaBytes, ahead, now + RESERVATION_STALE_MS, RESERVATION_STALE_MS]);
    if (ok !== 1) throw new UploadQuotaExceededError(allowance.quotaBytes, value, allowance.tier);
    return value;
  }

  /** Keeps a live upload's reservation from going stale (a body with a declared size reserves once). */
  private async refresh([, arriving, deadlines]: string[], uploadId: string): Promise<void> {
    await this.pending.redis.multi().zadd(deadlines, 'XX', this.now() + RESERVATION_STALE_MS, uploadId)
      .pexpire(arriving, RESERVATION_STALE_MS).pexpire(deadlines, RESERVATION_STALE_MS).exec();
  }

  private async release([, arriving, deadlines]: string[], uploadId: string): Promise<void> {
    await this.pending.redis.multi().hdel(arriving, uploadId).zrem(deadlines, uploadId).exec();
  }

  /** Runs `streaming`, cutting `meter` off with UploadStalledError when fewer than the pace's bytes went through it in a window. */
  private async paced<T>(meter: Transform, counted: () => number, streaming: () => Promise<T>): Promise<T> {
    let seen = 0;
    const check = setInterval(() => {
      if (counted() - seen < this.pace.minBytes) meter.destroy(new UploadStalledError(this.pace));
      seen = counted();
    }, this.pace.windowMs);
    try {
      return await streaming();
    } finally {
      clearInterval(check);
    }
  }

  /**
   * Deletes temporary folders that a process killed while receiving left
   * behind (run at start). Only folders older than the longest an upload can
   * take, storing included: a folder of a live upload, this process's or
   * another's on the same machine, is never one of them. Answers how many.
   */
  async sweepLeftoverFolders(): Promise<number> {
    const before = this.now() - longestUploadMs(this.maxBytes) - STORE_MARGIN_MS;
    const root = os.tmpdir();
    let removed = 0;
    for (const name of (await readdir(root)).filter((entry) => entry.startsWith(TEMP_PREFIX))) {
      const folder = path.join(root, name);
      try {
        // A folder's time changes when its body file is made, right after it: it says when the upload began.
        const info = await lstat(folder);
        if (!info.isDirectory() || info.mtimeMs > before) continue;
        await rm(folder, { recursive: true, force: true });
        removed += 1;
      } catch {
        // Gone meanwhile, or another user's on a shared machine: not ours to remove.
      }
    }
    return removed;
  }

  /** The bytes of one of `userId`'s uploads, or null. */
  read(userId: string, uploadId: string, field = 'uploadId'): Promise<Buffer | null> {
    return this.store.get(uploadKey(userId, assertUuid(field, uploadId)));
  }

  /**
   * `DELETE /uploads/:id`: the uploader takes back an upload not yet used, so
   * its room in the allowance is free at once. False when `userId` has no
   * such pending upload: another user's, one used already (registerLora and
   * addDatasetImages discard what they consume), swept, or an id that names
   * none. Its size entry decides, as it does for the allowance.
   *
   * The file goes first (deleting is idempotent), then the size entry and
   * the sweeper's entry together: when the store's delete fails (an S3 5xx),
   * the upload still counts against the allowance and a retried DELETE
   * finds it, instead of a file that stays usable outside the allowance.
   */
  async withdraw(userId: string, uploadId: string): Promise<boolean> {
    if (!isUuid(uploadId)) return false;
    const key = uploadKey(userId, uploadId);
    if (!(await this.pending.redis.hexists(this.sizesKey(userId), uploadId))) return false;
    await this.store.delete(key);
    const results = await this.pending.redis.multi().hdel(this.sizesKey(userId), uploadId).zrem(this.pending.key, key).exec();
    const [error, released] = results?.[0] ?? [null, 0];
    if (error) throw error;
    // 0: a withdrawal or a use at the same time released it first (that one answers for it).
    return released === 1;
  }

  async discard(userId: string, uploadId: string): Promise<void> {
    await this.store.delete(uploadKey(userId, uploadId));
    await this.pending.redis.zrem(this.pending.key, uploadKey(userId, uploadId));
    await this.pending.redis.hdel(this.sizesKey(userId), uploadId);
  }

  /** Deletes uploads never registered within `maxAgeMs` (default a day); returns how many. */
  async sweepAbandoned(maxAgeMs = 24 * 3600 * 1000): Promise<number> {
    const cutoff = this.now() - maxAgeMs;
    const keys = await this.pending.redis.zrangebyscore(this.pending.key, '-inf', cutoff);
    for (const key of keys) {
      await this.store.delete(key);
      await this.pending.redis.zrem(this.pending.key, key);
      const [, userId, file] = key.split('/');
      if (userId && file) await this.pending.redis.hdel(this.sizesKey(userId), file.replace(/\.bin$/, ''));
    }
    return keys.length;
  }
}
