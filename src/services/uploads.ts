import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../kernel/clock';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArtifactStore } from '../storage/artifact-store';
import { assertUuid } from './generation-input';

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

/**
 * Where an upload lives: under the uploader's id, so only they can refer to
 * it later (registerLora looks it up by the caller's id and the upload id).
 */
export const uploadKey = (userId: string, uploadId: string): string => `uploads/${userId}/${uploadId}.bin`;

/**
 * Raw uploads (a LoRA's safetensors file, first of all). The body is hashed
 * and counted while it streams to a temporary file, so a body over the limit
 * is cut off as soon as it passes it and never reaches the store.
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

  async receive(userId: string, body: Readable): Promise<UploadReceipt> {
    const hash = createHash('sha256');
    let bytes = 0;
    const limit = this.maxBytes;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        if (bytes > limit) return done(new UploadTooLargeError(limit));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'atelier-upload-'));
    try {
      const temp = path.join(dir, 'body');
      await pipeline(body, meter, createWriteStream(temp));
      const uploadId = randomUUID();
      // ArtifactStore takes whole buffers; the temp file keeps slow uploads out of memory until here.
      await this.store.put(uploadKey(userId, uploadId), await readFile(temp), 'application/octet-stream');
      await this.pending.redis.zadd(this.pending.key, this.pending.clock.now().getTime(), uploadKey(userId, uploadId));
      return { uploadId, sha256: hash.digest('hex'), bytes };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** The bytes of one of `userId`'s uploads, or null. */
  read(userId: string, uploadId: string, field = 'uploadId'): Promise<Buffer | null> {
    return this.store.get(uploadKey(userId, assertUuid(field, uploadId)));
  }

  async discard(userId: string, uploadId: string): Promise<void> {
    await this.store.delete(uploadKey(userId, uploadId));
    await this.pending.redis.zrem(this.pending.key, uploadKey(userId, uploadId));
  }

  /** Deletes uploads never registered within `maxAgeMs` (default a day); returns how many. */
  async sweepAbandoned(maxAgeMs = 24 * 3600 * 1000): Promise<number> {
    const cutoff = this.pending.clock.now().getTime() - maxAgeMs;
    const keys = await this.pending.redis.zrangebyscore(this.pending.key, '-inf', cutoff);
    for (const key of keys) {
      await this.store.delete(key);
      await this.pending.redis.zrem(this.pending.key, key);
    }
    return keys.length;
  }
}
