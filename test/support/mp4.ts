import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What ffprobe says of an MP4's first video stream, plus the order of its top-level boxes. */
export interface Mp4Facts {
  codec: string;
  pixFmt: string;
  width: number;
  height: number;
  frames: number;
  durationSeconds: number;
  /** Top-level box types in file order, e.g. ['ftyp', 'moov', 'free', 'mdat']. */
  boxes: string[];
}

/** The top-level ISO-BMFF boxes (size, type) of an MP4, in order. */
export function topLevelBoxes(mp4: Buffer): string[] {
  const boxes: string[] = [];
  for (let at = 0; at + 8 <= mp4.length;) {
    let size = mp4.readUInt32BE(at);
    const type = mp4.toString('latin1', at + 4, at + 8);
    if (size === 1) size = Number(mp4.readBigUInt64BE(at + 8));
    if (size === 0) size = mp4.length - at;
    boxes.push(type);
    if (size < 8) break;
    at += size;
  }
  return boxes;
}

/** Runs Debian's ffprobe on the bytes (counting frames, not trusting the header). */
export function probeMp4(mp4: Buffer): Mp4Facts {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'atelier-probe-'));
  try {
    const file = path.join(dir, 'clip.mp4');
    writeFileSync(file, mp4);
    const out = JSON.parse(execFileSync('ffprobe', [
      '-v', 'error', '-select_streams', 'v:0', '-count_frames',
      '-show_entries', 'stream=codec_name,pix_fmt,width,height,nb_read_frames:format=duration', '-of', 'json', file,
    ]).toString()) as { streams: Array<Record<string, string | number>>; format: { duration: string } };
    const s = out.streams[0];
    return {
      codec: String(s.codec_name), pixFmt: String(s.pix_fmt), width: Number(s.width), height: Number(s.height),
      frames: Number(s.nb_read_frames), durationSeconds: Number(out.format.duration), boxes: topLevelBoxes(mp4),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** True when the moov box comes before the mdat box (faststart). */
export const moovFirst = (boxes: string[]): boolean => boxes.indexOf('moov') >= 0 && boxes.indexOf('moov') < boxes.indexOf('mdat');
