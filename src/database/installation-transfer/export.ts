import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { AppError, ErrorCode } from '../../kernel/errors';
import type { ArtifactStore } from '../../storage/artifact-store';
import { isModelInStore, modelFileKey } from '../../storage/model-folders';
import { copyStoredFile } from '../../storage/stored-files';
import { digestFiles, exportPaths, refused, writeLines, type FileEntry, type Manifest, type TableSummary } from './manifest';
import { appliedMigrations, dataTables, digestLines, dumpTable, modelFilePaths, storedKeys, useUtc, type Query } from './table-rows';

export interface ExportSource {
  db: DataSource;
  store: ArtifactStore;
  /** For the manifest: which database and store, without secrets. */
  describe: { database: string; storage: string };
}

/**
 * Writes a whole installation into `dir` (which must be empty or absent):
 * every table's rows and every stored file the rows point at (with the files
 * of the models `atelier models push` put in the store), read in one
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
    const keys = [...new Set([...await storedKeys(m), ...await pushedModelKeys(m, source.store)])].sort();
    const entries = await copyFiles(source.store, keys, paths.file);
    const files = { count: entries.length, bytes: entries.reduce((sum, e) => sum + e.bytes, 0), sha256: digestFiles(entries), entries };
    return { format: 'atelier-export', version: 1, exportedAt: new Date().toISOString(), source: source.describe, migrations: await appliedMigrations(m), tables, files } satisfies Manifest;
  });
  await writeFile(paths.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/**
 * The store keys of the models `atelier models push` uploaded (`models/<name>/<path>`, every file the row
 * records). A model counts as pushed when the store holds its `model_index.json`, which a push writes last;
 * models only in the models folder (the bundled one, folders registered by path) are not in the store and
 * stay behind with that folder. Only folder models (ONNX, no `path`: modelFilePaths) are looked for, and
 * `isModelInStore` answers false for a name no push accepts (`My Model` has no store key).
 */
async function pushedModelKeys(q: Query, store: ArtifactStore): Promise<string[]> {
  const byModel = new Map<string, string[]>();
  for (const { name, path: file } of await modelFilePaths(q)) byModel.set(name, [...byModel.get(name) ?? [], file]);
  const keys: string[] = [];
  for (const [name, files] of byModel) {
    if (await isModelInStore(store, name)) keys.push(...files.map((file) => modelFileKey(name, file)));
  }
  return keys;
}

/**
 * Copies each stored file into the export as a stream, hashed on the way (storage/stored-files.ts); a row
 * whose file is gone fails the export (it would not be complete).
 */
async function copyFiles(store: ArtifactStore, keys: string[], target: (key: string) => string): Promise<FileEntry[]> {
  const entries: FileEntry[] = [];
  for (const key of keys) {
    await mkdir(path.dirname(target(key)), { recursive: true });
    const facts = await copyStoredFile(store, key, target(key));
    if (!facts) throw refused(`the stored file ${key} that a row points at is missing; the export would be incomplete`);
    entries.push({ key, ...facts });
  }
  return entries;
}
