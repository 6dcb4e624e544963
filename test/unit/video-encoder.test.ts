import { describe, expect, it } from 'vitest';
import { ensureFfmpeg, Mp4Encoder } from '../../src/gpu-worker/video-encoder';
import { moovFirst, probeMp4 } from '../support/mp4';

/** A frame whose colour moves with its index, so the encoder has real motion to code. */
function frame(index: number, width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) rgb.set([(i + index * 8) % 256, (index * 20) % 256, (i >> 3) % 256], i * 3);
  return rgb;
}

describe('Mp4Encoder (frames streamed to ffmpeg)', () => {
  it('makes an H.264 yuv420p MP4 with the moov box first and the duration frames ÷ fps', async () => {
    const encoder = await Mp4Encoder.start(ensureFfmpeg(), { width: 64, height: 48, fps: 24 });
    for (let i = 0; i < 36; i++) await encoder.write(frame(i, 64, 48));
    const { mp4 } = await encoder.finish();
    const facts = probeMp4(mp4);
    expect(facts).toMatchObject({ codec: 'h264', pixFmt: 'yuv420p', width: 64, height: 48, frames: 36 });
    expect(facts.durationSeconds).toBeCloseTo(1.5, 1);
    expect(moovFirst(facts.boxes)).toBe(true);
  });

  it('reports ffmpeg\'s own message when it fails, and leaves no process behind on abort', async () => {
    const broken = await Mp4Encoder.start(ensureFfmpeg(), { width: 63, height: 48, fps: 24 }); // odd width: yuv420p refuses it
    await broken.write(frame(0, 63, 48));
    await expect(broken.finish()).rejects.toThrow(/ffmpeg failed \(exit \d+\): .*width/i);
    const aborted = await Mp4Encoder.start(ensureFfmpeg(), { width: 64, height: 48, fps: 24 });
    await aborted.write(frame(0, 64, 48));
    await expect(aborted.abort()).resolves.toBeUndefined();
  });
});
