import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDataSource, type DatabaseOptions } from '../../src/database/data-source';
import { MIGRATIONS } from '../../src/entities/migrations';
import { LoraVisibility1796177461346 } from '../../src/entities/migrations/1796177461346-LoraVisibility';
import { createScratchDatabase } from '../support/app';

/*
 * The migration that gives LoRAs a visibility (docs/security.md, "Private
 * LoRAs") keeps every LoRA that existed PUBLIC, as it was, while rows written
 * afterwards without one are PRIVATE; and it leaves nothing about the column
 * for `npm run migration:generate` to find.
 */

const serverUrl = inject('sharedDatabaseUrl');
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const BEFORE = MIGRATIONS.slice(0, MIGRATIONS.indexOf(LoraVisibility1796177461346));

const openWith = async (options: DatabaseOptions, migrations: Function[]): Promise<DataSource> =>
  new DataSource({ ...createDataSource(options).options, migrations }).initialize();

/** A LoRA row as the columns before the migration know it; returns its id. */
async function insertLora(db: DataSource, ownerId: string, modelId: string, name: string): Promise<string> {
  const id = randomUUID();
  await db.query(`INSERT INTO loras (id, owner_id, name, base_model_id, storage_key, sha256) VALUES ($1, $2, $3, $4, 'loras/x.safetensors', 'x')`, [id, ownerId, name, modelId]);
  return id;
}

async function checkMigration(options: DatabaseOptions): Promise<void> {
  const ownerId = randomUUID();
  const modelId = randomUUID();
  const earlier = await openWith(options, BEFORE);
  let existing: string[];
  try {
    await earlier.runMigrations({ transaction: 'all' });
    await earlier.query(`INSERT INTO users (id, email, password_hash) VALUES ($1, 'old@example.com', 'x')`, [ownerId]);
    await earlier.query(`INSERT INTO models (id, name, sha256, bytes) VALUES ($1, 'old model', 'x', 0)`, [modelId]);
    existing = [await insertLora(earlier, ownerId, modelId, 'uploaded'), await insertLora(earlier, ownerId, modelId, 'trained')];
    await earlier.query(`UPDATE loras SET active = false WHERE name = 'trained'`);
  } finally {
    await earlier.destroy();
  }

  const db = await openWith(options, MIGRATIONS);
  try {
    await db.runMigrations({ transaction: 'all' });
    const visibility = async (id: string) => (await db.query('SELECT visibility FROM loras WHERE id = $1', [id]))[0].visibility;
    expect(await Promise.all(existing.map(visibility))).toEqual(['PUBLIC', 'PUBLIC']);
    // Written from now on without a visibility: private.
    expect(await visibility(await insertLora(db, ownerId, modelId, 'new'))).toBe('PRIVATE');

    const drift = await db.driver.createSchemaBuilder().log();
    expect(drift.upQueries.map((q) => q.query).filter((q) => /TABLE "loras"|lora_visibility/.test(q))).toEqual([]);

    // Undone, with every migration after it (newest first): the column is gone.
    for (let n = MIGRATIONS.length - BEFORE.length; n > 0; n -= 1) await db.undoLastMigration({ transaction: 'all' });
    expect((await db.query(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'loras' AND column_name = 'visibility'`))[0].n).toBe(0);
  } finally {
    await db.destroy();
  }
}

describe('LoRA visibility: the migration', () => {
  it('on PostgreSQL: LoRAs that existed stay PUBLIC; new rows default to PRIVATE; undone, the column is gone', async () => {
    if (!serverUrl) throw new Error('No PostgreSQL server: set DATABASE_URL or install PostgreSQL (apt-get install postgresql)');
    const scratch = await createScratchDatabase(serverUrl);
    cleanups.push(scratch.drop);
    await checkMigration({ url: scratch.url, poolSize: 2 });
  });

  it('on the embedded database (PGlite): the same', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'atelier-lora-visibility-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    await checkMigration({ pgliteDir: path.join(dir, 'pglite') });
  });
});
