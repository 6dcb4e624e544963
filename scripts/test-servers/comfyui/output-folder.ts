import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SavedImage } from './nodes';

/**
 * ComfyUI's output and temp directories: SaveImage names files
 * `<prefix>_<counter:05>_.png` (a prefix with slashes names a subfolder), the
 * counter continuing from the highest file already there, and GET /view
 * reads them back with ComfyUI's path checks.
 */
export class OutputFolder {
  private readonly counters = new Map<string, number>();

  constructor(readonly root: string) {}

  async save(pngs: Buffer[], prefix: string, type: SavedImage['type']): Promise<SavedImage[]> {
    const subfolder = path.posix.dirname(prefix) === '.' ? '' : path.posix.dirname(prefix);
    const name = path.posix.basename(prefix);
    const dir = this.dirOf(type, subfolder);
    if (!dir) throw new Error(`Saving image outside the ${type} folder is not allowed.`);
    await mkdir(dir, { recursive: true });
    const saved: SavedImage[] = [];
    for (const png of pngs) {
      const counter = await this.next(dir, name);
      const filename = `${name}_${String(counter).padStart(5, '0')}_.png`;
      await writeFile(path.join(dir, filename), png);
      saved.push({ filename, subfolder, type });
    }
    return saved;
  }

  /**
   * The bytes GET /view serves, or the status ComfyUI answers: 400 for an
   * absolute or `..` filename or an unknown type, 403 for a subfolder outside
   * the folder, 404 for no such file.
   */
  async read(filename: string, subfolder: string, type: string): Promise<Buffer | 400 | 403 | 404> {
    if (!filename || filename.startsWith('/') || filename.includes('..')) return 400;
    if (type !== 'output' && type !== 'temp' && type !== 'input') return 400;
    const dir = this.dirOf(type, subfolder);
    if (!dir) return 403;
    try {
      return await readFile(path.join(dir, path.basename(filename)));
    } catch {
      return 404;
    }
  }

  private dirOf(type: string, subfolder: string): string | null {
    const base = path.join(this.root, type);
    const dir = path.resolve(base, subfolder);
    return dir === base || dir.startsWith(base + path.sep) ? dir : null;
  }

  private async next(dir: string, name: string): Promise<number> {
    const key = path.join(dir, name);
    let counter = this.counters.get(key);
    if (counter === undefined) {
      const pattern = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}_(\\d{5,})_`);
      const existing = (await readdir(dir)).map((f) => Number(pattern.exec(f)?.[1] ?? 0));
      counter = Math.max(0, ...existing);
    }
    this.counters.set(key, counter + 1);
    return counter + 1;
  }
}
