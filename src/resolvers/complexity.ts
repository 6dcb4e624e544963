import type { ComplexityEstimator } from 'graphql-query-complexity';

const PAGING_ARGS = ['first', 'limit', 'count'];

/** The page size a field's arguments ask for (`first`, `limit` or `count`), or null. */
export function pageSizeOf(args: Record<string, unknown>): number | null {
  for (const name of PAGING_ARGS) {
    const value = args[name];
    if (typeof value === 'number') return Math.max(0, value);
  }
  return null;
}

/**
 * type-graphql `complexity` for a field returning a connection: what is
 * under it counts once per row of the page asked for, or of the resolver's
 * default page size.
 */
export function pagedComplexity(defaultPageSize: number): ComplexityEstimator {
  return ({ args, childComplexity }) => 1 + (pageSizeOf(args) ?? defaultPageSize) * childComplexity;
}
