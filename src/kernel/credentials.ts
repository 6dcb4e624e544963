import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Sealing of backend credentials (an OpenAI-Images API key) before they are
 * stored on a model row: AES-256-GCM with a random 96-bit nonce, so a stolen
 * database dump reveals nothing without ATELIER_CREDENTIAL_KEY and a changed
 * ciphertext fails to open (docs/security.md, "Backend credentials").
 * The format is `v1.<nonce>.<tag>.<ciphertext>`, each part base64url.
 */

const VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';

/** The key must be exactly 32 bytes (config reads it from base64 or hex). */
function assertKey(key: Buffer): void {
  if (key.length !== 32) throw new Error('The credential key must be 32 bytes');
}

/** Encrypts `plain` with `key`; every call gives a different ciphertext. */
export function sealCredential(plain: string, key: Buffer): string {
  assertKey(key);
  const nonce = randomBytes(12);
  const cipher = createCipheriv(ALGORITHM, key, nonce);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return [VERSION, nonce, cipher.getAuthTag(), body].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
}

/** Decrypts what {@link sealCredential} produced; throws when the key is wrong or the text was altered. */
export function openCredential(ciphertext: string, key: Buffer): string {
  assertKey(key);
  const [version, nonce, tag, body] = ciphertext.split('.');
  if (version !== VERSION || nonce === undefined || tag === undefined || body === undefined) throw new Error('Not a sealed credential');
  const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(nonce, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}
