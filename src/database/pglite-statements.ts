import { parse, protocol, type PGlite, type Results } from '@electric-sql/pglite';

const { serialize } = protocol;

/** Statements kept prepared at once; the least recently used is closed beyond it. */
export const PREPARED_STATEMENTS = 256;

interface Prepared { name: string; paramTypes: number[] }

/** Names are unique in this process, so two sets of statements on one database never take the same name. */
let lastName = 0;

/**
 * PostgreSQL reports this when a table a prepared statement reads has changed
 * shape since it was planned (a column added or dropped): the statement is
 * prepared again.
 */
export function isStalePlan(error: unknown): boolean {
  return (error as { code?: unknown })?.code === '0A000' && /cached plan must not change result type/.test(String((error as Error).message));
}

/**
 * Parameterised statements on PGlite as named prepared statements, as
 * node-postgres does with a named query. `PGlite.query` parses and describes
 * its text on every call and sends each protocol message to the WASM backend
 * on its own (parse, describe, bind, describe, execute, sync: six calls into
 * the backend). Here a text is parsed and described once; each run is one call
 * with bind, describe, execute and sync together. On the job path that halves
 * each statement's time in PGlite (docs/performance.md, "PGlite statements").
 *
 * The values are serialised by the types PostgreSQL inferred for the
 * parameters and the rows parsed with the instance's own parsers, as
 * `PGlite.query` does. Calls must not overlap (the PGlite thread runs them
 * one at a time); a failed statement leaves the backend ready for the next,
 * as the sync in the same call ends the failed extended-protocol exchange.
 */
export class PreparedStatements {
  /** By statement text, least recently used first. */
  private readonly prepared = new Map<string, Prepared>();

  constructor(private readonly db: PGlite, private readonly capacity = PREPARED_STATEMENTS) {}

  async query(sql: string, params: unknown[]): Promise<Results> {
    try {
      return await this.run(sql, params);
    } catch (error) {
      if (!isStalePlan(error)) throw error;
      await this.close(sql);
      return this.run(sql, params);
    }
  }

  /** How many statements are prepared now. */
  get size(): number {
    return this.prepared.size;
  }

  private async run(sql: string, params: unknown[]): Promise<Results> {
    const { name, paramTypes } = await this.prepare(sql);
    const values = params.map((value, i) => {
      if (value === null || value === undefined) return null;
      const serializer = this.db.serializers[paramTypes[i]];
      return serializer ? serializer(value) : String(value);
    });
    const messages = await this.db.execProtocolStream(
      Buffer.concat([serialize.bind({ statement: name, values }), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync()]),
      { syncToFs: false },
    );
    // What PGlite.query does after each statement: a data directory on disk gets the change.
    await this.db.syncToFs();
    return parse.parseResults(messages, this.db.parsers)[0];
  }

  private async prepare(sql: string): Promise<Prepared> {
    const known = this.prepared.get(sql);
    if (known) {
      this.prepared.delete(sql);
      this.prepared.set(sql, known);
      return known;
    }
    const name = `atelier_${++lastName}`;
    const described = await this.db.execProtocolStream(
      Buffer.concat([serialize.parse({ name, text: sql }), serialize.describe({ type: 'S', name }), serialize.sync()]),
      { syncToFs: false },
    );
    const statement = { name, paramTypes: parse.parseDescribeStatementResults(described) };
    this.prepared.set(sql, statement);
    if (this.prepared.size > this.capacity) await this.close(this.prepared.keys().next().value as string);
    return statement;
  }

  private async close(sql: string): Promise<void> {
    const statement = this.prepared.get(sql);
    if (!statement) return;
    this.prepared.delete(sql);
    await this.db.execProtocolStream(Buffer.concat([serialize.close({ type: 'S', name: statement.name }), serialize.sync()]), { syncToFs: false });
  }
}
