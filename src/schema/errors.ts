// Moved to src/kernel/ (errors.ts, graphql-errors.ts); this re-export goes once every import points there.
export * from '../kernel/errors';
export { formatGraphQLError as formatError, toGraphQLError } from '../kernel/graphql-errors';
