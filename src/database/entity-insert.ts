import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

/**
 * A query run by the INSERT's own statement, its one row returned with the
 * inserted columns: it reads the snapshot the statement started from, so the
 * new row is not in it. `sql(first)` is what follows SELECT (columns, and a
 * FROM if it needs one), with placeholders numbered from `$first` for `params`.
 */
export interface Alongside {
  sql: (first: number) => string;
  params: unknown[];
}

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
  private readonly statements = new Map<string, { text: string; returned: ColumnMetadata[] }>();

  constructor(private readonly db: DataSource, target: EntityTarget<T>) {
    const metadata = db.getMetadata(target);
    this.table = metadata.tablePath;
    this.columns = metadata.columns.filter((c) => !c.isVirtual);
  }

  /** Writes `entity`; with `alongside`, in the same round trip, and returns the row of its expressions. */
  async insert(entity: T, alongside?: Alongside): Promise<Record<string, unknown>> {
    const written = this.columns.filter((c) => c.getEntityValue(entity) !== undefined);
    const { text, returned } = this.statement(written);
    const values = written.map((c) => this.db.driver.preparePersistentValue(c.getEntityValue(entity), c));
    const rows = (await (alongside
      ? this.db.query(`WITH inserted AS (${returned.length ? text : `${text} RETURNING 1`}) SELECT * FROM inserted, (SELECT ${alongside.sql(values.length + 1)}) AS alongside`, [...values, ...alongside.params])
      : this.db.query(text, values))) as Record<string, unknown>[];
    for (const column of returned) column.setEntityValue(entity, this.db.driver.prepareHydratedValue(rows[0][column.databaseName], column));
    return rows[0] ?? {};
  }

  private statement(written: ColumnMetadata[]): { text: string; returned: ColumnMetadata[] } {
    const key = written.map((c) => c.databaseName).join(',');
    let statement = this.statements.get(key);
    if (!statement) {
      const returned = this.columns.filter((c) => !written.includes(c) && (c.default !== undefined || c.isCreateDate || c.isUpdateDate));
      const quote = (c: ColumnMetadata) => `"${c.databaseName}"`;
      const text = `INSERT INTO "${this.table}" (${written.map(quote).join(', ')}) VALUES (${written.map((_, i) => `$${i + 1}`).join(', ')})`
        + (returned.length ? ` RETURNING ${returned.map(quote).join(', ')}` : '');
      statement = { text, returned };
      this.statements.set(key, statement);
    }
    return statement;
  }
}
