import type { GraphBuilder } from './graph-builder';

/**
 * Reusable graph fragments for the tiny model. Every function takes the
 * builder and tensor names and returns the name of the result.
 */

/** A 1x1 convolution: `weight` is [out, in, 1, 1], `bias` [out] or omitted. */
export function conv1x1(g: GraphBuilder, x: string, weight: string, bias?: string): string {
  return g.op('Conv', bias ? [x, weight, bias] : [x, weight], { kernel_shape: [1, 1] });
}

/** Fully connected layer with PyTorch's [out, in] weight layout (x is [B, in]). */
export function linear(g: GraphBuilder, x: string, weight: string, bias: string): string {
  return g.op('Gemm', [x, weight, bias], { transB: 1 });
}

/** Reads spatial dim `axis` of `x` (NCHW) as a float scalar and as an int64 scalar. */
function spatialSize(g: GraphBuilder, x: string, axis: number): { f: string; i: string } {
  const shape = g.op('Shape', [x]);
  const i = g.op('Gather', [shape, g.ints([axis], [])], { axis: 0 });
  return { i, f: g.op('Cast', [i], { to: 1 }) };
}

/** Pixel-centre coordinates along one axis, centred and divided by `halfShort`. */
function axisCoords(g: GraphBuilder, size: { f: string; i: string }, halfShort: string): string {
  const idx = g.op('Cast', [g.op('Range', [g.ints([0], []), size.i, g.ints([1], [])])], { to: 1 });
  const centred = g.op('Sub', [g.op('Add', [idx, g.floats([0.5], [])]), g.op('Mul', [size.f, g.floats([0.5], [])])]);
  return g.op('Div', [centred, halfShort]);
}

/**
 * Coordinate channels [1, 3, H, W] (x, y, radius) matching the spatial size
 * of `x`. Coordinates are measured in half short sides, so patterns keep
 * their aspect ratio and the same normalised position lines up between the
 * latent and the pixel grid.
 */
export function coordinateGrid(g: GraphBuilder, x: string): string {
  const h = spatialSize(g, x, 2);
  const w = spatialSize(g, x, 3);
  const halfShort = g.op('Mul', [g.op('Min', [h.f, w.f]), g.floats([0.5], [])]);
  const ys = g.op('Reshape', [axisCoords(g, h, halfShort), g.ints([1, 1, -1, 1])]);
  const xs = g.op('Reshape', [axisCoords(g, w, halfShort), g.ints([1, 1, 1, -1])]);
  const zero = g.floats([0], []);
  const xGrid = g.op('Add', [xs, g.op('Mul', [ys, zero])]);
  const yGrid = g.op('Add', [ys, g.op('Mul', [xs, zero])]);
  const r = g.op('Sqrt', [g.op('Add', [g.op('Mul', [xGrid, xGrid]), g.op('Mul', [yGrid, yGrid])])]);
  return g.op('Concat', [xGrid, yGrid, r], { axis: 1 });
}

/** Normalised 1-D Gaussian kernel with `taps` taps (odd). */
export function gaussianKernel(sigma: number, taps: number): Float32Array {
  const half = (taps - 1) / 2;
  const k = new Float32Array(taps);
  let sum = 0;
  for (let i = 0; i < taps; i++) {
    k[i] = Math.exp(-((i - half) ** 2) / (2 * sigma * sigma));
    sum += k[i];
  }
  for (let i = 0; i < taps; i++) k[i] /= sum;
  return k;
}

/**
 * Separable Gaussian blur over each of `channels` channels. Edge padding
 * (not zero padding) keeps borders from darkening, and works for any size,
 * even smaller than the kernel.
 */
export function gaussianBlur(g: GraphBuilder, x: string, channels: number, kernel: Float32Array): string {
  const taps = kernel.length;
  const half = (taps - 1) / 2;
  const repeated = new Float32Array(channels * taps);
  for (let c = 0; c < channels; c++) repeated.set(kernel, c * taps);
  const kh = g.floats(repeated, [channels, 1, taps, 1]);
  const kw = g.floats(repeated, [channels, 1, 1, taps]);
  const padded = g.op('Pad', [x, g.ints([0, 0, half, half, 0, 0, half, half])], { mode: 'edge' });
  const vertical = g.op('Conv', [padded, kh], { group: channels, kernel_shape: [taps, 1] });
  return g.op('Conv', [vertical, kw], { group: channels, kernel_shape: [1, taps] });
}
