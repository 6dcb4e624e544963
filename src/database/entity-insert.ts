import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

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

  /** Writes `entity` and sets the columns the database filled on it. */
  async insert(entity: T): Promise<void> {
    const written = this.columns.filter((c) => c.getEntityValue(entity) !== undefined);
    const { text, returned } = this.statement(written);
    const values = written.map((c) => this.db.driver.preparePersistentValue(c.getEntityValue(entity), c));
    const rows = (await this.db.query(text, values)) as Record<string, unknown>[];
    for (const column of returned) column.setEntityValue(entity, this.db.driver.prepareHydratedValue(rows[0][column.databaseName], column));
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
