import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { deflateRows, encodePng, PNG_DEFLATE_LEVEL, readPngInfo } from '../../src/gpu-worker/pipeline/png';
import { decodePng } from './helpers/png-decode';

describe('PNG encoder', () => {
  it('round-trips pixels and text chunks', async () => {
    const rgb = Uint8Array.from({ length: 5 * 3 * 3 }, (_, i) => (i * 37) % 256);
    const png = await encodePng(rgb, 5, 3, { parameters: 'a cat\nSteps: 2', prompt: 'ünïcode ok', title: '猫' });
    const info = readPngInfo(png);
    expect([info.width, info.height]).toEqual([5, 3]);
    expect(info.text).toEqual({ parameters: 'a cat\nSteps: 2', prompt: 'ünïcode ok', title: '猫' });
    expect(Array.from(decodePng(png).rgb)).toEqual(Array.from(rgb));
  });

  it('deflates at a fast level (4), not zlib\'s default 6', async () => {
    const rgb = Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7) % 251);
    const png = await encodePng(rgb, 64, 64);
    const idat = png.indexOf('IDAT', 8, 'latin1') + 4;
    // The zlib header's FLEVEL bits: 1 for levels 2–5, 2 for level 6 (RFC 1950, zlib's deflate.c).
    expect(png[idat + 1] >> 6).toBe(1);
    expect(Array.from(decodePng(png).rgb)).toEqual(Array.from(rgb));
  });

  it('deflates into one output buffer the same stream zlib writes in 16 KiB chunks, incompressible rows included', async () => {
    const smooth = Buffer.from(Uint8Array.from({ length: 256 * 256 * 3 }, (_, i) => (i >> 9) & 0xff));
    for (const rows of [smooth, randomBytes(200_000), Buffer.alloc(0)]) {
      const deflated = await deflateRows(rows);
      expect(deflated.equals(zlib.deflateSync(rows, { level: PNG_DEFLATE_LEVEL }))).toBe(true);
      expect(zlib.inflateSync(deflated).equals(rows)).toBe(true);
    }
  });

  it('rejects a pixel buffer of the wrong size', async () => {
    await expect(encodePng(new Uint8Array(10), 2, 2)).rejects.toThrow();
  });

  it('detects corrupted chunks', async () => {
    const png = await encodePng(new Uint8Array(12), 2, 2, { a: 'b' });
    png[png.length - 20] ^= 0xff;
    expect(() => readPngInfo(png)).toThrow(/CRC/);
  });
});
