import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDataSource, type DatabaseOptions } from '../../src/database/data-source';
import { MIGRATIONS } from '../../src/entities/migrations';
import { ModelNamesIgnoreCase1796159500000 } from '../../src/entities/migrations/1796159500000-ModelNamesIgnoreCase';
import { createScratchDatabase } from '../support/app';

/*
 * The migration that makes model names unique regardless of case
 * (docs/backends.md, "Registering models"), on both databases Atelier runs on:
 * it refuses, naming them, rows that differ only in case rather than rename
 * one, replaces the index once they are renamed, and leaves nothing for
 * `npm run migration:generate` to find about the models' indexes.
 */

const serverUrl = inject('sharedDatabaseUrl');
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const BEFORE = MIGRATIONS.filter((m) => m !== ModelNamesIgnoreCase1796159500000);

/** A data source on `options` that knows only `migrations`. */
const openWith = async (options: DatabaseOptions, migrations: Function[]): Promise<DataSource> =>
  new DataSource({ ...createDataSource(options).options, migrations }).initialize();

const insertModel = (db: DataSource, name: string) =>
  db.query(`INSERT INTO models (id, name, sha256, bytes) VALUES ($1, $2, 'x', 0)`, [randomUUID(), name]);

async function checkMigration(options: DatabaseOptions): Promise<void> {
  const earlier = await openWith(options, BEFORE);
  try {
    await earlier.runMigrations({ transaction: 'all' });
    for (const name of ['Comfy A', 'comfy a', 'COMFY A', 'Turbo', 'turbo', 'Other']) await insertModel(earlier, name);
  } finally {
    await earlier.destroy();
  }

  const db = await openWith(options, MIGRATIONS);
  try {
    // Refused, naming every collision and how to settle it; nothing renamed, the old index kept.
    const refused = await db.runMigrations({ transaction: 'all' }).catch((error: Error) => error);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toMatch(/^Model names must be unique regardless of case, and these differ only in case: "COMFY A", "Comfy A", "comfy a" \(ids [0-9a-f-]+, [0-9a-f-]+, [0-9a-f-]+\); "Turbo", "turbo" \(ids [0-9a-f-]+, [0-9a-f-]+\)\. Rename all but one of each/);
    const names = async () => (await db.query('SELECT name FROM models ORDER BY name COLLATE "C"')).map((r: { name: string }) => r.name);
    expect(await names()).toEqual(['COMFY A', 'Comfy A', 'Other', 'Turbo', 'comfy a', 'turbo']);
    expect(await db.showMigrations()).toBe(true);

    await db.query(`UPDATE models SET name = name || ' 2' WHERE name IN ('comfy a', 'turbo')`);
    await db.query(`UPDATE models SET name = 'Comfy A 3' WHERE name = 'COMFY A'`);
    await db.runMigrations({ transaction: 'all' });
    expect(await db.showMigrations()).toBe(false);
    await expect(insertModel(db, 'OTHER')).rejects.toMatchObject({ driverError: { code: '23505' } });
    await insertModel(db, 'Other one');

    const drift = await db.driver.createSchemaBuilder().log();
    expect(drift.upQueries.map((q) => q.query).filter((q) => /INDEX/i.test(q) && /models/.test(q))).toEqual([]);

    // Down: the case-sensitive index again.
    await db.undoLastMigration({ transaction: 'all' });
    await insertModel(db, 'OTHER');
  } finally {
    await db.destroy();
  }
}

describe('model names unique regardless of case: the migration', () => {
  it('on PostgreSQL: refuses rows that differ only in case, naming them; replaces the index once they are renamed', async () => {
    if (!serverUrl) throw new Error('No PostgreSQL server: set DATABASE_URL or install PostgreSQL (apt-get install postgresql)');
    const scratch = await createScratchDatabase(serverUrl);
    cleanups.push(scratch.drop);
    await checkMigration({ url: scratch.url, poolSize: 2 });
  });

  it('on the embedded database (PGlite): the same', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'atelier-model-names-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    await checkMigration({ pgliteDir: path.join(dir, 'pglite') });
  });
});
