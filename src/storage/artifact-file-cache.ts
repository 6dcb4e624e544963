import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { assertSafeKey, type ArtifactStore } from './artifact-store';
import { copyStoredFile } from './stored-files';

/** The stored bytes do not hash to what the database recorded. */
export class ArtifactChecksumError extends Error {
  constructor(readonly key: string, readonly expected: string, readonly actual: string) {
    super(`stored object ${key} has SHA-256 ${actual}, expected ${expected}`);
    this.name = 'ArtifactChecksumError';
  }
}

const SHA256_RE = /^[0-9a-f]{64}$/;


/**
 * Local files for stored artifacts, for code that needs a path (the worker
 * reading a LoRA's safetensors). A local store hands out its own file; for a
 * remote store (S3) the object is streamed once into `cacheDir`, named by
 * key and SHA-256, and verified, so a re-uploaded file under the same key is
 * fetched again and a corrupt download is never used.
 */
export class ArtifactFileCache {
  /** Downloads in flight, so two jobs asking for the same LoRA fetch it once. */
  private readonly pending = new Map<string, Promise<string | null>>();

  constructor(private readonly store: ArtifactStore, private readonly cacheDir: string) {}

  /** A path to read `key` from, or null when the store has no such object. */
  async localPath(key: string, sha256: string): Promise<string | null> {
    if (this.store.localPathOf) return this.store.localPathOf(key);
    if (!SHA256_RE.test(sha256)) throw new Error(`not a SHA-256 hex digest: ${JSON.stringify(sha256)}`);
    const file = `${path.join(this.cacheDir, assertSafeKey(key))}.${sha256}`;
    let download = this.pending.get(file);
    if (!download) {
      download = this.ensure(key, sha256, file).finally(() => this.pending.delete(file));
      this.pending.set(file, download);
    }
    return download;
  }

  private async ensure(key: string, sha256: string, file: string): Promise<string | null> {
    // Only verified bytes are ever renamed into place, so an existing file is a good one.
    if (await stat(file).then(() => true, () => false)) return file;
    await mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
    try {
      const facts = await copyStoredFile(this.store, key, temp);
      if (!facts) return null;
      if (facts.sha256 !== sha256) throw new ArtifactChecksumError(key, sha256, facts.sha256);
      await rename(temp, file);
    } finally {
      await rm(temp, { force: true });
    }
    return file;
  }
}
