import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  GraphQLError, Kind, type ASTVisitor, type FragmentDefinitionNode, type GraphQLFormattedError, type ParseOptions,
  type SelectionSetNode, type ValidationContext, type ValidationRule,
} from 'graphql';

/**
 * Every step before execution is bounded by the size of the document
 * (docs/request-limits.md). The client's largest document
 * has under 100 tokens; these leave integrators ample room.
 */
export const DOCUMENT_LIMITS = {
  /** Parse: lexical tokens, comments and characters of the query text. */
  tokens: 5000,
  comments: 500,
  length: 100_000,
  /** Validation, per operation, with fragments expanded (each fragment costed once). */
  depth: 12,
  fields: 400,
  aliases: 50,
  directives: 50,
  variables: 50,
  /** Per document. */
  operations: 10,
  /** Variable values (JSON): nesting and the number of values. */
  variableDepth: 8,
  variableValues: 10_000,
} as const;

export type DocumentLimit = keyof typeof DOCUMENT_LIMITS;

/** What `parse` is given, by Apollo (`parseOptions`) and by the graphql-ws path alike. */
export const PARSE_OPTIONS: ParseOptions = {
  maxLexicalTokens: DOCUMENT_LIMITS.tokens,
  maxComments: DOCUMENT_LIMITS.comments,
  maxSourceLength: DOCUMENT_LIMITS.length,
};

/**
 * `queryLimit` names the limit and survives Apollo re-coding validation
 * errors as GRAPHQL_VALIDATION_FAILED: formatError restores QUERY_TOO_COMPLEX from it.
 */
export function documentTooComplex(message: string, queryLimit: DocumentLimit): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: 'QUERY_TOO_COMPLEX', queryLimit, limit: DOCUMENT_LIMITS[queryLimit], http: { status: 400 } },
  });
}

/** graphql-js words its parse-limit errors this way (graphql/language/parser.js, lexer.js). */
const PARSE_LIMIT_MESSAGES: [RegExp, DocumentLimit][] = [
  [/Document contains more th(?:an|at) \d+ tokens\. Parsing aborted\.$/, 'tokens'],
  [/Document contains more than \d+ comments\. Parsing aborted\.$/, 'comments'],
  [/Source contains more than \d+ UTF-16 code units\. Parsing aborted\.$/, 'length'],
];

/** The document limit a parse error stands for, or null for an ordinary syntax error. */
export function parseLimitOf(error: { message: string }): DocumentLimit | null {
  return PARSE_LIMIT_MESSAGES.find(([pattern]) => pattern.test(error.message))?.[1] ?? null;
}

/** A parse-limit error as the client sees it: QUERY_TOO_COMPLEX with the limit, like the validation limits. */
export function withParseLimit(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const limit = parseLimitOf(formatted);
  if (!limit) return formatted;
  return { ...formatted, extensions: { ...formatted.extensions, code: 'QUERY_TOO_COMPLEX', queryLimit: limit, limit: DOCUMENT_LIMITS[limit] } };
}

/** GraphQL Armor's rules report through this instead of throwing, so the error carries our code. */
const reportAs = (limit: DocumentLimit, message: string) => ({
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null) => context?.reportError(documentTooComplex(message, limit))],
});

/**
 * Field selections per operation with fragments expanded. Each fragment's
 * count is computed once (memoised), so `fragment F1 { ...F2 ...F2 }`
 * chains cost their length, not 2^length; a cycle counts as nothing
 * (NoFragmentCyclesRule reports it).
 */
export function maxFieldsRule(max: number): ValidationRule {
  return (context) => {
    const memo = new Map<string, number>();
    const inFragment = (fragment: FragmentDefinitionNode): number => {
      const name = fragment.name.value;
      const known = memo.get(name);
      if (known !== undefined) return known;
      memo.set(name, 0);
      const count = fieldsIn(fragment.selectionSet);
      memo.set(name, count);
      return count;
    };
    const fieldsIn = (set: SelectionSetNode): number => {
      let count = 0;
      for (const selection of set.selections) {
        if (count > max) break;
        if (selection.kind === Kind.FIELD) count += 1 + (selection.selectionSet ? fieldsIn(selection.selectionSet) : 0);
        else if (selection.kind === Kind.INLINE_FRAGMENT) count += fieldsIn(selection.selectionSet);
        else {
          const fragment = context.getFragment(selection.name.value);
          if (fragment) count += inFragment(fragment);
        }
      }
      return count;
    };
    return {
      OperationDefinition(operation) {
        if (fieldsIn(operation.selectionSet) > max) {
          context.reportError(documentTooComplex(`Query selects more than ${max} fields`, 'fields'));
        }
      },
    };
  };
}

/** Operations per document and variable definitions per operation. */
export function documentShapeRule(context: ValidationContext): ASTVisitor {
  const { operations, variables } = DOCUMENT_LIMITS;
  return {
    Document(document) {
      const count = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION).length;
      if (count > operations) context.reportError(documentTooComplex(`Document holds more than ${operations} operations`, 'operations'));
    },
    OperationDefinition(operation) {
      if ((operation.variableDefinitions?.length ?? 0) > variables) {
        context.reportError(documentTooComplex(`Operation declares more than ${variables} variables`, 'variables'));
      }
    },
  };
}

/**
 * The document limits as validation rules, run beside graphql-js's own
 * rules by Apollo (`validationRules`) and by `ValidDocuments` for graphql-ws.
 * Depth does not count fragment spreads as a level; introspection is held
 * to the same depth as everything else.
 */
export const DOCUMENT_RULES: readonly ValidationRule[] = [
  documentShapeRule,
  maxDepthRule({
    n: DOCUMENT_LIMITS.depth, flattenFragments: true, ignoreIntrospection: false,
    ...reportAs('depth', `Query is nested deeper than ${DOCUMENT_LIMITS.depth} levels`),
  }) as unknown as ValidationRule,
  maxAliasesRule({ n: DOCUMENT_LIMITS.aliases, ...reportAs('aliases', `Query uses more than ${DOCUMENT_LIMITS.aliases} aliases`) }) as unknown as ValidationRule,
  maxDirectivesRule({
    n: DOCUMENT_LIMITS.directives, ...reportAs('directives', `Query uses more than ${DOCUMENT_LIMITS.directives} directives`),
  }) as unknown as ValidationRule,
  maxFieldsRule(DOCUMENT_LIMITS.fields),
];

/**
 * Refuses variable values nested deeper than `variableDepth` or holding
 * more than `variableValues` values, walking them without recursion and
 * stopping at the limit. (The request body is already capped at 1 MiB.)
 */
export function variablesError(variables: Record<string, unknown> | null | undefined): GraphQLError | null {
  const { variableDepth, variableValues } = DOCUMENT_LIMITS;
  const stack: [unknown, number][] = Object.values(variables ?? {}).map((value) => [value, 1]);
  let counted = stack.length;
  while (counted <= variableValues && stack.length) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth >= variableDepth) return documentTooComplex(`Variables are nested deeper than ${variableDepth} levels`, 'variableDepth');
    const children = Object.values(value);
    counted += children.length;
    if (counted <= variableValues) for (const child of children) stack.push([child, depth + 1]);
  }
  return counted > variableValues ? documentTooComplex(`Variables hold more than ${variableValues} values`, 'variableValues') : null;
}
