import { sha256 } from '../../kernel/hashing';
import type { GeneratedImage } from '../pipeline/types';
import { BackendError } from './backend-error';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * A remote backend's PNG as the artifact store records it: its size comes from
 * the IHDR chunk (bytes 16-23), which every PNG starts with. Anything that is
 * not a PNG is refused rather than stored under a .png key.
 */
export function generatedImageOf(png: Buffer, seed: number, source: string): GeneratedImage {
  if (png.length < 24 || !png.subarray(0, 8).equals(PNG_SIGNATURE)) {
    throw new BackendError('failed', 'bad_response', `${source} did not send a PNG image`);
  }
  return { png, seed, width: png.readUInt32BE(16), height: png.readUInt32BE(20), sha256: sha256(png) };
}
