import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { AppError, ErrorCode } from '../../kernel/errors';
import { sha256 } from '../../kernel/hashing';
import type { ArtifactStore } from '../../storage/artifact-store';
import { digestFiles, exportPaths, refused, writeLines, type FileEntry, type Manifest, type TableSummary } from './manifest';
import { appliedMigrations, dataTables, digestLines, dumpTable, storedKeys, useUtc } from './table-rows';

export interface ExportSource {
  db: DataSource;
  store: ArtifactStore;
  /** For the manifest: which database and store, without secrets. */
  describe: { database: string; storage: string };
}

/**
 * Writes a whole installation into `dir` (which must be empty or absent):
 * every table's rows and every stored file the rows point at, read in one
 * REPEATABLE READ transaction so they agree with each other, plus the
 * manifest of counts and checksums `importInstallation` verifies.
 */
export async function exportInstallation(source: ExportSource, dir: string): Promise<Manifest> {
  const existing = await readdir(dir).catch(() => []);
  if (existing.length > 0) throw new AppError(ErrorCode.BAD_USER_INPUT, `${dir} is not empty; export into a new directory`, { field: 'dir' });
  const paths = exportPaths(dir);
  const manifest = await source.db.transaction('REPEATABLE READ', async (m) => {
    await useUtc(m);
    const tables: TableSummary[] = [];
    for (const name of await dataTables(m)) {
      const lines = await dumpTable(m, name);
      await writeLines(paths.table(name), lines);
      tables.push({ name, rows: lines.length, sha256: digestLines(lines) });
    }
    const entries = await copyFiles(source.store, await storedKeys(m), paths.file);
    const files = { count: entries.length, bytes: entries.reduce((sum, e) => sum + e.bytes, 0), sha256: digestFiles(entries), entries };
    return { format: 'atelier-export', version: 1, exportedAt: new Date().toISOString(), source: source.describe, migrations: await appliedMigrations(m), tables, files } satisfies Manifest;
  });
  await writeFile(paths.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Copies each stored file into the export; a row whose file is gone fails the export (it would not be complete). */
async function copyFiles(store: ArtifactStore, keys: string[], target: (key: string) => string): Promise<FileEntry[]> {
  const entries: FileEntry[] = [];
  for (const key of keys) {
    const data = await store.get(key);
    if (!data) throw refused(`the stored file ${key} that a row points at is missing; the export would be incomplete`);
    await mkdir(path.dirname(target(key)), { recursive: true });
    await writeFile(target(key), data);
    entries.push({ key, bytes: data.length, sha256: sha256(data) });
  }
  return entries;
}
