import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Readable } from 'node:stream';

/** A file on this machine's disk to store, described by whoever wrote it (hashed as it was written). */
export interface LocalFile {
  path: string;
  bytes: number;
  sha256: string;
  contentType: string;
}

/** Where generated images and uploaded files live. Keys are relative, slash-separated. */
export interface ArtifactStore {
  put(key: string, data: Buffer, contentType: string): Promise<void>;
  /**
   * Stores a file without reading it into memory (a 200 MB upload must not
   * sit in the API's heap): it is copied or streamed to the store, and a
   * store that verifies payloads checks it against `sha256`.
   */
  putFile(key: string, file: LocalFile): Promise<void>;
  get(key: string): Promise<Buffer | null>;
  /**
   * The stored object as a stream, or null when there is none: for files that
   * need not sit in memory whole (a model's gigabytes; storage/stored-files.ts).
   */
  openRead(key: string): Promise<Readable | null>;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /**
   * Where the object already lies on this machine's disk, for stores that keep
   * files locally; remote stores leave it out and readers download a copy.
   */
  localPathOf?(key: string): string;
}

const KEY_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

/** Refuses keys that could escape the store (.., absolute paths, odd characters). */
export function assertSafeKey(key: string): string {
  if (!isSafeKey(key)) throw new Error(`unsafe storage key: ${JSON.stringify(key)}`);
  return key;
}

/** Whether `key` may name a stored file (`assertSafeKey` without the throw): a name users typed may not. */
export function isSafeKey(key: string): boolean {
  return KEY_RE.test(key) && !key.split('/').some((part) => part === '..' || part === '.') && key.length <= 512;
}

/**
 * Signs `/files/<key>` URLs with an HMAC over key and expiry, so file URLs can
 * be handed to browsers (img src) without auth headers and stop working later.
 */
export class UrlSigner {
  private readonly key: Buffer;

  constructor(secret: string, private publicUrl: string, private readonly ttlSeconds: number) {
    // A key of its own, derived from the service secret, so file links and tokens never share one.
    this.key = createHmac('sha256', secret).update('atelier:file-urls:v1').digest();
  }

  /** The base URL is known only after listening when the port was 0 (tests). */
  rebase(publicUrl: string): void {
    this.publicUrl = publicUrl;
  }

  private signature(key: string, expires: number): string {
    return createHmac('sha256', this.key).update(`${key}\n${expires}`).digest('base64url');
  }

  sign(key: string, now: Date): string {
    const expires = Math.floor(now.getTime() / 1000) + this.ttlSeconds;
    return `${this.publicUrl}/files/${assertSafeKey(key)}?expires=${expires}&sig=${this.signature(key, expires)}`;
  }

  verify(key: string, expires: string, sig: string, now: Date): boolean {
    const exp = Number(expires);
    if (!Number.isInteger(exp) || exp < Math.floor(now.getTime() / 1000)) return false;
    const expected = Buffer.from(this.signature(key, exp));
    const given = Buffer.from(sig);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}
