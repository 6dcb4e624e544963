import { Brackets, type ObjectLiteral, type SelectQueryBuilder } from 'typeorm';
import { badInput } from '../kernel/errors';
import { decodeKeysetCursor, encodeKeysetCursor, type CursorList } from '../kernel/paging';
import type { Page } from './job-queries';

/**
 * One page of `list`'s rows newest first, by (createdAt, id) keyset cursors
 * (kernel/paging.ts): the query builder brings its own WHERE, this adds the
 * cursor, the order and the limit.
 */
export async function pageNewestFirst<T extends ObjectLiteral & { createdAt: Date; id: string }>(
  list: CursorList, qb: SelectQueryBuilder<T>, alias: string, first: number, after?: string | null,
): Promise<Page<T>> {
  if (!Number.isInteger(first) || first < 1 || first > 100) throw badInput('first', 'first must be from 1 to 100');
  if (after) {
    const c = decodeKeysetCursor(list, after);
    qb.andWhere(new Brackets((w) => {
      w.where(`${alias}.createdAt < :cAt`, { cAt: c.at }).orWhere(`(${alias}.createdAt = :cAt AND ${alias}.id < :cId)`, { cAt: c.at, cId: c.id });
    }));
  }
  const rows = await qb.orderBy(`${alias}.createdAt`, 'DESC').addOrderBy(`${alias}.id`, 'DESC').take(first + 1).getMany();
  const nodes = rows.slice(0, first);
  return { nodes, cursors: nodes.map((n) => encodeKeysetCursor(list, n.createdAt, n.id)), hasNextPage: rows.length > first };
}
