import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { flatString } from '../../src/kernel/flat-string';
import { isUuid, newId } from '../../src/kernel/ids';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap bytes each of `count` strings from `make` holds while they are all kept. */
function heapPerString(make: () => string, count = 20_000): number {
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept = Array.from({ length: count }, make);
  gc();
  const bytes = (process.memoryUsage().heapUsed - before) / count;
  expect(kept).toHaveLength(count);
  return bytes;
}

describe('flat strings for long-held ids and keys', () => {
  it('copies any string exactly, lone surrogates and non-Latin text included', () => {
    for (const text of ['', 'a', `${'x'.repeat(20)}${'y'.repeat(20)}`, 'ateliér 画像 🎨', 'lone \ud800 surrogate \udfff']) {
      expect(flatString(text)).toBe(text);
    }
  });

  it('newId is a v4 UUID, different each time', () => {
    const ids = new Set(Array.from({ length: 1000 }, newId));
    expect(ids.size).toBe(1000);
    for (const id of ids) {
      expect(isUuid(id)).toBe(true);
      expect(id[14]).toBe('4');
    }
  });

  it('a held newId takes a fraction of the heap a held crypto.randomUUID does', () => {
    // randomUUID's result is a rope of its pieces (~490 bytes on node 20); a flat 36-character string is ~66.
    const rope = heapPerString(randomUUID);
    const flat = heapPerString(newId);
    expect(flat).toBeLessThan(120);
    expect(rope).toBeGreaterThan(flat * 3);
  });
});
