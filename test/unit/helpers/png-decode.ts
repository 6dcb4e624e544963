import zlib from 'node:zlib';

/** Decoded 8-bit RGB pixels. */
export interface RgbImage { width: number; height: number; rgb: Uint8Array }

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Decodes a non-interlaced 8-bit truecolour PNG (all five filter types). Test use only. */
export function decodePng(png: Buffer): RgbImage {
  let pos = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (pos < png.length) {
    const len = png.readUInt32BE(pos);
    const type = png.toString('latin1', pos + 4, pos + 8);
    const data = png.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[9] !== 2 || data[12] !== 0) throw new Error('only 8-bit RGB non-interlaced');
    }
    if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * 3;
  const rgb = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i];
      const a = i >= 3 ? rgb[y * stride + i - 3] : 0;
      const b = y > 0 ? rgb[(y - 1) * stride + i] : 0;
      const c = i >= 3 && y > 0 ? rgb[(y - 1) * stride + i - 3] : 0;
      const pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][filter];
      rgb[y * stride + i] = (x + pred) & 0xff;
    }
  }
  return { width, height, rgb };
}

/** Mean absolute difference per channel value between two same-size images (0–255). */
export function meanAbsDiff(a: RgbImage, b: RgbImage): number {
  let sum = 0;
  for (let i = 0; i < a.rgb.length; i++) sum += Math.abs(a.rgb[i] - b.rgb[i]);
  return sum / a.rgb.length;
}

/**
 * Smoothness: mean absolute difference between horizontally neighbouring
 * pixels divided by the mean absolute deviation from the image mean. White
 * noise scores about 1.1; smooth images score far below.
 */
export function roughness(img: RgbImage): number {
  const { width, height, rgb } = img;
  let mean = 0;
  for (const v of rgb) mean += v;
  mean /= rgb.length;
  let dev = 0;
  for (const v of rgb) dev += Math.abs(v - mean);
  dev /= rgb.length;
  let diff = 0;
  let n = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 1; x < width; x++) {
      for (let c = 0; c < 3; c++) diff += Math.abs(rgb[(y * width + x) * 3 + c] - rgb[(y * width + x - 1) * 3 + c]);
      n += 3;
    }
  }
  return diff / n / Math.max(dev, 1e-9);
}
