import { copyFile, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import path from 'node:path';
import { assertSafeKey, type ArtifactStore, type LocalFile } from './artifact-store';

/** Files under a root directory; writes are atomic (temp file + rename). */
export class LocalArtifactStore implements ArtifactStore {
  constructor(private readonly root: string) {}

  localPathOf(key: string): string {
    return this.pathOf(key);
  }

  private pathOf(key: string): string {
    const full = path.resolve(this.root, assertSafeKey(key));
    if (!full.startsWith(path.resolve(this.root) + path.sep)) throw new Error('unsafe storage key');
    return full;
  }

  async put(key: string, data: Buffer): Promise<void> {
    await this.writeAtomically(key, (temp) => writeFile(temp, data));
  }

  /** The kernel copies the file; none of it passes through this process's memory. */
  async putFile(key: string, file: LocalFile): Promise<void> {
    await this.writeAtomically(key, (temp) => copyFile(file.path, temp));
  }

  private async writeAtomically(key: string, write: (temp: string) => Promise<void>): Promise<void> {
    const file = this.pathOf(key);
    await mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
    try {
      await write(temp);
      await rename(temp, file);
    } catch (error) {
      // Only a failed write leaves a temp file behind (a renamed one is gone).
      await rm(temp, { force: true });
      throw error;
    }
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /** Opened first, so a missing file is null here rather than an error on the stream's first read. */
  async openRead(key: string): Promise<Readable | null> {
    try {
      return (await open(this.pathOf(key), 'r')).createReadStream();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    return stat(this.pathOf(key)).then(() => true, () => false);
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }
}
