import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';
import { ArtifactChecksumError, ArtifactFileCache } from '../../src/storage/artifact-file-cache';
import type { ArtifactStore, LocalFile } from '../../src/storage/artifact-store';
import { LocalArtifactStore } from '../../src/storage/local-store';
import { copyStoredFile, storedSha256 } from '../../src/storage/stored-files';

const BASE = { NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40), ATELIER_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'atelier-cfg-')) };
const S3 = {
  ATELIER_STORAGE: 's3', ATELIER_S3_ENDPOINT: 'http://minio:9000', ATELIER_S3_BUCKET: 'atelier',
  ATELIER_S3_ACCESS_KEY_ID: 'id', ATELIER_S3_SECRET_ACCESS_KEY: 'secret',
};

describe('storage configuration', () => {
  it('defaults to local files', () => {
    expect(loadConfig(BASE).storage).toEqual({ kind: 'local' });
  });

  it('reads the S3 settings with region and path-style defaults', () => {
    expect(loadConfig({ ...BASE, ...S3 }).storage).toEqual({
      kind: 's3', endpoint: 'http://minio:9000', bucket: 'atelier', region: 'us-east-1',
      accessKeyId: 'id', secretAccessKey: 'secret', forcePathStyle: true,
    });
    expect(loadConfig({ ...BASE, ...S3, ATELIER_S3_REGION: 'auto', ATELIER_S3_FORCE_PATH_STYLE: 'false' }).storage)
      .toMatchObject({ region: 'auto', forcePathStyle: false });
  });

  it.each(['ATELIER_S3_ENDPOINT', 'ATELIER_S3_BUCKET', 'ATELIER_S3_ACCESS_KEY_ID', 'ATELIER_S3_SECRET_ACCESS_KEY'])(
    'refuses to start with s3 chosen and %s missing', (name) => {
      expect(() => loadConfig({ ...BASE, ...S3, [name]: '' })).toThrow(new ConfigError(`${name} is required when ATELIER_STORAGE=s3`));
    },
  );

  it('refuses bad values', () => {
    expect(() => loadConfig({ ...BASE, ATELIER_STORAGE: 'gcs' })).toThrow(/ATELIER_STORAGE must be one of local, s3/);
    expect(() => loadConfig({ ...BASE, ...S3, ATELIER_S3_ENDPOINT: 'ftp://x' })).toThrow(/ATELIER_S3_ENDPOINT must use/);
    expect(() => loadConfig({ ...BASE, ...S3, ATELIER_S3_BUCKET: 'Bad_Bucket' })).toThrow(/not a valid bucket name/);
    expect(() => loadConfig({ ...BASE, ...S3, ATELIER_S3_FORCE_PATH_STYLE: 'maybe' })).toThrow(/ATELIER_S3_FORCE_PATH_STYLE/);
  });
});

