import 'reflect-metadata';
import path from 'node:path';
import { loadConfig } from '../config';
import { configuredDatabase, openDatabase } from '../database/data-source';
import { lockDataFolder } from '../database/data-folder-lock';
import { exportInstallation } from '../database/installation-transfer/export';
import { importInstallation } from '../database/installation-transfer/import';
import { readManifest, type Manifest } from '../database/installation-transfer/manifest';
import { findAppError } from '../kernel/errors';
import { createArtifactStorage } from '../storage/create-store';
import { CliError } from './cli-error';
import type { GlobalOptions } from './options';
import { outputOf, printJson, printTable } from './output';

/** Opens this installation as the environment configures it, runs the export or import, prints counts and checksums. */
export async function runTransfer(direction: 'export' | 'import', dir: string, opts: GlobalOptions): Promise<void> {
  // An import's folder is checked before the installation is opened, which makes its data folder.
  if (direction === 'import') await readManifest(path.resolve(dir)).catch((error: unknown) => {
    throw cliErrorOf(error);
  });
  const config = loadConfig(process.env);
  // On the embedded database, the service must be stopped: an export beside it would copy what it had not
  // flushed yet, an import would write under it (docs/operations.md, "One process per data folder").
  const unlock = config.databaseUrl ? null : await lockDataFolder(config.dataDir, { onWait: (m) => console.error(m) });
  const db = await openDatabase(configuredDatabase(config)).catch(async (error: unknown) => {
    await unlock?.();
    throw error;
  });
  const storage = createArtifactStorage(config.storage, config.dataDir);
  const target = path.resolve(dir);
  try {
    const manifest = direction === 'export'
      ? await exportInstallation({ db, store: storage.store, describe: { database: config.databaseUrl ? 'postgresql' : 'pglite', storage: storage.describe } }, target)
      : await importInstallation({ db, store: storage.store }, target);
    report(direction, target, manifest, outputOf(opts).json);
  } catch (error) {
    throw cliErrorOf(error);
  } finally {
    await db.destroy();
    await unlock?.();
  }
}

function cliErrorOf(error: unknown): unknown {
  const known = findAppError(error);
  return known ? new CliError(known.code, known.message, typeof known.extensions.field === 'string' ? known.extensions.field : null) : error;
}

function report(direction: 'export' | 'import', dir: string, manifest: Manifest, json: boolean): void {
  const { tables, files } = manifest;
  if (json) return printJson({ [direction === 'export' ? 'exported' : 'imported']: dir, tables, files: { count: files.count, bytes: files.bytes, sha256: files.sha256 } });
  console.log(`${direction === 'export' ? 'exported to' : 'imported from'} ${dir} (verified: counts and SHA-256 match)`);
  printTable(['TABLE', 'ROWS', 'SHA-256'], tables.map((table) => [table.name, String(table.rows), table.sha256]));
  console.log(`files: ${files.count} (${files.bytes} bytes), SHA-256 ${files.sha256}`);
}
