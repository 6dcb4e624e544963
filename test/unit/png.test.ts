import { describe, expect, it } from 'vitest';
import { encodePng, readPngInfo } from '../../src/gpu-worker/pipeline/png';
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

  it('rejects a pixel buffer of the wrong size', async () => {
    await expect(encodePng(new Uint8Array(10), 2, 2)).rejects.toThrow();
  });

  it('detects corrupted chunks', async () => {
    const png = await encodePng(new Uint8Array(12), 2, 2, { a: 'b' });
    png[png.length - 20] ^= 0xff;
    expect(() => readPngInfo(png)).toThrow(/CRC/);
  });
});
