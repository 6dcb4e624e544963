import sharp, { type OutputInfo } from 'sharp';
import { badInput } from '../kernel/errors';
import { checkPromptLength } from '../kernel/generation-parameters';
import { sha256 } from '../kernel/hashing';
import { throwIfViolated } from './generation-input';

/** What a training image may be (docs/training.md, "Limits"). */
export const DATASET_IMAGE_LIMITS = {
  maxBytes: 20 * 1024 * 1024,
  minSide: 32,
  maxSide: 4096,
  captionChars: 1000,
} as const;

export type DatasetImageFormat = 'png' | 'jpeg' | 'webp';

/** A training image that passed every check, ready to store. */
export interface CheckedImage {
  bytes: Buffer;
  format: DatasetImageFormat;
  width: number;
  height: number;
  sha256: string;
}

/** The format by the file's first bytes, never its name or declared type. */
export function sniffImageFormat(bytes: Buffer): DatasetImageFormat | null {
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  return null;
}

/**
 * Checks an uploaded training image by content: magic bytes, then a full
 * decode by sharp (a truncated or forged file fails here), then its size and
 * dimensions. Refusals are BAD_USER_INPUT on `field`.
 */
export async function checkDatasetImage(bytes: Buffer, field: string): Promise<CheckedImage> {
  const L = DATASET_IMAGE_LIMITS;
  if (bytes.length > L.maxBytes) throw badInput(field, `Training images are limited to ${L.maxBytes / 1024 / 1024} MB`);
  const format = sniffImageFormat(bytes);
  if (!format) throw badInput(field, 'Not a PNG, JPEG or WebP image');
  let info: OutputInfo;
  try {
    // Pixel limit first, so a small file that declares a huge image is refused before it is decoded.
    ({ info } = await sharp(bytes, { limitInputPixels: L.maxSide * L.maxSide, failOn: 'error' }).raw().toBuffer({ resolveWithObject: true }));
  } catch (error) {
    throw badInput(field, `The ${format.toUpperCase()} image cannot be decoded: ${(error as Error).message}`);
  }
  const { width, height } = info;
  if (width < L.minSide || height < L.minSide || width > L.maxSide || height > L.maxSide) {
    throw badInput(field, `Training images must be ${L.minSide} to ${L.maxSide} pixels on each side (this one is ${width}x${height})`);
  }
  return { bytes, format, width, height, sha256: sha256(bytes) };
}

/**
 * Training text (a caption, a sample prompt, a dataset or LoRA name), trimmed
 * and bounded: `min` to `max` characters counted as prompts are (Unicode code
 * points: an emoji is one), and half of a surrogate pair refused, each
 * BAD_USER_INPUT on `field` (docs/training.md, "Limits").
 */
export function trainingText(value: string | null | undefined, field: string, max: number, min = 0): string {
  const text = (value ?? '').trim();
  if (text.length < min) throw badInput(field, `${field} must be ${min} to ${max} characters`);
  throwIfViolated(checkPromptLength(field, text, max));
  return text;
}

/** A caption, trimmed and bounded (may be empty). */
export function cleanCaption(caption: string | null | undefined, field: string): string {
  return trainingText(caption, field, DATASET_IMAGE_LIMITS.captionChars);
}
