import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TrainingError, type TrainingImage } from './types';

/**
 * The dataset layout kohya_ss sd-scripts reads (its DreamBooth-style
 * folders): `<train_data_dir>/<repeats>_<concept>/<name>.<png|jpg|webp>`,
 * each image's caption in `<name>.txt` beside it (`--caption_extension .txt`).
 * Every image of a folder is seen `repeats` times per epoch.
 */

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp']);
const FOLDER = /^(\d+)_(.+)$/;

/** The file extension matching an image's magic bytes (the bytes decide, not a name). */
function extensionOf(bytes: Buffer): string {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return '.png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return '.jpg';
  if (bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return '.webp';
  return '.png';
}

/** Writes `images` as `<dir>/<repeats>_<concept>/0000.png` + `0000.txt`, …; returns the folder written. */
export async function writeKohyaDataset(dir: string, images: TrainingImage[], options: { repeats?: number; concept?: string } = {}): Promise<string> {
  const folder = path.join(dir, `${options.repeats ?? 1}_${options.concept ?? 'atelier'}`);
  await mkdir(folder, { recursive: true });
  for (const [i, image] of images.entries()) {
    const bytes = image.bytes ?? await readFile(image.path as string);
    const name = String(i).padStart(4, '0');
    await writeFile(path.join(folder, `${name}${extensionOf(bytes)}`), bytes);
    await writeFile(path.join(folder, `${name}.txt`), image.caption);
  }
  return folder;
}

async function captionOf(file: string, concept: string): Promise<string> {
  const stem = file.slice(0, -path.extname(file).length);
  for (const ext of ['.txt', '.caption']) {
    try {
      return (await readFile(stem + ext, 'utf8')).trim();
    } catch {
      // kohya falls back to the folder's concept name when an image has no caption file.
    }
  }
  return concept;
}

/** Reads a kohya dataset folder; each image appears `repeats` times, in a stable order (folders, then names). */
export async function readKohyaDataset(trainDataDir: string): Promise<TrainingImage[]> {
  let folders: string[];
  try {
    folders = (await readdir(trainDataDir, { withFileTypes: true })).filter((d) => d.isDirectory() && FOLDER.test(d.name)).map((d) => d.name).sort();
  } catch {
    throw new TrainingError('INVALID_SPEC', `train_data_dir ${trainDataDir} is not a readable folder`, 'train_data_dir');
  }
  const images: TrainingImage[] = [];
  for (const folder of folders) {
    const [, repeats, concept] = FOLDER.exec(folder) as RegExpExecArray;
    const files = (await readdir(path.join(trainDataDir, folder))).filter((f) => IMAGE_EXTENSIONS.has(path.extname(f).toLowerCase())).sort();
    for (const file of files) {
      const full = path.join(trainDataDir, folder, file);
      const caption = await captionOf(full, concept);
      for (let r = 0; r < Number(repeats); r++) images.push({ path: full, caption });
    }
  }
  if (images.length === 0) {
    throw new TrainingError('INVALID_SPEC', `train_data_dir ${trainDataDir} holds no <repeats>_<concept> folder with images`, 'train_data_dir');
  }
  return images;
}
