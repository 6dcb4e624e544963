import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { coordinateGrid, gaussianBlur, gaussianKernel, linear } from '../../src/gpu-worker/onnx/layers';
import { GraphBuilder } from '../../src/gpu-worker/onnx/graph-builder';
import { OnnxDataType } from '../../src/gpu-worker/onnx/proto';

async function session(g: GraphBuilder): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(g.toBuffer(), { intraOpNumThreads: 1 });
}

describe('ONNX writer', () => {
  it('writes a Gemm + Tanh model that onnxruntime runs', async () => {
    const g = new GraphBuilder('gemm');
    const x = g.input('x', OnnxDataType.FLOAT, ['batch', 2]);
    const y = g.op('Tanh', [linear(g, x, g.weight('w', [1, 0, 0, 2, 1, 1], [3, 2]), g.floats([0, 0, 0.5]))]);
    g.output(y, 'y', OnnxDataType.FLOAT, ['batch', 3]);
    const out = await (await session(g)).run({ x: new ort.Tensor('float32', Float32Array.of(0.5, -0.25), [1, 2]) });
    const expected = [Math.tanh(0.5), Math.tanh(-0.5), Math.tanh(0.75)];
    Array.from(out.y.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
  });

  it('builds coordinate grids that follow the input size', async () => {
    const g = new GraphBuilder('grid');
    const x = g.input('x', OnnxDataType.FLOAT, [1, 1, 'h', 'w']);
    g.output(coordinateGrid(g, x), 'grid', OnnxDataType.FLOAT, [1, 3, 'h', 'w']);
    const out = await (await session(g)).run({ x: new ort.Tensor('float32', new Float32Array(8), [1, 1, 2, 4]) });
    expect(out.grid.dims).toEqual([1, 3, 2, 4]);
    const data = out.grid.data as Float32Array;
    expect(Array.from(data.subarray(0, 4))).toEqual([-1.5, -0.5, 0.5, 1.5]); // x in half short sides
    expect(Array.from(data.subarray(8, 12))).toEqual([-0.5, -0.5, -0.5, -0.5]); // y of the first row
  });

  it('blurs with a normalised Gaussian and keeps constants constant', async () => {
    const k = gaussianKernel(2, 9);
    expect(k.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 6);
    const g = new GraphBuilder('blur');
    const x = g.input('x', OnnxDataType.FLOAT, [1, 2, 'h', 'w']);
    g.output(gaussianBlur(g, x, 2, k), 'y', OnnxDataType.FLOAT, [1, 2, 'h', 'w']);
    const input = new Float32Array(2 * 5 * 5).fill(3);
    const out = await (await session(g)).run({ x: new ort.Tensor('float32', input, [1, 2, 5, 5]) });
    expect(out.y.dims).toEqual([1, 2, 5, 5]);
    for (const v of out.y.data as Float32Array) expect(v).toBeCloseTo(3, 5);
  });
});
