import { describe, expect, it } from 'vitest';
import { parseSafetensors, SafetensorsError, toFloat32, writeSafetensors } from '../../src/gpu-worker/lora/safetensors';

/** Builds a file from a raw header object and data bytes, bypassing the writer's checks. */
function rawFile(header: unknown, data: Buffer = Buffer.alloc(0)): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

describe('safetensors', () => {
  it('round-trips float32 tensors and metadata', () => {
    const buf = writeSafetensors({ b: { shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) }, a: { shape: [], data: Float32Array.of(0.5) } }, { format: 'pt' });
    expect(buf.readBigUInt64LE(0) % 8n).toBe(0n);
    const file = parseSafetensors(buf);
    expect(file.metadata).toEqual({ format: 'pt' });
    expect(file.tensors.get('b')?.shape).toEqual([2, 2]);
    expect(Array.from(toFloat32(file.tensors.get('b')!))).toEqual([1, 2, 3, 4]);
    expect(Array.from(toFloat32(file.tensors.get('a')!))).toEqual([0.5]);
  });

  it('converts F16 and BF16', () => {
    const f16 = Buffer.from([0x00, 0x3c, 0x00, 0xc0]); // 1.0, -2.0
    const bf16 = Buffer.from([0x80, 0x3f, 0x40, 0x40]); // 1.0, 3.0
    const file = parseSafetensors(rawFile({ h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, b: { dtype: 'BF16', shape: [2], data_offsets: [4, 8] } }, Buffer.concat([f16, bf16])));
    expect(Array.from(toFloat32(file.tensors.get('h')!))).toEqual([1, -2]);
    expect(Array.from(toFloat32(file.tensors.get('b')!))).toEqual([1, 3]);
  });

  const bad: Array<[string, Buffer]> = [
    ['a file shorter than 8 bytes', Buffer.from([1, 2, 3])],
    ['a header length past the end', Buffer.from([0xff, 0xff, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d])],
    ['a header that is not JSON', rawFile('x').subarray(0, 8 + 3)],
    ['a header that is an array', rawFile([])],
    ['an unknown dtype', rawFile({ t: { dtype: 'F8', shape: [1], data_offsets: [0, 1] } }, Buffer.alloc(1))],
    ['a negative dimension', rawFile({ t: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, Buffer.alloc(4))],
    ['offsets past the data', rawFile({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, Buffer.alloc(4))],
    ['a size that does not match the shape', rawFile({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, Buffer.alloc(8))],
    ['overlapping tensors', rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, Buffer.alloc(8))],
    ['non-string metadata', rawFile({ __metadata__: { n: 1 } })],
  ];
  for (const [what, buf] of bad) {
    it(`rejects ${what}`, () => {
      expect(() => parseSafetensors(buf)).toThrow(SafetensorsError);
    });
  }
});
