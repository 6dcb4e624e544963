import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { firstMessage, startThread } from '../kernel/threads';

type Callback<T> = (err: Error | null, result?: T) => void;
interface QueryResultLike { rows: unknown[]; fields?: unknown[]; affectedRows?: number }

/** What the PGlite thread starts with. */
export interface PGliteThreadData { dataDir?: string }
/** Main thread → PGlite thread. */
export type ToPGliteThread = { type: 'query'; id: number; sql: string; params?: unknown[] } | { type: 'close' };
/** PGlite thread → main thread. */
export type FromPGliteThread =
  | { type: 'ready' } | { type: 'failed'; error: Record<string, unknown> }
  | { type: 'result'; id: number; rows: unknown[]; fields?: unknown[]; affectedRows?: number }
  | { type: 'error'; id: number; error: Record<string, unknown> }
  | { type: 'closed'; error?: Record<string, unknown> };

/** An error from the thread with PostgreSQL's fields back on it (TypeORM and our code read `code`, `constraint`…). */
function rebuildError(described: Record<string, unknown>): Error {
  return Object.assign(new Error(String(described.message)), described);
}

/**
 * The embedded database in a worker thread of its own (`pglite-thread.ts`):
 * PGlite runs PostgreSQL compiled to WASM, synchronously while a statement
 * runs, so on the main thread every statement held up every request and
 * WebSocket of the process (`npm start`'s default). Statements cross as
 * messages, answered in order. The thread keeps the process alive only while
 * a statement is out.
 */
class PGliteThread {
  private readonly pending = new Map<number, { resolve: (r: QueryResultLike) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closing: ((error?: Error) => void) | null = null;
  /** Set once the thread has died: later statements fail at once instead of waiting for an answer that never comes. */
  private dead: Error | null = null;

  private constructor(private readonly thread: Worker) {
    thread.unref();
    thread.on('message', (message: FromPGliteThread) => this.receive(message));
    thread.on('error', (error) => this.fail(error));
    thread.on('exit', (code) => this.fail(new Error(`PGlite thread exited with code ${code}`)));
  }

  /** Starts the thread and opens the database in it; rejects with PGlite's error. */
  static start(data: PGliteThreadData): Promise<PGliteThread> {
    const thread = startThread(__dirname, 'pglite-thread', data);
    return firstMessage(thread, (message: FromPGliteThread) => {
      if (message.type === 'ready') return new PGliteThread(thread);
      return message.type === 'failed' ? rebuildError(message.error) : new Error(`unexpected ${message.type} from the PGlite thread`);
    });
  }

  query(sql: string, params?: unknown[]): Promise<QueryResultLike> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.dead) return reject(this.dead);
      // A parameter that cannot be cloned throws here, before anything waits for an answer.
      this.thread.postMessage({ type: 'query', id, sql, params } satisfies ToPGliteThread);
      if (this.pending.size === 0) this.thread.ref();
      this.pending.set(id, { resolve, reject });
    });
  }

  /** Closes the database (flushing a data directory) and ends the thread. */
  close(): Promise<void> {
    if (this.dead) return this.thread.terminate().then(() => undefined);
    return new Promise<void>((resolve, reject) => {
      this.closing = (error) => (error ? reject(error) : resolve());
      this.thread.ref();
      this.thread.postMessage({ type: 'close' } satisfies ToPGliteThread);
    }).finally(() => this.thread.terminate());
  }

  private receive(message: FromPGliteThread): void {
    if (message.type === 'closed') {
      this.closing?.(message.error ? rebuildError(message.error) : undefined);
      this.closing = null;
      return;
    }
    if (message.type !== 'result' && message.type !== 'error') return;
    const waiting = this.pending.get(message.id);
    if (!waiting) return;
    this.pending.delete(message.id);
    if (this.pending.size === 0 && !this.closing) this.thread.unref();
    if (message.type === 'error') waiting.reject(rebuildError(message.error));
    else waiting.resolve({ rows: message.rows, fields: message.fields, affectedRows: message.affectedRows });
  }

  /** The thread died: every statement out fails (TypeORM sees a connection error). */
  private fail(error: Error): void {
    this.dead ??= error;
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
    this.closing?.(error.message.includes('exited with code') ? undefined : error);
    this.closing = null;
  }
}

