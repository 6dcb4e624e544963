/**
 * One process at a time on a data folder's embedded parts: PGlite's files
 * (`pglite/`) and the local redis-server's (`redis/`) have no lock of their
 * own, and two processes writing them would corrupt them. Every command that
 * opens them (`all` without DATABASE_URL or REDIS_URL, `migrate`, `seed`,
 * `models push`, `export` and `import` on PGlite) holds `<data dir>/atelier.lock`
 * while it runs (docs/operations.md, "One process per data folder").
 *
 * The lock is proper-lockfile's: a directory made atomically, its mtime
 * refreshed every few seconds while held, removed on exit. A process killed
 * without exiting (SIGKILL, a power cut) leaves it behind; it counts as
 * abandoned once its mtime is older than `STALE_MS`, so a restart after a
 * crash waits at most that long instead of failing. A holder that is alive
 * refreshes it every `REFRESH_MS`: seeing that, the wait ends at once.
 */
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { ConfigError } from '../config';

export const DATA_FOLDER_LOCK = 'atelier.lock';
/** A lock not refreshed for this long was left by a process that died (proper-lockfile's `stale`). */
export const STALE_MS = 10_000;
/** How often a holder refreshes the lock's mtime (proper-lockfile's `update`). */
export const REFRESH_MS = 2_000;
const RETRY_MS = 250;

/** The data folder is held by another live process. */
export class DataFolderInUseError extends ConfigError {
  /** `advice`: what the refused command could do instead, appended to the message. */
  constructor(readonly dataDir: string, advice?: string) {
    super(
      `The data folder ${dataDir} is in use by another Atelier process: its embedded database and Redis open in one `
      + 'process at a time. Stop that process first (an export or import needs the service stopped), or set '
      + `ATELIER_DATA_DIR to another folder.${advice ? ` ${advice}` : ''}`,
    );
  }
}

export interface DataFolderLockOptions {
  /** How long to wait for a lock nobody refreshes: a little past `STALE_MS`, so that a crashed holder's lock lapses. */
  waitMs?: number;
  /** Called once, when the lock is found held and the wait begins. */
  onWait?: (message: string) => void;
  /** What the command could do instead while the folder is in use; added to DataFolderInUseError's message. */
  advice?: string;
  /**
   * The lock was taken from under this process (its folder removed, or another process judged it abandoned).
   * By default the process exits with status 1: writing on beside another writer would corrupt the folder.
   */
  onLost?: (error: Error) => void;
}

/** Takes the data folder's lock, waiting out one a crashed process left; resolves with its release. */
export async function lockDataFolder(dataDir: string, options: DataFolderLockOptions = {}): Promise<() => Promise<void>> {
  const folder = path.resolve(dataDir);
  mkdirSync(folder, { recursive: true });
  const waitMs = options.waitMs ?? STALE_MS + 3_000;
  const lost = options.onLost ?? ((error: Error) => {
    console.error(`atelier: lost the lock on the data folder ${folder} (${error.message}): exiting`);
    process.exit(1);
  });
  const lockPath = path.join(folder, DATA_FOLDER_LOCK);
  const deadline = Date.now() + waitMs;
  let seenMtime: number | null = null;
  for (;;) {
    try {
      return await lockfile.lock(folder, {
        lockfilePath: lockPath, stale: STALE_MS, update: REFRESH_MS, realpath: false, onCompromised: lost,
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
      const mtime = mtimeOf(lockPath);
      // Refreshed since we first saw it: its holder is alive, and waiting would not change that.
      if (seenMtime !== null && mtime !== null && mtime !== seenMtime) throw new DataFolderInUseError(folder, options.advice);
      if (Date.now() + RETRY_MS > deadline) throw new DataFolderInUseError(folder, options.advice);
      if (seenMtime === null) {
        options.onWait?.(`the data folder ${folder} is locked: checking whether the process that holds it is still running `
          + `(a lock left by a process that was killed lapses within ${Math.round(waitMs / 1000)} s)`);
      }
      seenMtime ??= mtime ?? 0;
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
}

function mtimeOf(file: string): number | null {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return null; // released meanwhile: the next attempt takes it
  }
}
