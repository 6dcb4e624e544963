import type { DataSource, EntityMetadata, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';

type Equals<T> = { [K in keyof T]?: string | number | boolean };

/**
 * `findOneBy` by equality on a few columns as one parameterised statement,
 * for reads every request makes (the signed-in user, the job's model). The
 * entity comes back as `Repository.findOneBy` builds it (every selectable
 * column through the driver's conversions and transformers, no relations),
 * but the SQL text is built once per set of columns instead of by the query
 * builder on every call, and rows are not aliased and re-mapped.
 */
export class EntityLookup<T extends ObjectLiteral> {
  private readonly metadata: EntityMetadata;
  /** Every selectable column, in the order `selected` lists them. */
  private readonly columns: ColumnMetadata[];
  /** The selectable columns as an SQL list, for statements that return whole rows (`RETURNING`, a CTE's `SELECT`). */
  readonly selected: string;
  private readonly statements = new Map<string, string>();

  constructor(private readonly db: DataSource, target: EntityTarget<T>) {
    this.metadata = db.getMetadata(target);
    this.columns = this.metadata.columns.filter((c) => !c.isVirtual && c.isSelect);
    this.selected = this.columns.map((c) => `"${c.databaseName}"`).join(', ');
  }

  async findOneBy(where: Equals<T>): Promise<T | null> {
    const fields = Object.keys(where).map((property) => {
      const column = this.metadata.findColumnWithPropertyName(property);
      if (!column) throw new Error(`${this.metadata.name} has no column ${property}`);
      return column;
    });
    const values = fields.map((c) => this.db.driver.preparePersistentValue(where[c.propertyName as keyof T], c));
    const [row] = (await this.db.query(this.statement(fields), values)) as Record<string, unknown>[];
    return row ? this.hydrate(row) : null;
  }

  /** The entity of a row that holds every column of `selected`, converted as `findOneBy` converts it. */
  hydrate(row: Record<string, unknown>): T {
    const entity = this.metadata.create() as T;
    for (const column of this.columns) column.setEntityValue(entity, this.db.driver.prepareHydratedValue(row[column.databaseName], column));
    return entity;
  }

  private statement(fields: ColumnMetadata[]): string {
    const key = fields.map((c) => c.databaseName).join(',');
    let text = this.statements.get(key);
    if (!text) {
      const conditions = fields.map((c, i) => `"${c.databaseName}" = $${i + 1}`).join(' AND ');
      text = `SELECT ${this.selected} FROM "${this.metadata.tablePath}" WHERE ${conditions} LIMIT 1`;
      this.statements.set(key, text);
    }
    return text;
  }
}
