import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { DiffusionPipeline } from '../src/gpu-worker/pipeline/diffusion-pipeline';
import { deflateRows, PNG_DEFLATE_LEVEL } from '../src/gpu-worker/pipeline/png';
import { benchModels, median, row, time } from './harness';

const deflate = promisify(zlib.deflate);
const RUNS = 30;

/** The filtered rows a PNG's IDAT chunks deflate (what the encoder hands zlib). */
function filteredRows(png: Buffer): Buffer {
  const idat: Buffer[] = [];
  for (let pos = 8; pos + 12 <= png.length; pos += 12 + png.readUInt32BE(pos)) {
    if (png.toString('latin1', pos + 4, pos + 8) === 'IDAT') idat.push(png.subarray(pos + 8, pos + 8 + png.readUInt32BE(pos)));
  }
  return zlib.inflateSync(Buffer.concat(idat));
}

/** Milliseconds of CPU the whole process (every thread) spent while `work` ran. */
async function processCpu(work: () => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  await work();
  const spent = process.cpuUsage(before);
  return (spent.user + spent.system) / 1000;
}

/**
 * The PNG encoder's deflate at its level (`PNG_DEFLATE_LEVEL`) against
 * zlib's default level 6, on images the tiny model renders: time and bytes,
 * and its one output buffer against zlib's default 16 KiB output chunks
 * (docs/performance.md, "PNGs deflated at level 4").
 */
export async function pngBench(): Promise<void> {
  console.log(`\n== PNG deflate (level ${PNG_DEFLATE_LEVEL} ÷ zlib's default 6, tiny model's images) ==`);
  const pipeline = await DiffusionPipeline.load(path.join(await benchModels(), 'atelier-tiny'), { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  for (const size of [256, 1024]) {
    const [image] = await pipeline.generate({ prompt: 'a lighthouse on a cliff at dusk', width: size, height: size, steps: 20, guidanceScale: 7.5, seed: 7, count: 1 });
    const rows = filteredRows(image.png);
    const ours: number[] = [];
    const zlibDefault: number[] = [];
    let oursBytes = 0;
    let defaultBytes = 0;
    for (let i = 0; i < RUNS; i += 1) {
      const [a, outA] = await time(() => deflate(rows, { level: PNG_DEFLATE_LEVEL }));
      const [b, outB] = await time(() => deflate(rows, { level: 6 }));
      ours.push(a);
      zlibDefault.push(b);
      oursBytes = outA.length;
      defaultBytes = outB.length;
    }
    row(`deflate time, ${size}²`, median(ours), median(zlibDefault), 'ms');
    row(`deflated size, ${size}²`, oursBytes / 1024, defaultBytes / 1024, 'KiB');
    // The same level, the encoder's one output buffer against zlib's 16 KiB chunks: CPU of every thread, as
    // the chunks' round trips between the pool and the calling thread cost CPU on both.
    const oneBuffer: number[] = [];
    const chunked: number[] = [];
    for (let i = 0; i < RUNS; i += 1) {
      oneBuffer.push(await processCpu(() => deflateRows(rows)));
      chunked.push(await processCpu(() => deflate(rows, { level: PNG_DEFLATE_LEVEL })));
    }
    row(`deflate CPU, ${size}², one output buffer ÷ 16 KiB chunks`, median(oneBuffer), median(chunked), 'ms');
  }
  await pipeline.release();
}