/** A remote-like store held in memory: no local paths, counts reads. */
class MemoryStore implements ArtifactStore {
  readonly objects = new Map<string, Buffer>();
  gets = 0;
  async put(key: string, data: Buffer): Promise<void> { this.objects.set(key, data); }
  async putFile(key: string, file: LocalFile): Promise<void> { this.objects.set(key, readFileSync(file.path)); }
  async get(key: string): Promise<Buffer | null> { this.gets += 1; return this.objects.get(key) ?? null; }
  async openRead(key: string): Promise<Readable | null> {
    this.gets += 1;
    const data = this.objects.get(key);
    // In small chunks, as a download arrives.
    return data ? Readable.from(Array.from({ length: Math.ceil(data.length / 5) }, (_, i) => data.subarray(i * 5, i * 5 + 5))) : null;
  }
  async exists(key: string): Promise<boolean> { return this.objects.has(key); }
  async delete(key: string): Promise<void> { this.objects.delete(key); }
}

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('ArtifactFileCache', () => {
  const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'atelier-cache-'));

  it('downloads a remote object once, verified, and reuses the copy', async () => {
    const store = new MemoryStore();
    const data = Buffer.from('lora weights');
    await store.put('loras/a.safetensors', data);
    const cache = new ArtifactFileCache(store, tmp());
    const [first, second] = await Promise.all([cache.localPath('loras/a.safetensors', sha(data)), cache.localPath('loras/a.safetensors', sha(data))]);
    expect(first).toBe(second);
    expect(readFileSync(first!)).toEqual(data);
    expect(await cache.localPath('loras/a.safetensors', sha(data))).toBe(first);
    expect(store.gets).toBe(1);
  });

  it('fetches again when the recorded hash changes, and refuses bytes that do not match', async () => {
    const store = new MemoryStore();
    const cache = new ArtifactFileCache(store, tmp());
    await store.put('loras/b.safetensors', Buffer.from('v1'));
    const v1 = await cache.localPath('loras/b.safetensors', sha(Buffer.from('v1')));
    await store.put('loras/b.safetensors', Buffer.from('v2'));
    const v2 = await cache.localPath('loras/b.safetensors', sha(Buffer.from('v2')));
    expect(v2).not.toBe(v1);
    expect(readFileSync(v2!).toString()).toBe('v2');
    await expect(cache.localPath('loras/b.safetensors', sha(Buffer.from('v3')))).rejects.toBeInstanceOf(ArtifactChecksumError);
  });

  it('keeps nothing of a download that does not match', async () => {
    const store = new MemoryStore();
    const dir = tmp();
    await store.put('loras/d.safetensors', Buffer.from('tampered bytes'));
    await expect(new ArtifactFileCache(store, dir).localPath('loras/d.safetensors', sha(Buffer.from('v1')))).rejects.toBeInstanceOf(ArtifactChecksumError);
    expect(readdirSync(path.join(dir, 'loras'))).toEqual([]);
  });

  it('answers null for a missing object and rejects unsafe keys', async () => {
    const cache = new ArtifactFileCache(new MemoryStore(), tmp());
    expect(await cache.localPath('loras/none.safetensors', sha(Buffer.from('')))).toBeNull();
    await expect(cache.localPath('../escape', sha(Buffer.from('')))).rejects.toThrow(/unsafe storage key/);
  });

  it('hands out the local store\'s own file without copying', async () => {
    const root = tmp();
    const store = new LocalArtifactStore(root);
    await store.put('loras/c.safetensors', Buffer.from('c'));
    const cache = new ArtifactFileCache(store, tmp());
    expect(await cache.localPath('loras/c.safetensors', sha(Buffer.from('c')))).toBe(path.join(root, 'loras/c.safetensors'));
  });
});

describe('stored files read as streams', () => {
  it('copies a local store\'s object into a file with its size and SHA-256, and nothing for a missing one', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'atelier-stored-'));
    const store = new LocalArtifactStore(root);
    const data = Buffer.alloc(300_000, 7);
    await store.put('models/m/weights.bin', data);
    const target = path.join(root, 'copy.bin');
    expect(await copyStoredFile(store, 'models/m/weights.bin', target)).toEqual({ bytes: data.length, sha256: sha(data) });
    expect(readFileSync(target).equals(data)).toBe(true);
    expect(await storedSha256(store, 'models/m/weights.bin')).toBe(sha(data));
    expect(await copyStoredFile(store, 'models/m/none.bin', path.join(root, 'none.bin'))).toBeNull();
    expect(existsSync(path.join(root, 'none.bin'))).toBe(false);
    expect(await storedSha256(store, 'models/m/none.bin')).toBeNull();
    await expect(store.openRead('../escape')).rejects.toThrow(/unsafe storage key/);
  });

  it('hashes a remote object as its chunks arrive', async () => {
    const store = new MemoryStore();
    const data = Buffer.from('a remote object in many small chunks');
    await store.put('uploads/u/x.bin', data);
    const target = path.join(mkdtempSync(path.join(os.tmpdir(), 'atelier-stored-')), 'x.bin');
    expect(await copyStoredFile(store, 'uploads/u/x.bin', target)).toEqual({ bytes: data.length, sha256: sha(data) });
    expect(readFileSync(target).toString()).toBe(data.toString());
  });
});
