import { describe, expect, it } from 'vitest';
import { planarToRgb } from '../../src/gpu-worker/pipeline/stages';

/** The conversion as it was written before planarToRgb: Math.round, then a clamp to 0–255. */
function reference(px: Float32Array, plane: number): Uint8Array {
  const rgb = new Uint8Array(plane * 3);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) {
      const v = Math.round((px[c * plane + i] + 1) * 127.5);
      rgb[i * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return rgb;
}

/** The float32 values within `ulps` steps of x. */
function neighbours(x: number, ulps: number): number[] {
  const bits = new Int32Array(new Float32Array([x]).buffer)[0];
  const out = new Float32Array(2 * ulps + 1);
  const asBits = new Int32Array(out.buffer);
  for (let d = -ulps; d <= ulps; d += 1) asBits[d + ulps] = bits + (x < 0 ? -d : d);
  return Array.from(out);
}

describe('planarToRgb', () => {
  it('gives the same bytes as Math.round and a clamp, at every rounding boundary and beyond the range', () => {
    const values: number[] = [0, -0, -1, 1, NaN, Infinity, -Infinity, 1e30, -1e30, 2, -2];
    // (v + 1) × 127.5 lands on k + 0.5 near v = (2k + 1) / 255 − 1: the values where rounding could differ.
    for (let k = -2; k <= 257; k += 1) values.push(...neighbours((2 * k + 1) / 255 - 1, 8));
    for (let i = 0; i < 30_000; i += 1) values.push(Math.sin(i * 12.9898) * 1.3);
    while (values.length % 3) values.push(0);
    const plane = values.length / 3;
    const px = Float32Array.from(values);
    expect(Buffer.from(planarToRgb(px, plane)).equals(Buffer.from(reference(px, plane)))).toBe(true);
  });

  it('interleaves the three planes', () => {
    const px = Float32Array.from([-1, 1, /* g */ 0, -1, /* b */ 1, 0]);
    expect(Array.from(planarToRgb(px, 2))).toEqual([0, 128, 255, 255, 0, 128]);
  });
});
