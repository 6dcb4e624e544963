import sharp from 'sharp';

/** A solid-colour test image of `format`, `size` pixels a side, with a little noise so encoders keep detail. */
export async function paletteImage(format: 'png' | 'jpeg' | 'webp', rgb: [number, number, number], size = 64, seed = 1): Promise<Buffer> {
  const pixels = Buffer.alloc(size * size * 3);
  let state = seed;
  for (let i = 0; i < pixels.length; i += 1) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    pixels[i] = Math.max(0, Math.min(255, rgb[i % 3] + ((state >> 16) % 21) - 10));
  }
  return sharp(pixels, { raw: { width: size, height: size, channels: 3 } }).toFormat(format).toBuffer();
}

/** POSTs bytes to /uploads; returns the upload id (throws on refusal). */
export async function uploadBytes(url: string, token: string, body: Buffer): Promise<string> {
  const res = await fetch(`${url}/uploads`, { method: 'POST', body, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' } });
  if (res.status !== 201) throw new Error(`upload refused: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { uploadId: string }).uploadId;
}
