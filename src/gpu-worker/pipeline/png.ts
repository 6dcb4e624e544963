import { promisify } from 'node:util';
import zlib from 'node:zlib';

/**
 * A small PNG codec for 8-bit RGB: rows use the Sub filter (smooth images
 * compress well with it and it costs one pass), IDAT is deflated off the JS
 * thread with async zlib, and parameters ride along as tEXt chunks (iTXt when
 * a value is not Latin-1, e.g. a prompt in Japanese).
 */

const deflate = promisify(zlib.deflate);

/**
 * zlib level 4, ComfyUI's default for saved images: on this pipeline's
 * images it deflates 3–4.5× faster than zlib's default 6 for 4 % (256²) to
 * 13 % (1024²) more bytes (docs/performance.md, "PNGs deflated at level 4").
 */
export const PNG_DEFLATE_LEVEL = 4;

/**
 * The IDAT's deflate, on libuv's pool, at PNG_DEFLATE_LEVEL, into one output
 * buffer with room for all of it. With zlib's default 16 KiB output chunks the
 * work went back and forth between the pool and this thread once per chunk
 * (4 times for the tiny model's 256² image, 30 for 1024²), which cost 3–6 %
 * more CPU (`npm run bench -- png`; docs/performance.md, "One output buffer per deflate").
 */
export function deflateRows(rows: Buffer): Promise<Buffer> {
  // Deflate's worst case is a few bytes per 16 KiB block over the input.
  return deflate(rows, { level: PNG_DEFLATE_LEVEL, chunkSize: Math.max(zlib.constants.Z_DEFAULT_CHUNK, rows.length + (rows.length >> 10) + 64) });
}
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(zlib.crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function isLatin1(value: string): boolean {
  for (let i = 0; i < value.length; i += 1) if (value.charCodeAt(i) > 0xff) return false;
  return true;
}

/** A tEXt chunk, or iTXt (UTF-8) when the value needs it. */
function textChunk(keyword: string, value: string): Buffer {
  if (!/^[\x20-\x7e]{1,79}$/.test(keyword)) throw new Error(`invalid PNG text keyword ${keyword}`);
  const clean = value.split('\0').join('');
  if (isLatin1(clean)) return chunk('tEXt', Buffer.concat([Buffer.from(`${keyword}\0`, 'latin1'), Buffer.from(clean, 'latin1')]));
  const head = Buffer.from(`${keyword}\0\0\0\0\0`, 'latin1'); // no compression, empty language and translated keyword
  return chunk('iTXt', Buffer.concat([head, Buffer.from(clean, 'utf8')]));
}

/** Applies the Sub filter to each RGB row, prefixing the filter byte. */
function filterRows(rgb: Uint8Array, width: number, height: number): Buffer {
  const stride = width * 3;
  const out = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const src = y * stride;
    const dst = y * (stride + 1);
    out[dst] = 1;
    for (let i = 0; i < 3 && i < stride; i++) out[dst + 1 + i] = rgb[src + i];
    for (let i = 3; i < stride; i++) out[dst + 1 + i] = (rgb[src + i] - rgb[src + i - 3]) & 0xff;
  }
  return out;
}

/** Encodes 8-bit RGB pixels (row-major, 3 bytes each) with optional text chunks. */
export async function encodePng(rgb: Uint8Array, width: number, height: number, text: Record<string, string> = {}): Promise<Buffer> {
  if (rgb.length !== width * height * 3) throw new Error(`expected ${width * height * 3} bytes, got ${rgb.length}`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour
  const idat = await deflateRows(filterRows(rgb, width, height));
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    ...Object.entries(text).map(([k, v]) => textChunk(k, v)),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** What {@link readPngInfo} finds: size and text chunks (tEXt and uncompressed iTXt). */
export interface PngInfo { width: number; height: number; bitDepth: number; colourType: number; text: Record<string, string> }

/** Reads a PNG's header and text chunks, verifying the signature and every CRC. */
export function readPngInfo(png: Buffer): PngInfo {
  if (png.length < 8 || !png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG');
  const info: PngInfo = { width: 0, height: 0, bitDepth: 0, colourType: 0, text: {} };
  for (let pos = 8; pos + 12 <= png.length; ) {
    const len = png.readUInt32BE(pos);
    const type = png.toString('latin1', pos + 4, pos + 8);
    const data = png.subarray(pos + 8, pos + 8 + len);
    if (zlib.crc32(png.subarray(pos + 4, pos + 8 + len)) !== png.readUInt32BE(pos + 8 + len)) throw new Error(`bad CRC in ${type}`);
    if (type === 'IHDR') Object.assign(info, { width: data.readUInt32BE(0), height: data.readUInt32BE(4), bitDepth: data[8], colourType: data[9] });
    if (type === 'tEXt') {
      const sep = data.indexOf(0);
      info.text[data.toString('latin1', 0, sep)] = data.toString('latin1', sep + 1);
    }
    if (type === 'iTXt') {
      const sep = data.indexOf(0);
      const textStart = data.indexOf(0, data.indexOf(0, sep + 3) + 1) + 1;
      info.text[data.toString('latin1', 0, sep)] = data.toString('utf8', textStart);
    }
    pos += 12 + len;
  }
  return info;
}
