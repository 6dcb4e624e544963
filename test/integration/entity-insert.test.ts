import { randomUUID } from 'node:crypto';
import { QueryFailedError, type DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { openDatabase } from '../../src/database/data-source';
import { EntityInsert } from '../../src/database/entity-insert';
import { Role, Tier, User } from '../../src/entities';
import { createScratchDatabase } from '../support/app';
import { countStatements } from '../support/library';

/**
 * The hot path's INSERT (a job's row on every createGeneration) on a
 * PostgreSQL server: a named prepared statement, prepared once per
 * connection (docs/architecture.md, "The request path").
 */
const serverUrl = inject('sharedDatabaseUrl');
let db: DataSource;
let drop: () => Promise<void>;

beforeAll(async () => {
  if (!serverUrl) throw new Error('No PostgreSQL server: set DATABASE_URL or install PostgreSQL (apt-get install postgresql)');
  const scratch = await createScratchDatabase(serverUrl);
  drop = scratch.drop;
  // One connection, so the session's prepared statements are the ones this test reads.
  db = await openDatabase({ url: scratch.url, poolSize: 1 });
});

afterAll(async () => {
  await db?.destroy();
  await drop?.();
});

const user = (email: string) => Object.assign(new User(), { id: randomUUID(), email, displayName: null, passwordHash: null });
const prepared = async () => (await db.query("SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'atelier_%' ORDER BY prepare_time")) as { name: string; statement: string }[];

describe('EntityInsert on PostgreSQL', () => {
  it('prepares its statement once per connection, fills what the database fills, and is prepared again when the table changes shape', async () => {
    const insert = new EntityInsert(db, User);
    const first = user('first@example.com');
    await insert.insert(first);
    expect(first).toMatchObject({ role: Role.EDITOR, tier: Tier.FREE });
    expect(first.createdAt).toBeInstanceOf(Date);
    expect(first.updatedAt).toBeInstanceOf(Date);
    const [statement, ...more] = await prepared();
    expect(more).toEqual([]);
    expect(statement.statement).toMatch(/^INSERT INTO "users" \(/);

    // Logged as TypeORM logs its statements, for whatever watches its logger.
    const { statements } = await countStatements(db, () => insert.insert(user('second@example.com')));
    expect(statements).toEqual([statement.statement]);
    expect(await prepared()).toEqual([statement]);
    expect(await db.getRepository(User).countBy({})).toBe(2);

    // A column the statement returns changes type (a migration run by another replica): its plan is stale.
    await db.query('ALTER TABLE users ALTER COLUMN updated_at TYPE timestamp');
    const third = user('third@example.com');
    await insert.insert(third);
    expect(third.updatedAt).toBeInstanceOf(Date);
    expect((await prepared()).map((p) => p.name)).toContain(`${statement.name}_r1`);
    expect(await db.getRepository(User).countBy({})).toBe(3);
    await db.query('ALTER TABLE users ALTER COLUMN updated_at TYPE timestamptz');
  });

  it('runs unnamed when prepared statements are turned off (ATELIER_DATABASE_PREPARED_STATEMENTS=false)', async () => {
    const unprepared = await openDatabase({ url: (db.options as { url: string }).url, poolSize: 1, preparedStatements: false });
    try {
      const insert = new EntityInsert(unprepared, User);
      const { statements } = await countStatements(unprepared, () => insert.insert(user('unprepared@example.com')));
      expect(statements).toEqual([expect.stringMatching(/^INSERT INTO "users" \(/)]);
      expect(await unprepared.query("SELECT name FROM pg_prepared_statements WHERE name LIKE 'atelier_%'")).toEqual([]);
      expect(await unprepared.getRepository(User).countBy({ email: 'unprepared@example.com' })).toBe(1);
    } finally {
      await unprepared.destroy();
    }
  });

  it('refuses as TypeORM does: a QueryFailedError with PostgreSQL\'s fields, and nothing written', async () => {
    const insert = new EntityInsert(db, User);
    const error = await insert.insert(user('first@example.com')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryFailedError);
    expect((error as QueryFailedError & { driverError: { code: string } }).driverError.code).toBe('23505');
    expect(await db.getRepository(User).countBy({ email: 'first@example.com' })).toBe(1);
  });
});
