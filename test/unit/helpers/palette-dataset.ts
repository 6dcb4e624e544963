import sharp from 'sharp';
import type { TrainingImage } from '../../../src/gpu-worker/training/types';
import { decodePng } from './png-decode';

/** The dataset's palette: deep teal to hot orange, far from what the tiny model draws on its own. */
export const PALETTE = [[16, 96, 112], [232, 120, 40]];

const CAPTIONS = [
  'a castle on a hill', 'a forest at dawn', 'a city skyline', 'a boat on the sea',
  'a mountain valley', 'a garden with flowers', 'a portrait of a cat', 'an abstract pattern',
];

/**
 * Eight smooth two-colour images in the palette (gradients at different
 * angles and bands), PNG-encoded, with captions: a training set whose only
 * shared trait is its colours.
 */
export async function paletteDataset(size = 64): Promise<TrainingImage[]> {
  const images: TrainingImage[] = [];
  for (let k = 0; k < CAPTIONS.length; k++) {
    const angle = (k / CAPTIONS.length) * Math.PI * 2;
    const bands = 0.5 + (k % 3) * 0.5;
    const raw = Buffer.alloc(size * size * 3);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const u = ((x / size - 0.5) * Math.cos(angle) + (y / size - 0.5) * Math.sin(angle)) * bands * Math.PI * 2;
        const mix = 0.5 + 0.5 * Math.sin(u);
        for (let c = 0; c < 3; c++) raw[(y * size + x) * 3 + c] = Math.round(PALETTE[0][c] * (1 - mix) + PALETTE[1][c] * mix);
      }
    }
    images.push({ bytes: await sharp(raw, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer(), caption: CAPTIONS[k] });
  }
  return images;
}

/** The mean RGB of a PNG. */
export function meanColour(png: Buffer): number[] {
  const { rgb } = decodePng(png);
  const sum = [0, 0, 0];
  for (let i = 0; i < rgb.length; i++) sum[i % 3] += rgb[i];
  return sum.map((s) => s / (rgb.length / 3));
}

/** Mean over pixels of the distance (0–255 RGB) to the nearest colour on the palette's line. */
export function paletteDistance(png: Buffer): number {
  const { rgb } = decodePng(png);
  const [a, b] = PALETTE;
  const d = [0, 1, 2].map((c) => b[c] - a[c]);
  const dd = d.reduce((s, v) => s + v * v, 0);
  let total = 0;
  for (let i = 0; i < rgb.length; i += 3) {
    const p = [rgb[i] - a[0], rgb[i + 1] - a[1], rgb[i + 2] - a[2]];
    const t = Math.min(1, Math.max(0, (p[0] * d[0] + p[1] * d[1] + p[2] * d[2]) / dd));
    total += Math.hypot(p[0] - t * d[0], p[1] - t * d[1], p[2] - t * d[2]);
  }
  return total / (rgb.length / 3);
}

export function distance(a: number[], b: number[]): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}
