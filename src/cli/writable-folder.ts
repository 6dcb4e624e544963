import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** Where and why files cannot be made under a folder: `at` is the path in the way, `why` says what is wrong with it. */
export interface FolderObstacle {
  at: string;
  why: string;
}

/**
 * Whether files can be written under `dir` once the folders missing on its
 * path are made: the nearest path that exists (`dir` itself, or the closest
 * folder above it) must be a folder this user can write into. Null when so,
 * else the path in the way and why (a file where a folder goes, no write
 * permission). Used before anything is sent or opened: `generate --out`,
 * `export <dir>`, the config folder `login` writes.
 */
export function folderObstacle(dir: string): FolderObstacle | null {
  for (let probe = path.resolve(dir); ; probe = path.dirname(probe)) {
    let info;
    try {
      info = statSync(probe);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Not there (or a file above it, found on the way up): the folder would be made; look further up.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return { at: probe, why: code === 'EACCES' || code === 'EPERM' ? 'not accessible (permission denied)' : `not usable (${code ?? String(error)})` };
      if (path.dirname(probe) === probe) return null;
      continue;
    }
    if (!info.isDirectory()) return { at: probe, why: 'not a folder' };
    try {
      accessSync(probe, constants.W_OK | constants.X_OK);
    } catch {
      return { at: probe, why: 'not writable' };
    }
    return null;
  }
}
