import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sha256OfStream } from '../kernel/hashing';
import type { ArtifactStore } from './artifact-store';

/** What a stored object turned out to be as it was read: its size and SHA-256. */
export interface StoredFileFacts {
  bytes: number;
  sha256: string;
}

/**
 * Writes the stored object `key` into `file` (created or replaced) as a
 * stream, hashing it on the way, from a local store or S3 alike: a model
 * file of gigabytes never sits in memory. Null, with nothing written, when the
 * store has no such object. The export, a worker fetching a pushed model and
 * the LoRA file cache all read stored files this way; each checks the facts
 * against what it expects.
 */
export async function copyStoredFile(store: Pick<ArtifactStore, 'openRead'>, key: string, file: string): Promise<StoredFileFacts | null> {
  const source = await store.openRead(key);
  if (!source) return null;
  const hash = createHash('sha256');
  let bytes = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(source, counted, createWriteStream(file));
  return { bytes, sha256: hash.digest('hex') };
}

/** The SHA-256 of what the store holds under `key`, read as a stream, or null when it holds nothing there. */
export async function storedSha256(store: Pick<ArtifactStore, 'openRead'>, key: string): Promise<string | null> {
  const source = await store.openRead(key);
  return source ? sha256OfStream(source) : null;
}
