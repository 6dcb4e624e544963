import sharp from 'sharp';
import { gqlData } from './graphql';

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
export async function uploadBytes(url: string, token: string, bytes: Buffer): Promise<string> {
  // A copy on its own ArrayBuffer: the DOM library's fetch (tsconfig.e2e.json) takes no view that may be shared.
  const res = await fetch(`${url}/uploads`, { method: 'POST', body: new Uint8Array(bytes), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' } });
  if (res.status !== 201) throw new Error(`upload refused: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { uploadId: string }).uploadId;
}

/** A dataset of `count` images of one colour (each with its own noise), uploaded and captioned; returns its id. */
export async function paletteDataset(
  url: string, token: string, o: { name: string; rgb: [number, number, number]; caption: string; count?: number },
): Promise<string> {
  const ds = (await gqlData<{ createDataset: { id: string } }>(url, 'mutation($n:String!){ createDataset(input:{ name:$n }){ id } }', { n: o.name }, token)).createDataset;
  const images = [];
  for (let i = 0; i < (o.count ?? 4); i += 1) images.push({ uploadId: await uploadBytes(url, token, await paletteImage('png', o.rgb, 64, i + 1)), caption: o.caption });
  await gqlData(url, 'mutation($d:ID!,$im:[DatasetImageInput!]!){ addDatasetImages(datasetId:$d, images:$im){ id } }', { d: ds.id, im: images }, token);
  return ds.id;
}
