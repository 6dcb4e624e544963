import type { ApolloServerPlugin } from '@apollo/server';
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
 * Validates and costs a parsed document for a budget: graphql-js's rules
 * plus the document limits, then `checkOperation`. Every step is bounded by
 * the size of the document. Used as is by graphql-ws; validation errors
 * carry GRAPHQL_VALIDATION_FAILED unless a limit gave them a code.
 */
export function checkDocument(schema: GraphQLSchema, document: DocumentNode, request: OperationRequest, budget: number): GraphQLError[] {
  const invalid = validate(schema, document, [...specifiedRules, ...DOCUMENT_RULES]);
  if (invalid.length) {
    return invalid.map((error) => (error.extensions.code ? error : new GraphQLError(error.message, {
      nodes: error.nodes, originalError: error, extensions: { ...error.extensions, code: 'GRAPHQL_VALIDATION_FAILED' },
    })));
  }
  return checkOperation(schema, document, request, budget);
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