/** What TypeORM passes a pool: `pg.Pool`'s options plus the data source's `extra`. */
export interface PGlitePoolOptions {
  /**
   * `ahead`: this pool's leases are granted before those waiting from pools
   * without it (the worker's, `workerDataSource`). Such a pool shares the
   * database and leaves closing it to the pool without a lane.
   */
  lane?: 'ahead';
}

/**
 * A `pg.Pool` look-alike over one embedded PGlite database.
 *
 * PGlite has a single connection, and TypeORM's query runners assume each one
 * owns its connection: two concurrent transactions would interleave their
 * BEGIN/COMMIT on it and one request's writes could be rolled back with
 * another's. So `connect()` hands out an exclusive lease, released when the
 * query runner releases it; queries are serialised, transactions isolated.
 * Leases go in the order asked for, except that those of an `ahead` pool
 * pass every lease still waiting from the others (never one that is held).
 */
export class PGliteLeasePool extends EventEmitter {
  private static db: Promise<PGliteThread> | null = null;
  private static options: PGliteThreadData = {};
  /** Whether a lease is out, and who waits for one, by lane. */
  private static held = false;
  private static readonly waiting: { ahead: Array<() => void>; rest: Array<() => void> } = { ahead: [], rest: [] };
  /** Bumped when the database is closed: a lease from before it no longer counts as held. */
  private static generation = 0;

  private readonly ahead: boolean;

  constructor(options: PGlitePoolOptions = {}) {
    super();
    this.ahead = options.lane === 'ahead';
  }

  static configure(dataDir: string | undefined): void {
    PGliteLeasePool.options = { dataDir };
  }

  static instance(): Promise<PGliteThread> {
    if (!PGliteLeasePool.db) {
      const starting = PGliteThread.start(PGliteLeasePool.options);
      // A failed start is not kept: the next connect tries again.
      starting.catch(() => { if (PGliteLeasePool.db === starting) PGliteLeasePool.db = null; });
      PGliteLeasePool.db = starting;
    }
    return PGliteLeasePool.db;
  }

  /** Resolves once this pool's turn has come, with the function that ends the lease. */
  private acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = () => {
        PGliteLeasePool.held = true;
        const generation = PGliteLeasePool.generation;
        resolve(() => { if (generation === PGliteLeasePool.generation) PGliteLeasePool.grantNext(); });
      };
      if (!PGliteLeasePool.held) grant();
      else PGliteLeasePool.waiting[this.ahead ? 'ahead' : 'rest'].push(grant);
    });
  }

  private static grantNext(): void {
    const next = PGliteLeasePool.waiting.ahead.shift() ?? PGliteLeasePool.waiting.rest.shift();
    if (next) next();
    else PGliteLeasePool.held = false;
  }

  connect(callback: (err: Error | null, client: LeasedClient | null, done: () => void) => void): void {
    void this.acquire().then((release) => PGliteLeasePool.instance().then(
      (db) => {
        const client = new LeasedClient(db);
        let released = false;
        callback(null, client, () => {
          if (!released) {
            released = true;
            release();
          }
        });
      },
      (err: Error) => {
        release(); // the database did not open: the next lease must not wait for this one
        callback(err, null, () => undefined);
      },
    ));
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
    if (this.ahead) return void callback?.(null);
    const db = PGliteLeasePool.db;
    PGliteLeasePool.db = null;
    // A lease still out belongs to the closed database: the next one waiting gets the new one.
    PGliteLeasePool.generation += 1;
    PGliteLeasePool.grantNext();
    (db ? db.then((thread) => thread.close()) : Promise.resolve()).then(() => callback?.(null), (e: Error) => callback?.(e));
  }
}

/** The connection object TypeORM's query runner uses during its lease. */
class LeasedClient extends EventEmitter {
  constructor(private readonly db: PGliteThread) {
    super();
  }

  query(sql: string, params?: unknown[] | Callback<QueryResultLike>, cb?: Callback<QueryResultLike>): Promise<QueryResultLike> {
    const callback = typeof params === 'function' ? params : cb;
    const values = Array.isArray(params) ? params : undefined;
    return this.db.query(sql, values).then(
      (result) => {
        const shaped = { ...result, rowCount: result.affectedRows ?? result.rows.length };
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
