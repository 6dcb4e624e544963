import type { EntityManager } from 'typeorm';
import { sha256 } from '../../kernel/hashing';

/**
 * Rows of Atelier's tables as PostgreSQL itself prints them (`row_to_json`,
 * in UTC), so a dump reads the same from PGlite and from a PostgreSQL server,
 * and a restore lets the database parse its own text back
 * (`json_populate_recordset`): no driver's idea of dates, numbers or JSON in
 * between. The checksum of a table is the SHA-256 of its lines in byte order.
 */

const NAME = /^[a-z_][a-z0-9_]*$/;
/** Rows per INSERT, so a large table never becomes one huge statement. */
const INSERT_BATCH = 500;

export type Query = Pick<EntityManager, 'query'>;

function quoted(table: string): string {
  if (!NAME.test(table)) throw new Error(`unexpected table name ${JSON.stringify(table)}`);
  return `"${table}"`;
}

/** Makes timestamps print in UTC for the rest of the transaction (dumps must not depend on the server's zone). */
export async function useUtc(q: Query): Promise<void> {
  await q.query(`SET LOCAL TIME ZONE 'UTC'`);
}

/** Every table of the public schema except the migrations log, parents before children. */
export async function dataTables(q: Query): Promise<string[]> {
  const tables: { name: string }[] = await q.query(
    `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations' ORDER BY tablename`,
  );
  const links: { child: string; parent: string }[] = await q.query(
    `SELECT child.relname AS child, parent.relname AS parent FROM pg_constraint c
       JOIN pg_class child ON child.oid = c.conrelid JOIN pg_class parent ON parent.oid = c.confrelid
       JOIN pg_namespace n ON n.oid = child.relnamespace
     WHERE c.contype = 'f' AND n.nspname = 'public' AND child.relname <> parent.relname`,
  );
  return parentsFirst(tables.map((table) => table.name), links);
}

/** Kahn's topological order, alphabetical among equals so every run agrees. */
function parentsFirst(names: string[], links: { child: string; parent: string }[]): string[] {
  const waiting = new Map(names.map((name) => [name, new Set(links.filter((l) => l.child === name).map((l) => l.parent))]));
  const order: string[] = [];
  while (waiting.size > 0) {
    const ready = [...waiting].filter(([, parents]) => [...parents].every((p) => !waiting.has(p))).map(([name]) => name).sort();
    if (ready.length === 0) throw new Error(`foreign keys form a cycle among ${[...waiting.keys()].join(', ')}`);
    for (const name of ready) {
      order.push(name);
      waiting.delete(name);
    }
  }
  return order;
}

/** The table's rows as JSON lines, sorted bytewise (deterministic without knowing the key). */
export async function dumpTable(q: Query, table: string): Promise<string[]> {
  const rows: { line: string }[] = await q.query(
    `SELECT line FROM (SELECT row_to_json(t)::text AS line FROM ${quoted(table)} t) s ORDER BY line COLLATE "C"`,
  );
  return rows.map((row) => row.line);
}

/** SHA-256 of a table's dump. */
export const digestLines = (lines: string[]): string => sha256(lines.join('\n'));

/** Inserts dumped rows as they were, ids included, then moves the table's sequences past them. */
export async function restoreTable(q: Query, table: string, lines: string[]): Promise<void> {
  const generatedAlways: { n: number }[] = await q.query(
    `SELECT count(*)::int AS n FROM information_schema.columns
     WHERE table_schema = 'public' AND table_name = $1 AND identity_generation = 'ALWAYS'`, [table],
  );
  const overriding = generatedAlways[0].n > 0 ? 'OVERRIDING SYSTEM VALUE' : '';
  for (let start = 0; start < lines.length; start += INSERT_BATCH) {
    const batch = `[${lines.slice(start, start + INSERT_BATCH).join(',')}]`;
    await q.query(`INSERT INTO ${quoted(table)} ${overriding} SELECT * FROM json_populate_recordset(NULL::${quoted(table)}, $1::json)`, [batch]);
  }
  const sequenced: { column: string }[] = await q.query(
    `SELECT column_name AS column FROM information_schema.columns
     WHERE table_schema = 'public' AND table_name = $1 AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')`, [table],
  );
  for (const { column } of sequenced) {
    await q.query(
      `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT max(${quoted(column)}) FROM ${quoted(table)}), 0) + 1, false)`,
      [quoted(table), column],
    );
  }
}

