import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { QueryFailedError, type DataSource } from 'typeorm';
import { afterAll, describe, expect, it } from 'vitest';
import { createDataSource, openDatabase, workerDataSource } from '../../src/database/data-source';
import { PGliteLeasePool } from '../../src/database/pglite-pool';
import { User } from '../../src/entities';

/**
 * The embedded database (`npm start`'s default) runs in a worker thread of its
 * own (docs/architecture.md, "The embedded database"): a long statement must
 * not hold up the process's event loop, and what crosses the thread (values
 * of every column kind, PostgreSQL's error fields) must arrive as it would
 * from PGlite on the main thread.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function withDatabase<T>(pgliteDir: string, use: (db: DataSource) => Promise<T>): Promise<T> {
  const db = await openDatabase({ pgliteDir });
  try {
    return await use(db);
  } finally {
    await db.destroy();
  }
}

describe('the embedded database in its own thread', () => {
  it('runs a long statement while the event loop keeps turning, and keeps values and error fields across the thread', async () => {
    await withDatabase('memory', async (db) => {
      // The statement alone: how long it holds PGlite.
      const started = performance.now();
      await db.query('SELECT count(*) FROM generate_series(1, 2000000)');
      const statementMs = performance.now() - started;
      expect(statementMs).toBeGreaterThan(100);

      // A 5 ms timer keeps firing while the statement runs; on the main thread it did not fire once.
      let ticks = 0;
      let longestGap = 0;
      let last = performance.now();
      const timer = setInterval(() => {
        const now = performance.now();
        longestGap = Math.max(longestGap, now - last);
        last = now;
        ticks += 1;
      }, 5);
      const [{ count }] = await db.query('SELECT count(*)::int AS count FROM generate_series(1, 2000000)');
      clearInterval(timer);
      longestGap = Math.max(longestGap, performance.now() - last);
      expect(count).toBe(2_000_000);
      expect(ticks).toBeGreaterThan(statementMs / 20);
      expect(longestGap).toBeLessThan(Math.max(60, statementMs / 2));

      const [row] = await db.query(
        `SELECT $1::bytea AS bytes, $2::jsonb AS doc, $3::timestamptz AS at, $4::boolean AS yes, ARRAY[1, 2, 3] AS list, NULL AS nothing`,
        [Buffer.from([0, 1, 254, 255]), JSON.stringify({ a: [1, 'two'], b: null }), new Date('2026-11-30T01:02:03.004Z'), true],
      );
      expect(Buffer.from(row.bytes)).toEqual(Buffer.from([0, 1, 254, 255]));
      expect(row.doc).toEqual({ a: [1, 'two'], b: null });
      expect(row.at).toBeInstanceOf(Date);
      expect((row.at as Date).toISOString()).toBe('2026-11-30T01:02:03.004Z');
      expect(row).toMatchObject({ yes: true, list: [1, 2, 3], nothing: null });

      const user = (email: string) => db.getRepository(User).insert({ id: randomUUID(), email, passwordHash: 'x', displayName: 'Thread' });
      await user('thread@example.com');
      const duplicate = await user('thread@example.com').catch((error: unknown) => error);
      expect(duplicate).toBeInstanceOf(QueryFailedError);
      expect((duplicate as QueryFailedError & { driverError: Record<string, unknown> }).driverError).toMatchObject({ code: '23505', table: 'users' });
      // A failed statement inside a transaction rolls it back, and the lease goes to the next caller.
      await expect(db.transaction(async (m) => {
        await m.query(`UPDATE users SET display_name = 'changed'`);
        await m.query('SELECT 1/0');
      })).rejects.toMatchObject({ driverError: { code: '22012' } });
      expect((await db.getRepository(User).findOneByOrFail({ email: 'thread@example.com' })).displayName).toBe('Thread');
      // A value that cannot cross the thread is refused at once, and the next statement runs.
      await expect(db.query('SELECT $1::text AS v', [() => 1])).rejects.toThrow(/could not be cloned/);
      expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    });
  });

  it('keeps what was written in a data directory once the database is closed, and opens it again', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'atelier-pglite-'));
    dirs.push(dir);
    const pgliteDir = path.join(dir, 'db');
    await withDatabase(pgliteDir, (db) => db.getRepository(User).insert({ id: randomUUID(), email: 'kept@example.com', passwordHash: 'x', displayName: 'Kept' }));
    const kept = await withDatabase(pgliteDir, (db) => db.getRepository(User).findOneBy({ email: 'kept@example.com' }));
    expect(kept?.displayName).toBe('Kept');
  });

  it('fails every statement at once after its thread has died, instead of waiting forever, and still closes', async () => {
    await withDatabase('memory', async (db) => {
      expect(await db.query('SELECT 2 AS two')).toEqual([{ two: 2 }]);
      const database = (await PGliteLeasePool.instance()) as unknown as { thread: { terminate(): Promise<number> } };
      await database.thread.terminate();
      await expect(db.query('SELECT 3')).rejects.toThrow(/PGlite thread exited/);
      await expect(db.query('SELECT 4')).rejects.toThrow(/PGlite thread exited/);
    });
  });

  it("lets the worker's statements pass those waiting from the API, never one that holds the database", async () => {
    await withDatabase('memory', async (db) => {
      const worker = await workerDataSource(db);
      expect(worker).not.toBe(db);
      try {
        const order: string[] = [];
        // A long statement holds the database while the API's ten and then the worker's one ask for it.
        const holding = db.query('SELECT count(*) FROM generate_series(1, 300000)').then(() => order.push('holding'));
        const api = Array.from({ length: 10 }, (_, k) => db.query('SELECT $1::int AS k', [k]).then(() => order.push(`api ${k}`)));
        const ahead = worker.query('SELECT $1::int AS k', [99]).then(() => order.push('worker'));
        await Promise.all([holding, ...api, ahead]);
        expect(order).toEqual(['holding', 'worker', ...Array.from({ length: 10 }, (_, k) => `api ${k}`)]);

        // A transaction holds its lease to the end: the worker's statement waits for the COMMIT and sees its row.
        const email = `${randomUUID()}@example.com`;
        const runner = db.createQueryRunner();
        await runner.startTransaction();
        await runner.query(`INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'x')`, [randomUUID(), email]);
        let committed = false;
        const seen = worker.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [email]);
        await new Promise((r) => setTimeout(r, 50));
        committed = true;
        await runner.commitTransaction();
        await runner.release();
        const [{ n }] = await seen;
        expect(committed).toBe(true);
        expect(n).toBe(1);
      } finally {
        await worker.destroy();
      }
      // Closing the worker's source leaves the database open for the rest.
      const [{ one }] = await db.query('SELECT 1 AS one');
      expect(one).toBe(1);
    });
    // On PostgreSQL the pool's connections serve both: the worker uses the same source.
    const server = createDataSource({ url: 'postgres://127.0.0.1:1/none' });
    expect(await workerDataSource(server)).toBe(server);
  });
});
