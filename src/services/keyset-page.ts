import { Brackets, type ObjectLiteral, type SelectQueryBuilder } from 'typeorm';
import { badInput } from '../kernel/errors';
import { decodeKeysetCursor, encodeKeysetCursor, KEYSET_TIME_FORMAT, type CursorList } from '../kernel/paging';
import type { Page } from './job-queries';

/** A page holds 1 to 100 rows: BAD_USER_INPUT on `first` otherwise. */
export function assertPageSize(first: number): void {
  if (!Number.isInteger(first) || first < 1 || first > 100) throw badInput('first', 'first must be from 1 to 100');
}

/** The columns of `T` that hold a string: what a row's uuid can be read from. */
type StringColumn<T> = { [K in keyof T]-?: T[K] extends string ? K : never }[keyof T] & string;

/** The column a page's query adds: each row's createdAt as its cursor carries it, to the microsecond. */
const CURSOR_TIME = 'keyset_cursor_time';

/**
 * One page of `list`'s rows newest first, by (createdAt, `key`) keyset cursors
 * (kernel/paging.ts): the query builder brings its own WHERE, this adds the
 * cursor, the order and the limit. `key` orders rows of one createdAt: `id`,
 * or where rows have no id of their own the uuid unique among the list's rows
 * (a favourite's image). The limit is a plain LIMIT, the same SQL as `take`
 * without a join, so a join must bring one row per node, never a list (the
 * cursors are read from the raw rows, one per node).
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
  // The time as PostgreSQL keeps it: a Date holds milliseconds, a row microseconds.
  const { entities, raw } = await qb.addSelect(`to_char(${alias}.createdAt AT TIME ZONE 'UTC', :keysetTimeFormat)`, CURSOR_TIME)
    .setParameter('keysetTimeFormat', KEYSET_TIME_FORMAT)
    .orderBy(`${alias}.createdAt`, 'DESC').addOrderBy(`${alias}.${key}`, 'DESC').limit(first + 1)
    .getRawAndEntities<{ [CURSOR_TIME]: string }>();
  const nodes = entities.slice(0, first);
  return { nodes, cursors: nodes.map((n, i) => encodeKeysetCursor(list, raw[i][CURSOR_TIME], n[key])), hasNextPage: entities.length > first };
}
