import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureDebianBinary } from '../redis/local-server';

const FFMPEG_HINT =
  'Atelier encodes videos with ffmpeg: `sudo apt-get install -y ffmpeg` (Debian/Ubuntu), `brew install ffmpeg` (macOS), ' +
  'or set ATELIER_FFMPEG_PATH to an ffmpeg binary.';

/** The ffmpeg binary on the PATH, else Debian's package installed when root (as for redis-server); else throws saying how. */
export function ensureFfmpeg(log?: (msg: string) => void): string {
  return ensureDebianBinary('ffmpeg', 'ffmpeg', FFMPEG_HINT, log);
}

/** What one encoded clip is. */
export interface EncodedVideo {
  mp4: Buffer;
  /** Time from the last frame to the finished file (flush, faststart rewrite, read back). */
  finishMs: number;
}

/**
 * One MP4 being encoded by an ffmpeg child process: raw RGB frames are
 * streamed to its stdin (no frame files), out comes H.264 in yuv420p (what
 * every browser plays) with the moov atom moved to the front (faststart), so
 * a browser can start playing before the whole file has arrived. Faststart
 * rewrites the file at the end, hence a temporary file rather than a pipe.
 */
export class Mp4Encoder {
  private readonly exited: Promise<number | null>;
  private stderr = '';

  private constructor(private readonly child: ChildProcessWithoutNullStreams, private readonly dir: string, private readonly file: string) {
    child.stderr.on('data', (chunk: Buffer) => { this.stderr = (this.stderr + chunk.toString()).slice(-2000); });
    child.stdin.on('error', () => undefined); // an early exit is reported by finish()
    this.exited = new Promise((resolve) => {
      child.on('error', (error) => { this.stderr += error.message; resolve(-1); });
      child.on('close', resolve);
    });
  }

  static async start(ffmpeg: string, o: { width: number; height: number; fps: number }): Promise<Mp4Encoder> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'atelier-video-'));
    const file = path.join(dir, 'clip.mp4');
    const child = spawn(ffmpeg, [
      '-hide_banner', '-loglevel', 'error', '-nostdin',
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-video_size', `${o.width}x${o.height}`, '-framerate', String(o.fps), '-i', 'pipe:0',
      '-an', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p', '-movflags', '+faststart',
      '-threads', '2', '-y', file,
    ], { stdio: ['pipe', 'ignore', 'pipe'] }) as unknown as ChildProcessWithoutNullStreams;
    return new Mp4Encoder(child, dir, file);
  }

  /** Hands ffmpeg one frame; resolves when its pipe can take more (back-pressure). */
  write(rgb: Uint8Array): Promise<void> {
    if (this.child.stdin.write(rgb)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { this.child.stdin.off('drain', done); this.child.off('close', done); resolve(); };
      this.child.stdin.once('drain', done);
      this.child.once('close', done);
    });
  }

  /** Closes the input and returns the MP4; throws with ffmpeg's message when it failed. */
  async finish(): Promise<EncodedVideo> {
    const started = Date.now();
    this.child.stdin.end();
    const code = await this.exited;
    try {
      if (code !== 0) throw new Error(`ffmpeg failed (exit ${code}): ${this.stderr.trim() || 'no output'}`);
      const mp4 = await readFile(this.file);
      return { mp4, finishMs: Date.now() - started };
    } finally {
      await rm(this.dir, { recursive: true, force: true });
    }
  }

  /** Stops ffmpeg and removes its file (a cancelled or failed clip). */
  async abort(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
    await rm(this.dir, { recursive: true, force: true });
  }
}
