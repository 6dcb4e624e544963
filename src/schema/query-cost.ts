import {
  GraphQLError, getNullableType, isListType, type DocumentNode, type GraphQLField, type GraphQLSchema,
} from 'graphql';
import { fieldExtensionsEstimator, getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import { LRUCache } from 'lru-cache';
import { pageSizeOf } from '../resolvers/complexity';

const DEFAULT_LIST_SIZE = 10;
/** graphql-query-complexity stops here; the document limits keep real documents far below it. */
const MAX_COST_NODES = 10_000;

/**
 * One point per field; what is under a list counts once per item: the page
 * size asked for (`first`, `limit`, `count`) or 10. The `edges` of a
 * `…Connection` are not multiplied again: the field returning the
 * connection counted its page.
 */
const listEstimator: ComplexityEstimator = ({ args, field, type, childComplexity }) => {
  const page = pageSizeOf(args);
  if (page !== null) return 1 + page * childComplexity;
  const list = isListType(getNullableType(field.type)) && !type.name.endsWith('Connection');
  return 1 + (list ? DEFAULT_LIST_SIZE : 1) * childComplexity;
};

/** Arguments that size a page; each documents its range in its description (test/unit/document-limits.test.ts checks every one). */
export const PAGING_ARGS = ['first', 'limit', 'count'];
/** An argument's documented range, "1..100" or "1-200". */
export const RANGE_RE = /\b1\s*(?:\.\.|-)\s*(\d+)\b/;
const pageMaxima = new WeakMap<GraphQLField<unknown, unknown>, Record<string, number>>();

/** The largest page each paging argument of a field accepts, from the argument's documented range. */
function pageMaximaOf(field: GraphQLField<unknown, unknown>): Record<string, number> {
  let maxima = pageMaxima.get(field);
  if (!maxima) {
    maxima = {};
    for (const arg of field.args) {
      const range = PAGING_ARGS.includes(arg.name) ? RANGE_RE.exec(arg.description ?? '') : null;
      if (range) maxima[arg.name] = Number(range[1]);
    }
    pageMaxima.set(field, maxima);
  }
  return maxima;
}

/**
 * An estimator that sees a page size above the field's maximum as that
 * maximum: the resolver refuses such a page (BAD_USER_INPUT naming the
 * argument), and that answer, not QUERY_TOO_COMPLEX, is the useful one.
 * Sizes within range cost what they ask for.
 */
const withinPageMaxima = (estimator: ComplexityEstimator): ComplexityEstimator => (options) => {
  const maxima = pageMaximaOf(options.field);
  let args = options.args;
  for (const [name, max] of Object.entries(maxima)) {
    const value = args[name];
    if (typeof value === 'number' && value > max) args = { ...args, [name]: max };
  }
  return estimator(args === options.args ? options : { ...options, args });
};

/** The cost of a validated document's operation, or null when its variables do not coerce (execution reports that). */
export function queryCost(
  schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | null | undefined, operationName?: string | null,
): number | null {
  try {
    return getComplexity({
      schema, query: document, variables: variables ?? {}, operationName: operationName ?? undefined,
      estimators: [withinPageMaxima(fieldExtensionsEstimator()), withinPageMaxima(listEstimator)], maxQueryNodes: MAX_COST_NODES,
    });
  } catch (error) {
    if (error instanceof GraphQLError && /maximum allowed number of nodes/.test(error.message)) return Infinity;
    if (error instanceof GraphQLError) return null;
    throw error;
  }
}

/**
 * Costs computed for each parsed document (Apollo's document store and
 * ValidDocuments hand the same object to every request with the same text),
 * by operation name and variables with every string blanked: no estimator
 * reads a string, so a prompt's text does not make a request a miss. Only a
 * cost within the caller's budget is taken from here; anything else is
 * computed afresh, so a request is answered as it would be without the
 * cache (a variable that does not coerce, an enum's string blanked in the
 * key, still reaches execution and its own error). Failed coercions (null)
 * are never kept.
 */
const computed = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, LRUCache<string, number>>>();
const blankStrings = (_key: string, value: unknown) => (typeof value === 'string' ? '' : value);

function costWithin(
  schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | null | undefined, operationName: string | null | undefined, budget: number,
): number | null {
  let bySchema = computed.get(schema);
  if (!bySchema) computed.set(schema, (bySchema = new WeakMap()));
  let costs = bySchema.get(document);
  if (!costs) bySchema.set(document, (costs = new LRUCache({ max: 64 })));
  const key = `${operationName ?? ''}\u0000${JSON.stringify(variables ?? {}, blankStrings)}`;
  const known = costs.get(key);
  if (known !== undefined && known <= budget) return known;
  const cost = queryCost(schema, document, variables, operationName);
  if (cost !== null) costs.set(key, cost);
  return cost;
}

/** QUERY_TOO_COMPLEX when the operation costs more than the caller's tier allows (`maxQueryComplexity`). */
export function costError(
  schema: GraphQLSchema, document: DocumentNode, request: { variables?: Record<string, unknown> | null; operationName?: string | null }, budget: number,
): GraphQLError | null {
  const cost = costWithin(schema, document, request.variables, request.operationName, budget);
  if (cost === null || cost <= budget) return null;
  const message = Number.isFinite(cost)
    ? `Query cost ${cost} exceeds your budget of ${budget}; ask for smaller pages or fewer fields`
    : `Query expands to over ${MAX_COST_NODES} selections, beyond any budget; ask for fewer fields`;
  return new GraphQLError(message, {
    extensions: { code: 'QUERY_TOO_COMPLEX', cost: Number.isFinite(cost) ? cost : null, limit: budget, http: { status: 400 } },
  });
}
