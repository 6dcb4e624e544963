import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ConfigError } from '../../src/config';
import { MigrationRefusedError, createDataSource, openMigrated, type DatabaseOptions } from '../../src/database/data-source';
import { MIGRATIONS } from '../../src/entities/migrations';
import { ModelNamesIgnoreCase1796159500000 } from '../../src/entities/migrations/1796159500000-ModelNamesIgnoreCase';
import { createScratchDatabase, testEnv } from '../support/app';

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

/** A database migrated up to just before ModelNamesIgnoreCase, holding two models whose names differ only in case. */
async function colliding(options: DatabaseOptions): Promise<void> {
  const earlier = await openWith(options, BEFORE);
  try {
    await earlier.runMigrations({ transaction: 'all' });
    for (const name of ['Comfy A', 'comfy a']) await insertModel(earlier, name);
  } finally {
    await earlier.destroy();
  }
}

const CLI = path.join(__dirname, '../../dist/src/cli/main.js');
const MAIN = path.join(__dirname, '../../dist/src/main.js');
const REFUSAL = /^Model names must be unique regardless of case, and these differ only in case: "Comfy A", "comfy a" \(ids [0-9a-f-]+, [0-9a-f-]+\)\. Rename all but one of each/;

/** Runs the built `atelier` CLI (or `node dist/src/main.js`, what `npm start` runs) with exactly this environment. */
function run(script: string, args: string[], env: Record<string, string>) {
  const started = Date.now();
  const result = spawnSync(process.execPath, [script, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, ms: Date.now() - started };
}

describe('the migration\'s refusal, as an operator sees it', () => {
  it('on PostgreSQL: a ConfigError after which the database is closed; `atelier migrate` prints one BAD_USER_INPUT line and exits 2', async () => {
    if (!serverUrl) throw new Error('No PostgreSQL server: set DATABASE_URL or install PostgreSQL (apt-get install postgresql)');
    const scratch = await createScratchDatabase(serverUrl);
    cleanups.push(scratch.drop);
    await colliding({ url: scratch.url, poolSize: 2 });

    const refused = await openMigrated({ url: scratch.url, poolSize: 2 }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(MigrationRefusedError);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toMatch(REFUSAL);
    // Closed again: the pool holds no connection that would keep the process alive (pg's idle timeout is 10 s).
    const admin = new Client({ connectionString: serverUrl });
    await admin.connect();
    try {
      const open = async () => (await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [new URL(scratch.url).pathname.slice(1)])).rows[0].n;
      const deadline = Date.now() + 3000;
      while ((await open()) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await open()).toBe(0);
    } finally {
      await admin.end();
    }

    const env = testEnv({ DATABASE_URL: scratch.url });
    cleanups.push(async () => rmSync(env.ATELIER_DATA_DIR, { recursive: true, force: true }));
    const cli = run(CLI, ['migrate'], env);
    expect(cli.status, cli.stderr).toBe(2);
    expect(cli.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(cli.stderr.replace(/^atelier: BAD_USER_INPUT: /, '')).toMatch(REFUSAL);
    expect(cli.stdout).toBe(''); // said once, on stderr (TypeORM's own "Migration … failed" line is not printed)
    const json = run(CLI, ['--json', 'migrate'], env);
    expect(json.status).toBe(2);
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringMatching(REFUSAL) });
    console.log(`atelier migrate refused in ${cli.ms} ms, --json in ${json.ms} ms`);
  });

  it('on the embedded database: `atelier migrate` and `node dist/src/main.js` (npm start) refuse with exit 2; migrate runs once the names are renamed', async () => {
    const env = testEnv({ REDIS_URL: '' });
    cleanups.push(async () => rmSync(env.ATELIER_DATA_DIR, { recursive: true, force: true }));
    const pgliteDir = path.join(env.ATELIER_DATA_DIR, 'pglite');
    await colliding({ pgliteDir });

    const cli = run(CLI, ['migrate'], env);
    expect(cli.status, cli.stderr).toBe(2);
    expect(cli.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(cli.stderr.replace(/^atelier: BAD_USER_INPUT: /, '')).toMatch(REFUSAL);
    const start = run(MAIN, ['migrate'], env);
    expect(start.status, start.stderr).toBe(2);
    expect(start.stderr.trimEnd().replace(/^atelier: /, '')).toMatch(REFUSAL);

    const db = await openWith({ pgliteDir }, BEFORE);
    try {
      await db.query(`UPDATE models SET name = 'Comfy A 2' WHERE name = 'comfy a'`);
    } finally {
      await db.destroy();
    }
    const migrated = run(CLI, ['migrate'], env);
    expect(migrated.status, migrated.stderr).toBe(0);
    expect(migrated.stdout).toContain('migrations applied');
  });
});
