import { createHash } from 'node:crypto';
import { QueryFailedError, type DataSource, type EntityTarget, type ObjectLiteral } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import { preparesStatements } from './data-source';
import { isStalePlan } from './pglite-statements';

/**
 * A single-row INSERT of an entity as one parameterised statement, for hot
 * paths (createGeneration). It writes what `Repository.insert` writes (the
 * entity's set columns, through the driver's value conversions: jsonb,
 * enums, transformers) and reads back the columns the database fills
 * (defaults, `updated_at`), but the SQL text is built once per set of
 * columns instead of by the query builder on every call. Entity listeners
 * (`@BeforeInsert`) do not run: the caller sets the id.
 */
export class EntityInsert<T extends ObjectLiteral> {
  private readonly table: string;
  private readonly columns: ColumnMetadata[];
  private readonly statements = new Map<string, { text: string; name: string; returned: ColumnMetadata[] }>();
  /** On a PostgreSQL server (node-postgres) unless turned off; PGlite's thread prepares statements by their text itself. */
  private readonly server: boolean;
  /** Statements prepared again under a new name (`prepared`). */
  private renamed = 0;

  constructor(private readonly db: DataSource, target: EntityTarget<T>) {
    const metadata = db.getMetadata(target);
    this.table = metadata.tablePath;
    this.columns = metadata.columns.filter((c) => !c.isVirtual);
    this.server = preparesStatements(db);
  }

  /** Writes `entity` and sets the columns the database filled on it. */
  async insert(entity: T): Promise<void> {
    const written = this.columns.filter((c) => c.getEntityValue(entity) !== undefined);
    const statement = this.statement(written);
    const values = written.map((c) => this.db.driver.preparePersistentValue(c.getEntityValue(entity), c));
    const rows = this.server ? await this.prepared(statement, values) : (await this.db.query(statement.text, values)) as Record<string, unknown>[];
    const { returned } = statement;
    for (const column of returned) column.setEntityValue(entity, this.db.driver.prepareHydratedValue(rows[0][column.databaseName], column));
  }

  private statement(written: ColumnMetadata[]): { text: string; name: string; returned: ColumnMetadata[] } {
    const key = written.map((c) => c.databaseName).join(',');
    let statement = this.statements.get(key);
    if (!statement) {
      const returned = this.columns.filter((c) => !written.includes(c) && (c.default !== undefined || c.isCreateDate || c.isUpdateDate));
      const quote = (c: ColumnMetadata) => `"${c.databaseName}"`;
      const text = `INSERT INTO "${this.table}" (${written.map(quote).join(', ')}) VALUES (${written.map((_, i) => `$${i + 1}`).join(', ')})`
        + (returned.length ? ` RETURNING ${returned.map(quote).join(', ')}` : '');
      statement = { text, name: `atelier_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`, returned };
      this.statements.set(key, statement);
    }
    return statement;
  }

  /**
   * On PostgreSQL, the statement as a named prepared statement (node-postgres
   * prepares it on each connection the first time it runs there): parsed and
   * planned once per connection instead of on every call. A statement whose
   * table changed shape since (PostgreSQL's "cached plan must not change
   * result type", a migration run by another replica) is prepared again
   * under a new name. Errors come back as TypeORM's would.
   */
  private async prepared(statement: { text: string; name: string }, values: unknown[]): Promise<Record<string, unknown>[]> {
    const pool = (this.db.driver as PostgresDriver).master as { query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: Record<string, unknown>[] }> };
    for (let attempt = 0; ; attempt += 1) {
      // Logged as TypeORM's query runner logs every statement, so whatever watches its logger sees this one too.
      this.db.logger.logQuery(statement.text, values);
      try {
        return (await pool.query({ name: statement.name, text: statement.text, values })).rows;
      } catch (error) {
        if (attempt === 0 && isStalePlan(error)) {
          statement.name = `${statement.name.replace(/_r\d+$/, '')}_r${++this.renamed}`;
          continue;
        }
        this.db.logger.logQueryError(error as Error, statement.text, values);
        throw new QueryFailedError(statement.text, values, error as Error);
      }
    }
  }
}
