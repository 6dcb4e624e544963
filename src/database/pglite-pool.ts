import { EventEmitter } from 'node:events';
import { PGlite, types } from '@electric-sql/pglite';

type Callback<T> = (err: Error | null, result?: T) => void;
interface QueryResultLike { rows: unknown[]; fields?: unknown[]; affectedRows?: number }

/**
 * A `pg.Pool` look-alike over one embedded PGlite database.
 *
 * PGlite has a single connection, and TypeORM's query runners assume each one
 * owns its connection: two concurrent transactions would interleave their
 * BEGIN/COMMIT on it and one request's writes could be rolled back with
 * another's. So `connect()` hands out an exclusive lease, released when the
 * query runner releases it; queries are serialised, transactions isolated.
 */
export class PGliteLeasePool extends EventEmitter {
  private static db: PGlite | null = null;
  private static options: { dataDir?: string } = {};
  private static tail: Promise<void> = Promise.resolve();

  static configure(dataDir: string | undefined): void {
    PGliteLeasePool.options = { dataDir };
  }

  static async instance(): Promise<PGlite> {
    if (!PGliteLeasePool.db) {
      PGliteLeasePool.db = await PGlite.create({
        dataDir: PGliteLeasePool.options.dataDir,
        // TypeORM sends booleans as strings in some paths; PGlite wants TRUE/FALSE.
        serializers: { [types.BOOL]: (v: unknown) => (v === true || v === 'true' || v === 1 ? 'TRUE' : 'FALSE') },
      });
    }
    return PGliteLeasePool.db;
  }

  /** Waits for the previous lease, returns a release function. */
  private static acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const ready = PGliteLeasePool.tail.then(() => release);
    PGliteLeasePool.tail = PGliteLeasePool.tail.then(() => next);
    return ready;
  }

  connect(callback: (err: Error | null, client: LeasedClient | null, done: () => void) => void): void {
    Promise.all([PGliteLeasePool.instance(), PGliteLeasePool.acquire()]).then(
      ([db, release]) => {
        const client = new LeasedClient(db);
        let released = false;
        callback(null, client, () => {
          if (!released) {
            released = true;
            release();
          }
        });
      },
      (err: Error) => callback(err, null, () => undefined),
    );
  }

  query(sql: string, params?: unknown[] | Callback<QueryResultLike>, cb?: Callback<QueryResultLike>): Promise<QueryResultLike> {
    return new Promise((resolve, reject) => {
      this.connect((err, client, done) => {
        if (err || !client) return reject(err);
        client.query(sql, params, cb).then(resolve, reject).finally(done);
      });
    });
  }

  end(callback?: (err: Error | null) => void): void {
    const db = PGliteLeasePool.db;
    PGliteLeasePool.db = null;
    PGliteLeasePool.tail = Promise.resolve();
    (db ? db.close() : Promise.resolve()).then(() => callback?.(null), (e: Error) => callback?.(e));
  }
}

/** The connection object TypeORM's query runner uses during its lease. */
class LeasedClient extends EventEmitter {
  constructor(private readonly db: PGlite) {
    super();
  }

  query(sql: string, params?: unknown[] | Callback<QueryResultLike>, cb?: Callback<QueryResultLike>): Promise<QueryResultLike> {
    const callback = typeof params === 'function' ? params : cb;
    const values = Array.isArray(params) ? params : undefined;
    const run = values && values.length > 0
      ? this.db.query(sql, values)
      : this.db.exec(sql).then((results) => results[results.length - 1] ?? { rows: [] });
    return run.then(
      (result) => {
        const shaped = { ...result, rowCount: (result as { affectedRows?: number }).affectedRows ?? result.rows.length };
        callback?.(null, shaped);
        return shaped;
      },
      (error: Error) => {
        callback?.(error);
        throw error;
      },
    );
  }
}

/** The module shape TypeORM's postgres driver expects in its `driver` option. */
export const pgliteDriverModule = { Pool: PGliteLeasePool };
