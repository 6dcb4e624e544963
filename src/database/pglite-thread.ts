import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, types } from '@electric-sql/pglite';
import type { PGliteThreadData, FromPGliteThread, ToPGliteThread } from './pglite-pool';
import { PreparedStatements } from './pglite-statements';

/**
 * The worker-thread side of PGliteLeasePool: the embedded database runs here,
 * so its statements (PostgreSQL compiled to WASM, synchronous while they run)
 * never hold up the API's event loop. One message per statement, run one
 * at a time and answered in the order they came.
 */

const port = parentPort;
if (!port) throw new Error('pglite-thread runs as a worker thread');
const { dataDir } = workerData as PGliteThreadData;
const send = (message: FromPGliteThread) => port.postMessage(message);

/**
 * A database error as plain data: a thrown Error crosses threads without
 * PostgreSQL's fields (code, constraint, detail…). Only plain values are
 * kept, so the answer can always be posted.
 */
function describe(error: unknown): Record<string, unknown> {
  const e = (error ?? {}) as Error & Record<string, unknown>;
  const fields = Object.entries(e).filter(([, value]) => value === null || ['string', 'number', 'boolean'].includes(typeof value));
  return { ...Object.fromEntries(fields), name: e.name ?? 'Error', message: e.message ?? String(error) };
}

PGlite.create({
  dataDir,
  // TypeORM sends booleans as strings in some paths; PGlite wants TRUE/FALSE.
  serializers: { [types.BOOL]: (v: unknown) => (v === true || v === 'true' || v === 1 ? 'TRUE' : 'FALSE') },
}).then((db) => {
  const statements = new PreparedStatements(db);
  // Statements run one after the other: a prepared statement's run is several protocol messages that must not interleave.
  let previous: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(run: () => Promise<T>): Promise<T> => {
    const next = previous.then(run, run);
    previous = next.catch(() => undefined);
    return next;
  };
  port.on('message', (message: ToPGliteThread) => {
    if (message.type === 'close') {
      void inTurn(() => db.close()).then(() => send({ type: 'closed' }), (error) => send({ type: 'closed', error: describe(error) }));
      return;
    }
    const { id, sql, params } = message;
    // With parameters, a named prepared statement (pglite-statements.ts); without, the simple protocol, which takes several (migrations).
    const run = params && params.length > 0
      ? inTurn(() => statements.query(sql, params))
      : inTurn(() => db.exec(sql)).then((results) => results[results.length - 1] ?? { rows: [] });
    run.then(
      (result) => send({ type: 'result', id, rows: result.rows, fields: result.fields, affectedRows: (result as { affectedRows?: number }).affectedRows }),
      (error) => send({ type: 'error', id, error: describe(error) }),
    );
  });
  send({ type: 'ready' });
}, (error) => send({ type: 'failed', error: describe(error) }));
