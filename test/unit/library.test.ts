import { describe, expect, it } from 'vitest';
import type { LoraFile, LoraLayerDelta } from '../../src/gpu-worker/lora/lora-file';
import { decodeAlbumCursor, encodeAlbumCursor, assertPageSize } from '../../src/services/album-images';
import { assertImageIds } from '../../src/services/image-access';
import { checkLoraAgainstTargets, loraStorageKey } from '../../src/services/loras';

const layer = (name: string, outFeatures: number, inFeatures: number): LoraLayerDelta =>
  ({ layer: name, outFeatures, inFeatures, rank: 1, alpha: 1, up: new Float32Array(outFeatures), down: new Float32Array(inFeatures) });
const file = (...layers: LoraLayerDelta[]): LoraFile => ({ path: 'x', metadata: {}, layers: new Map(layers.map((l) => [l.layer, l])) });
const TARGETS = [{ name: 'cond_proj', shape: [32, 64], outFeatures: 32, inFeatures: 64 }, { name: 'mid.conv', shape: [32, 32, 1, 1], outFeatures: 32, inFeatures: 32 }];

describe('checkLoraAgainstTargets', () => {
  it('accepts layers the model has with matching sizes (names compared as kohya flattens them)', () => {
    expect(() => checkLoraAgainstTargets(file(layer('cond_proj', 32, 64), layer('mid_conv', 32, 32)), TARGETS, 'tiny')).not.toThrow();
  });

  it('refuses unknown layers, wrong sizes and models without LoRA support, naming the field', () => {
    const unknown = (() => { try { checkLoraAgainstTargets(file(layer('attn_q', 8, 8)), TARGETS, 'tiny'); } catch (e) { return e; } })();
    expect(unknown).toMatchObject({ code: 'BAD_USER_INPUT', extensions: { field: 'uploadId' } });
    expect(() => checkLoraAgainstTargets(file(layer('cond_proj', 32, 63)), TARGETS, 'tiny')).toThrow(/32x63.*32x64/);
    expect(() => checkLoraAgainstTargets(file(layer('cond_proj', 32, 64)), [], 'plain')).toThrow(/does not support LoRAs/);
  });

  it('stores files where the worker looks for them', () => {
    expect(loraStorageKey('abc')).toBe('loras/abc.safetensors');
  });
});

describe('album paging and id checks', () => {
  it('round-trips cursors and refuses forged ones', () => {
    const imageId = '2b7e1516-28ae-4d2a-abf7-158809cf4f3c';
    expect(decodeAlbumCursor(encodeAlbumCursor({ position: 7, imageId }))).toEqual({ position: 7, imageId });
    expect(() => decodeAlbumCursor('bm9wZQ')).toThrow(/Invalid cursor/);
    expect(decodeAlbumCursor(encodeAlbumCursor({ position: 2147483647, imageId }))).toEqual({ position: 2147483647, imageId });
    // Forged: a loose uuid, a position that is no integer from 0 to PostgreSQL's integer maximum, extra parts.
    const forged = [`0|${'-'.repeat(36)}`, `99999999999|${imageId}`, `2147483648|${imageId}`, `-1|${imageId}`, `1.5|${imageId}`, `1e3|${imageId}`, `|${imageId}`, `1|${imageId}|2`];
    for (const text of forged) {
      const error = (() => { try { decodeAlbumCursor(Buffer.from(text).toString('base64url')); } catch (e) { return e; } })();
      expect(error, text).toMatchObject({ code: 'BAD_USER_INPUT', message: 'Invalid cursor', extensions: { field: 'after' } });
    }
    // Album.images cursors name their list; one from before they did still reads.
    expect(() => decodeAlbumCursor(Buffer.from(`jobs:7|${imageId}`).toString('base64url'))).toThrow(/another list/);
    expect(decodeAlbumCursor(Buffer.from(`7|${imageId}`).toString('base64url'))).toEqual({ position: 7, imageId });
    expect(assertPageSize(undefined)).toBe(50);
    expect(() => assertPageSize(201)).toThrow(/first/);
  });

  it('dedupes image ids and names the bad one', () => {
    const id = '2b7e1516-28ae-4d2a-abf7-158809cf4f3c';
    expect(assertImageIds('imageIds', [id, id])).toEqual([id]);
    expect(() => assertImageIds('imageIds', [])).toThrow(/at least one/);
    expect(() => assertImageIds('imageIds', [id, 'x'])).toThrow(/imageIds\[1\]/);
  });
});
