import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { DataSource, type Logger } from 'typeorm';
import { ConfigError, type AtelierConfig } from '../config';
import { ENTITIES } from '../entities';
import { AppError, ErrorCode } from '../kernel/errors';
import { MIGRATIONS } from '../entities/migrations';
import { guardedClient, type AnswerGuard } from './answer-guard';
import { PGliteLeasePool, pgliteDriverModule, type PGlitePoolOptions } from './pglite-pool';

export interface DatabaseOptions {
  /** PostgreSQL server URL; when absent an embedded PGlite database is used. */
  url?: string;
  /** PGlite data directory; `memory` keeps it in memory (tests). */
  pgliteDir?: string;
  /** Only for throwaway databases: build tables from entities instead of migrations. */
  synchronize?: boolean;
  poolSize?: number;
  /** On a PostgreSQL server, hot statements as named prepared statements (default); false behind a pooler that cannot keep them. */
  preparedStatements?: boolean;
  /**
   * On a PostgreSQL server, how long a connection may wait on it: a statement that hears nothing for this
   * long drops its connection (answer-guard.ts), and so does a connection not made within this long or 10 s,
   * whichever is shorter. Unset or 0: no bound (the command line's own runs).
   */
  answerTimeoutMs?: number;
}

/** The longest a new connection to a PostgreSQL server may take, when the data source is bounded at all. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Each bounded data source's guard: paused while its migrations run (openMigrated). */
const guards = new WeakMap<DataSource, AnswerGuard>();

/** Data sources opened with `preparedStatements: false`. */
const unprepared = new WeakSet<DataSource>();

/** Whether `db` may run named prepared statements: a PostgreSQL server not opened with `preparedStatements: false` (EntityInsert). */
export function preparesStatements(db: DataSource): boolean {
  return db.options.type === 'postgres' && !db.options.driver && !unprepared.has(db);
}

/** The database the configuration names: its server, or PGlite in `pgliteDir` (default: the data dir's `pglite`). */
export function configuredDatabase(
  config: Pick<AtelierConfig, 'databaseUrl' | 'databasePreparedStatements' | 'dataDir'>, pgliteDir = path.join(config.dataDir, 'pglite'),
): DatabaseOptions {
  return { url: config.databaseUrl, preparedStatements: config.databasePreparedStatements, pgliteDir };
}

/**
 * TypeORM's logger, silent. With `logging: false` its console logger still prints a failed migration
 * ("Migration … failed, error: …") on stdout, where `atelier --json migrate` keeps its one JSON document;
 * the error itself reaches the caller, which reports it once.
 */
const SILENT: Logger = { logQuery: () => undefined, logQueryError: () => undefined, logQuerySlow: () => undefined, logSchemaBuild: () => undefined, logMigration: () => undefined, log: () => undefined };

/** Creates (but does not open) the TypeORM data source for Atelier. */
export function createDataSource(options: DatabaseOptions): DataSource {
  const common = {
    type: 'postgres' as const,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: options.synchronize ?? false,
    logging: false,
    logger: SILENT,
  };
  if (options.url) {
    const guard = options.answerTimeoutMs ? { timeoutMs: options.answerTimeoutMs, paused: false } : null;
    const bounds = guard ? { Client: guardedClient(guard), connectionTimeoutMillis: Math.min(guard.timeoutMs, CONNECT_TIMEOUT_MS) } : {};
    const db = new DataSource({ ...common, url: options.url, extra: { max: options.poolSize ?? 10, ...bounds } });
    if (options.preparedStatements === false) unprepared.add(db);
    if (guard) guards.set(db, guard);
    return db;
  }
  const dir = options.pgliteDir === 'memory' ? undefined : options.pgliteDir;
  if (dir) mkdirSync(path.dirname(dir), { recursive: true });
  PGliteLeasePool.configure(dir);
  return new DataSource({ ...common, driver: pgliteDriverModule });
}

/** Opens the database and applies pending migrations. */
export async function openDatabase(options: DatabaseOptions): Promise<DataSource> {
  return (await openMigrated(options)).db;
}

/**
 * A migration that stops until an operator changes the data (ModelNamesIgnoreCase: rename the models whose
 * names differ only in case). A migration refuses with an AppError BAD_USER_INPUT (entities import only the
 * kernel); openMigrated makes it this ConfigError, so `atelier migrate` prints it as one BAD_USER_INPUT line
 * and `npm start` as `atelier: …`, both exiting 2: an operator's step, not a bug. Nothing was applied.
 */
export class MigrationRefusedError extends ConfigError {
  override name = 'MigrationRefusedError';
}

/**
 * Opens the database and applies pending migrations, naming those it applied (`atelier migrate`). When a
 * migration fails or refuses (MigrationRefusedError) the database is closed again before the error goes on:
 * no pool left holding the process open, no embedded database still open once the caller releases the data
 * folder's lock.
 */
export async function openMigrated(options: DatabaseOptions): Promise<{ db: DataSource; applied: string[] }> {
  const db = createDataSource(options);
  await db.initialize();
  const guard = guards.get(db);
  try {
    // A migration may rewrite a large table in one statement: the answer bound starts once they are applied.
    if (guard) guard.paused = true;
    const applied = await db.runMigrations({ transaction: 'all' });
    return { db, applied: applied.map((migration) => migration.name) };
  } catch (error) {
    await db.destroy().catch(() => undefined);
    if (error instanceof AppError && error.code === ErrorCode.BAD_USER_INPUT) throw new MigrationRefusedError(error.message);
    throw error;
  } finally {
    if (guard) guard.paused = false;
  }
}

/**
 * The data source a GPU worker's statements go through. The embedded database
 * has one connection, and a burst of submissions queues its statements on it:
 * the worker's (reading the job it took, its start, its completion) then go
 * before any still waiting from the API, so a render never waits behind the
 * burst (docs/architecture.md, "The embedded database"). On PostgreSQL the
 * pool's connections serve both: this is `db` itself.
 */
export async function workerDataSource(db: DataSource): Promise<DataSource> {
  if (db.options.type !== 'postgres' || db.options.driver !== pgliteDriverModule) return db;
  const ahead: PGlitePoolOptions = { lane: 'ahead' };
  return new DataSource({ ...db.options, synchronize: false, migrationsRun: false, extra: ahead }).initialize();
}
