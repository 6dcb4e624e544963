import type { DataSource } from 'typeorm';
import type { ArtifactStore } from '../../storage/artifact-store';
import { storedSha256 } from '../../storage/stored-files';
import { digestFiles, readManifest, readVerifiedTable, refused, verifiedFile, type FileEntry, type Manifest } from './manifest';
import { appliedMigrations, dataTables, digestLines, dumpTable, nonEmptyTables, restoreTable, useUtc } from './table-rows';

export interface ImportTarget {
  /** Opened and migrated to the same release as the export's source. */
  db: DataSource;
  store: ArtifactStore;
}

/**
 * Loads an export into an empty installation, or changes nothing. Everything
 * is checked before anything is written (manifest, every table's count and
 * checksum, every file's checksum, same migrations, empty target); the files
 * go into the store first, then every row in one transaction, which reads
 * each table back and commits only when its count and checksum match the
 * manifest. A failure rolls the rows back and removes the files it added.
 */
export async function importInstallation(target: ImportTarget, dir: string): Promise<Manifest> {
  const manifest = await readManifest(dir);
  const tables = new Map<string, string[]>();
  for (const table of manifest.tables) tables.set(table.name, await readVerifiedTable(dir, table));
  if (digestFiles(manifest.files.entries) !== manifest.files.sha256) throw refused('the manifest\'s file list does not match its checksum');
  await assertCompatible(target.db, manifest);

  const added: string[] = [];
  try {
    for (const entry of storeOrder(manifest.files.entries)) {
      const file = await verifiedFile(dir, entry);
      const present = await storedSha256(target.store, entry.key);
      if (present === entry.sha256) continue;
      if (present) throw refused(`the target store already holds a different ${entry.key}`);
      const contentType = entry.key.endsWith('.png') ? 'image/png' : 'application/octet-stream';
      await target.store.putFile(entry.key, { path: file, bytes: entry.bytes, sha256: entry.sha256, contentType });
      added.push(entry.key);
    }
    await target.db.transaction(async (m) => {
      await useUtc(m);
      for (const table of manifest.tables) await restoreTable(m, table.name, tables.get(table.name)!);
      for (const table of manifest.tables) {
        const lines = await dumpTable(m, table.name);
        if (lines.length !== table.rows || digestLines(lines) !== table.sha256) {
          throw refused(`${table.name} reads back as ${lines.length} rows with another checksum than the export's ${table.rows}; nothing was imported`);
        }
      }
    });
  } catch (error) {
    for (const key of added) await target.store.delete(key).catch(() => undefined);
    throw error;
  }
  return manifest;
}

/**
 * The manifest's files with each pushed model's `model_index.json` last, as `atelier models push` writes
 * them: a store that holds a model's index holds the whole folder (storage/model-folders.ts).
 */
function storeOrder(entries: FileEntry[]): FileEntry[] {
  const isIndex = (entry: FileEntry) => entry.key.startsWith('models/') && entry.key.endsWith('/model_index.json');
  return [...entries.filter((entry) => !isIndex(entry)), ...entries.filter(isIndex)];
}

/** Same release (migrations), same tables, and nothing in them yet. */
async function assertCompatible(db: DataSource, manifest: Manifest): Promise<void> {
  const migrations = await appliedMigrations(db);
  if (migrations.join() !== manifest.migrations.join()) {
    throw refused(`the export was made at migration ${manifest.migrations.at(-1)}, this installation is at ${migrations.at(-1)}: use the same Atelier release on both sides`);
  }
  const tables = await dataTables(db);
  const exported = manifest.tables.map((table) => table.name);
  if ([...tables].sort().join() !== [...exported].sort().join()) throw refused('the export\'s tables differ from this installation\'s');
  const occupied = await nonEmptyTables(db, tables);
  if (occupied.length > 0) throw refused(`the target installation is not empty (${occupied.join(', ')}); import into a fresh database`);
}
