import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PreparedStatements } from '../../src/database/pglite-statements';

let db: PGlite;

beforeAll(async () => {
  db = await PGlite.create();
  await db.exec(`
    CREATE TABLE things (
      id uuid PRIMARY KEY, name text NOT NULL UNIQUE, size int, ok boolean, at timestamptz, doc jsonb, tags text[]
    )`);
});
afterAll(async () => {
  await db.close();
});

/** The statements the backend holds prepared, by name. */
async function preparedNames(): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name');
  return rows.map((r) => r.name);
}

describe('PGlite statements prepared once (PreparedStatements)', () => {
  it('answers as PGlite.query does, for every type the service stores', async () => {
    const statements = new PreparedStatements(db);
    const at = new Date('2026-11-30T12:34:56.789Z');
    const insert = 'INSERT INTO things (id, name, size, ok, at, doc, tags) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *';
    const values = ['3f1c1d9e-5d0a-4c4e-9a57-0d3c1f1e2a10', 'lamp', 3, true, at, { nested: [1, 'two', null] }, ['a', 'b']];
    const prepared = await statements.query(insert, values);
    const select = 'SELECT * FROM things WHERE id = $1 AND ok = $2';
    const plain = await db.query(select, [values[0], true]);
    expect(prepared.rows).toEqual(plain.rows);
    expect(prepared.fields).toEqual(plain.fields);
    expect(prepared.affectedRows).toBe(1);
    expect((await statements.query(select, [values[0], true])).rows).toEqual(plain.rows);
    // A null parameter, and a run that matches nothing.
    expect((await statements.query('SELECT id FROM things WHERE size IS NOT DISTINCT FROM $1', [null])).rows).toEqual([]);
    const updated = await statements.query('UPDATE things SET size = size + $2 WHERE name = $1', ['lamp', 2]);
    expect(updated.affectedRows).toBe(1);
    expect(updated.rows).toEqual([]);
  });

  it('parses a text once and runs it by name after that', async () => {
    const statements = new PreparedStatements(db);
    const before = await preparedNames();
    for (let i = 0; i < 5; i += 1) await statements.query('SELECT $1::int + 1 AS n', [i]);
    const added = (await preparedNames()).filter((name) => !before.includes(name));
    expect(added).toHaveLength(1);
    expect(statements.size).toBe(1);
  });

  it('keeps at most its capacity prepared, closing the least recently used', async () => {
    const statements = new PreparedStatements(db, 2);
    const before = await preparedNames();
    await statements.query('SELECT $1::int AS a', [1]);
    await statements.query('SELECT $1::int AS b', [1]);
    await statements.query('SELECT $1::int AS a', [2]); // used again: b is now the least recent
    await statements.query('SELECT $1::int AS c', [1]);
    expect(statements.size).toBe(2);
    expect((await preparedNames()).filter((name) => !before.includes(name))).toHaveLength(2);
    expect((await statements.query('SELECT $1::int AS a', [3])).rows).toEqual([{ a: 3 }]);
  });

  it('a failed statement reports PostgreSQL’s error and leaves the backend ready, in a transaction too', async () => {
    const statements = new PreparedStatements(db);
    const insert = 'INSERT INTO things (id, name) VALUES ($1, $2)';
    await statements.query(insert, ['8a0e7c2e-1111-4c4e-9a57-0d3c1f1e2a10', 'chair']);
    await expect(statements.query(insert, ['8a0e7c2e-2222-4c4e-9a57-0d3c1f1e2a10', 'chair'])).rejects.toMatchObject({ code: '23505' });
    expect((await statements.query('SELECT name FROM things WHERE name = $1', ['chair'])).rows).toEqual([{ name: 'chair' }]);

    await db.exec('BEGIN');
    await expect(statements.query(insert, ['8a0e7c2e-3333-4c4e-9a57-0d3c1f1e2a10', 'chair'])).rejects.toMatchObject({ code: '23505' });
    await expect(statements.query('SELECT $1::int AS n', [1])).rejects.toMatchObject({ code: '25P02' }); // the transaction is aborted
    await db.exec('ROLLBACK');
    expect((await statements.query('SELECT $1::int AS n', [1])).rows).toEqual([{ n: 1 }]);
  });

  it('a statement first prepared in a transaction that rolls back stays usable', async () => {
    const statements = new PreparedStatements(db);
    await db.exec('BEGIN');
    expect((await statements.query('SELECT count(*)::int AS n FROM things WHERE size > $1', [-1])).rows).toHaveLength(1);
    await db.exec('ROLLBACK');
    expect((await statements.query('SELECT count(*)::int AS n FROM things WHERE size > $1', [-1])).rows).toHaveLength(1);
    expect(statements.size).toBe(1);
  });

  it('a text PostgreSQL cannot parse is not kept', async () => {
    const statements = new PreparedStatements(db);
    await expect(statements.query('SELEC $1', [1])).rejects.toMatchObject({ code: '42601' });
    expect(statements.size).toBe(0);
  });

  it('prepares again when a table it reads changed shape', async () => {
    const statements = new PreparedStatements(db);
    await db.exec('CREATE TABLE shapes (id int PRIMARY KEY)');
    await db.exec('INSERT INTO shapes VALUES (1)');
    expect((await statements.query('SELECT * FROM shapes WHERE id = $1', [1])).rows).toEqual([{ id: 1 }]);
    await db.exec("ALTER TABLE shapes ADD COLUMN label text DEFAULT 'new'");
    expect((await statements.query('SELECT * FROM shapes WHERE id = $1', [1])).rows).toEqual([{ id: 1, label: 'new' }]);
  });
});
