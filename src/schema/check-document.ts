import type { ApolloServerPlugin } from '@apollo/server';
import { LRUCache } from 'lru-cache';
import { GraphQLError, parse, specifiedRules, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { Viewer } from '../services/auth';
import type { AppContext } from '../resolvers/context';
import { DOCUMENT_RULES, PARSE_OPTIONS, documentTooComplex, parseLimitOf, variablesError } from './document-limits';
import { costError } from './query-cost';
import { controlCharacterError } from './string-inputs';

/** Cost budget for callers who are not signed in (they can reach little anyway). */
export const ANONYMOUS_QUERY_BUDGET = 1000;

/** What a client sends beside the document, over either transport. */
export interface OperationRequest {
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
}

/** The caller's cost budget: their tier's `maxQueryComplexity`, or the anonymous budget. */
export async function queryBudget(
  quotas: { policyOf(viewer: Viewer): Promise<{ maxQueryComplexity: number }> }, viewer: Viewer | null,
): Promise<number> {
  return viewer ? (await quotas.policyOf(viewer)).maxQueryComplexity : ANONYMOUS_QUERY_BUDGET;
}

/** Parses with the document limits; a refusal comes back as an error with a code, never thrown. */
export function parseDocument(source: unknown): DocumentNode | GraphQLError {
  if (typeof source !== 'string') return new GraphQLError('Send the operation as a string in `query`', { extensions: { code: 'BAD_REQUEST' } });
  try {
    return parse(source, PARSE_OPTIONS);
  } catch (error) {
    const limit = parseLimitOf(error as Error);
    if (limit) return documentTooComplex((error as Error).message, limit);
    return new GraphQLError((error as Error).message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
  }
}

/**
 * The checks that depend on the request, not only on the document: variable
 * shape, control characters in strings, then the tier cost budget. Apollo runs the validation half itself
 * (with the same DOCUMENT_RULES, cached per document) and then calls this.
 */
export function checkOperation(schema: GraphQLSchema, document: DocumentNode, request: OperationRequest, budget: number): GraphQLError[] {
  const error = variablesError(request.variables) ?? controlCharacterError(document, request.variables) ?? costError(schema, document, request, budget);
  return error ? [error] : [];
}

/**
 * graphql-js's rules plus the document limits (every step bounded by the size
 * of the document); validation errors carry GRAPHQL_VALIDATION_FAILED unless
 * a limit gave them a code.
 */
function validateDocument(schema: GraphQLSchema, document: DocumentNode): GraphQLError[] {
  return validate(schema, document, [...specifiedRules, ...DOCUMENT_RULES]).map((error) => (error.extensions.code ? error : new GraphQLError(error.message, {
    nodes: error.nodes, originalError: error, extensions: { ...error.extensions, code: 'GRAPHQL_VALIDATION_FAILED' },
  })));
}

/**
 * Parsed and validated documents by source text, as Apollo keeps for HTTP.
 * Members of a session subscribe with the same text, so with a cache they
 * share one syntax tree instead of holding a parse each for the life of the
 * subscription (about 5 KB of tokens, locations and nodes per subscriber:
 * docs/performance.md), and skip the parse and validation. Only what depends on the
 * document alone is cached: variables and the caller's cost budget are
 * checked per operation. Documents that fail are not kept.
 */
export class ValidDocuments {
  private readonly cache: LRUCache<string, DocumentNode>;

  constructor(private readonly schema: GraphQLSchema, maxSourceBytes = 4 * 1024 * 1024) {
    this.cache = new LRUCache({ maxSize: maxSourceBytes, sizeCalculation: (_doc, source) => Math.max(1, source.length) });
  }

  /** The document for `source` after every check, or the refusals. */
  check(source: unknown, request: OperationRequest, budget: number): DocumentNode | GraphQLError[] {
    let document = typeof source === 'string' ? this.cache.get(source) : undefined;
    if (!document) {
      const parsed = parseDocument(source);
      if (parsed instanceof GraphQLError) return [parsed];
      const invalid = validateDocument(this.schema, parsed);
      if (invalid.length) return invalid;
      document = parsed;
      this.cache.set(source as string, document);
    }
    const refused = checkOperation(this.schema, document, request, budget);
    return refused.length ? refused : document;
  }
}

/** Apollo's half of `checkDocument`: after Apollo parsed and validated with PARSE_OPTIONS and DOCUMENT_RULES. */
export function documentCheckPlugin(schema: GraphQLSchema): ApolloServerPlugin<AppContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, contextValue, request }) {
          const budget = await queryBudget(contextValue.services.quotas, contextValue.viewer);
          const [error] = checkOperation(schema, document, request, budget);
          if (error) throw error;
        },
      };
    },
  };
}
