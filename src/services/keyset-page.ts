import { Brackets, type ObjectLiteral, type SelectQueryBuilder } from 'typeorm';
import { badInput } from '../kernel/errors';
import { decodeKeysetCursor, encodeKeysetCursor, type CursorList } from '../kernel/paging';
import type { Page } from './job-queries';

/** A page holds 1 to 100 rows: BAD_USER_INPUT on `first` otherwise. */
export function assertPageSize(first: number): void {
  if (!Number.isInteger(first) || first < 1 || first > 100) throw badInput('first', 'first must be from 1 to 100');
}

/** The columns of `T` that hold a string: what a row's uuid can be read from. */
type StringColumn<T> = { [K in keyof T]-?: T[K] extends string ? K : never }[keyof T] & string;

/**
 * One page of `list`'s rows newest first, by (createdAt, `key`) keyset cursors
 * (kernel/paging.ts): the query builder brings its own WHERE, this adds the
 * cursor, the order and the limit. `key` orders rows of one createdAt: `id`,
 * or where rows have no id of their own the uuid unique among the list's rows
 * (a favourite's image). The limit is a plain LIMIT, the same SQL as `take`
 * without a join, so a join must bring one row per node, never a list.
 */
export async function pageNewestFirst<T extends ObjectLiteral & { createdAt: Date }>(
  list: CursorList, qb: SelectQueryBuilder<T>, key: StringColumn<T>, first: number, after?: string | null,
): Promise<Page<T>> {
  assertPageSize(first);
  const alias = qb.alias;
  if (after) {
    const c = decodeKeysetCursor(list, after);
    qb.andWhere(new Brackets((w) => {
      w.where(`${alias}.createdAt < :cAt`, { cAt: c.at }).orWhere(`(${alias}.createdAt = :cAt AND ${alias}.${key} < :cId)`, { cAt: c.at, cId: c.id });
    }));
  }
  const rows = await qb.orderBy(`${alias}.createdAt`, 'DESC').addOrderBy(`${alias}.${key}`, 'DESC').limit(first + 1).getMany();
  const nodes = rows.slice(0, first);
  return { nodes, cursors: nodes.map((n) => encodeKeysetCursor(list, n.createdAt, n[key])), hasNextPage: rows.length > first };
}