/** Tables that already hold rows (an import goes only into an empty installation). */
export async function nonEmptyTables(q: Query, tables: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const table of tables) {
    const rows: unknown[] = await q.query(`SELECT 1 FROM ${quoted(table)} LIMIT 1`);
    if (rows.length > 0) found.push(table);
  }
  return found;
}

/** Names of the applied migrations, in order (both sides must be on the same release). */
export async function appliedMigrations(q: Query): Promise<string[]> {
  const rows: { name: string }[] = await q.query(`SELECT name FROM migrations ORDER BY id`);
  return rows.map((row) => row.name);
}

/** Keys kept inside JSON columns: a finished clip's MP4 and poster (jobs.video, docs/video.md). */
const JSON_KEY_FIELDS = [{ table: 'jobs', column: 'video', fields: ['storageKey', 'posterKey'] }];

/**
 * A training run's last checkpoint (`checkpoint_key`) and the optimizer state saved with it, which a run
 * resumes from and `checkpointUrl` serves (docs/training.md). The two are written as one
 * (services/training-lifecycle.ts, `trainingOptimizerKey`: the checkpoint's name, `optimizer-` for `checkpoint-`).
 */
const CHECKPOINT_KEYS = `SELECT checkpoint_key AS key FROM training_runs WHERE checkpoint_key IS NOT NULL
  UNION ALL SELECT regexp_replace(checkpoint_key, '/checkpoint-([^/]+)\\.safetensors$', '/optimizer-\\1.bin') FROM training_runs
  WHERE checkpoint_key IS NOT NULL`;

/** Every artifact-store key the rows point at (each `storage_key` column of every table, JSON_KEY_FIELDS, CHECKPOINT_KEYS). */
export async function storedKeys(q: Query): Promise<string[]> {
  const columns: { table: string }[] = await q.query(
    `SELECT table_name AS table FROM information_schema.columns
     WHERE table_schema = 'public' AND column_name = 'storage_key' ORDER BY table_name`,
  );
  const keys = new Set<string>();
  for (const { table } of columns) {
    const rows: { key: string | null }[] = await q.query(`SELECT storage_key AS key FROM ${quoted(table)}`);
    for (const row of rows) if (row.key) keys.add(row.key);
  }
  for (const { table, column, fields } of JSON_KEY_FIELDS) {
    for (const field of fields) {
      const rows: { key: string | null }[] = await q.query(`SELECT ${quoted(column)} ->> $1 AS key FROM ${quoted(table)} WHERE ${quoted(column)} IS NOT NULL`, [field]);
      for (const row of rows) if (row.key) keys.add(row.key);
    }
  }
  const checkpoints: { key: string }[] = await q.query(CHECKPOINT_KEYS);
  for (const row of checkpoints) keys.add(row.key);
  return [...keys].sort();
}

/**
 * Each file a folder model's row records (`files`: path, SHA-256, size), one row per file: ONNX models
 * without a `path`, the only ones `atelier models push` records (it refuses a name a model registered
 * with a path or on another backend has). For a model it uploaded, these are the store keys
 * `models/<name>/<path>` workers fetch (storage/model-folders.ts); export.ts keeps those of the models the store holds.
 */
export async function modelFilePaths(q: Query): Promise<{ name: string; path: string }[]> {
  return q.query(
    `SELECT m.name, f.value ->> 'path' AS path FROM models m CROSS JOIN LATERAL jsonb_array_elements(m.files) f
     WHERE m.backend = 'ONNX' AND m.path IS NULL ORDER BY m.name, path`,
  );
}
