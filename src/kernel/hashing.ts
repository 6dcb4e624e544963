import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Hex SHA-256 of a string or bytes (token hashes, file checksums). */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hex SHA-256 of a file on disk, read as a stream (model files, exported files). */
export function sha256OfFile(file: string): Promise<string> {
  return sha256OfStream(createReadStream(file));
}

/** Hex SHA-256 of everything a stream yields (a stored object read from S3). */
export async function sha256OfStream(source: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of source) hash.update(chunk);
  return hash.digest('hex');
}
