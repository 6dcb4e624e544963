import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../kernel/clock';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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

/*
 * Reserves `bytes` of the user's pending-upload allowance in one step (every
 * API replica shares it): the hash maps upload ids to sizes, so the total is
 * always the sum of what is really pending and a release is one HDEL.
 */
const RESERVE_SCRIPT = `
local used = 0
for _, size in ipairs(redis.call('HVALS', KEYS[1])) do used = used + tonumber(size) end
if used + tonumber(ARGV[2]) > tonumber(ARGV[3]) then return {0, used} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return {1, used}`;

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
   */
  constructor(
    private readonly store: ArtifactStore,
    private readonly maxBytes: number,
    private readonly pending: { redis: Redis; key: string; clock: Clock },
  ) {}

  get limit(): number {
    return this.maxBytes;
  }

  /** Per user: upload id → bytes of each upload not yet registered. */
  private sizesKey(userId: string): string {
    return `${this.pending.key}:bytes:${userId}`;
  }

  /** Bytes of `userId`'s uploads not yet registered (or swept). */
  async pendingBytes(userId: string): Promise<number> {
    const sizes = await this.pending.redis.hvals(this.sizesKey(userId));
    return sizes.reduce((sum, size) => sum + Number(size), 0);
  }

  /**
   * Streams the body to a temporary file, then streams that to the store as a pending upload.
   * Refused before reading when the declared size does not fit the allowance,
   * cut off as soon as it passes the per-file limit or the room left, and
   * counted against the allowance atomically before it reaches the store.
   */
  async receive(userId: string, body: Readable, allowance: UploadAllowance): Promise<UploadReceipt> {
    const used = await this.pendingBytes(userId);
    const room = allowance.quotaBytes - used;
    const overQuota = () => new UploadQuotaExceededError(allowance.quotaBytes, used, allowance.tier);
    if (room <= 0 || (allowance.declaredBytes !== undefined && allowance.declaredBytes > room)) throw overQuota();
    const hash = createHash('sha256');
    let bytes = 0;
    const limit = this.maxBytes;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        if (bytes > limit) return done(new UploadTooLargeError(limit));
        if (bytes > room) return done(overQuota());
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'atelier-upload-'));
    try {
      const temp = path.join(dir, 'body');
      await pipeline(body, meter, createWriteStream(temp));
      const sha256 = hash.digest('hex');
      const uploadId = randomUUID();
      const [reserved, usedNow] = (await this.pending.redis.eval(RESERVE_SCRIPT, 1, this.sizesKey(userId), uploadId, bytes, allowance.quotaBytes)) as number[];
      if (reserved !== 1) throw new UploadQuotaExceededError(allowance.quotaBytes, usedNow, allowance.tier);
      try {
        // From the temp file, never through memory: a 200 MB upload costs the API buffers, not 200 MB.
        await this.store.putFile(uploadKey(userId, uploadId), { path: temp, bytes, sha256, contentType: 'application/octet-stream' });
      } catch (error) {
        await this.pending.redis.hdel(this.sizesKey(userId), uploadId);
        throw error;
      }
      await this.pending.redis.zadd(this.pending.key, this.pending.clock.now().getTime(), uploadKey(userId, uploadId));
      return { uploadId, sha256, bytes };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
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
    const cutoff = this.pending.clock.now().getTime() - maxAgeMs;
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
