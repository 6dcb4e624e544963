import { GraphQLError, Kind, type ASTVisitor, type ValidationContext, type SelectionSetNode } from 'graphql';

export const MAX_DEPTH = 12;
export const MAX_FIELDS = 400;
export const MAX_ALIASES = 50;

/** `queryLimit` survives Apollo re-coding validation errors; formatError restores the code from it. */
function tooComplex(message: string, queryLimit: 'depth' | 'aliases' | 'fields', limit: number): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'QUERY_TOO_COMPLEX', queryLimit, limit } });
}

/**
 * Refuses hostile documents during validation, before anything executes:
 * nesting deeper than MAX_DEPTH (fragments followed), more than MAX_FIELDS
 * field selections, more than MAX_ALIASES aliases.
 */
export function queryLimitRule(context: ValidationContext): ASTVisitor {
  const fragments = new Map(context.getDocument().definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d]] : [])));
  let fields = 0;
  let aliases = 0;
  const depthOf = (set: SelectionSetNode, depth: number, seen: Set<string>): number => {
    let deepest = depth;
    for (const selection of set.selections) {
      if (deepest > MAX_DEPTH) return deepest;
      if (selection.kind === Kind.FIELD) {
        fields += 1;
        if (selection.alias) aliases += 1;
        if (selection.selectionSet) deepest = Math.max(deepest, depthOf(selection.selectionSet, depth + 1, seen));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        deepest = Math.max(deepest, depthOf(selection.selectionSet, depth, seen));
      } else {
        const fragment = fragments.get(selection.name.value);
        if (fragment && !seen.has(selection.name.value)) {
          deepest = Math.max(deepest, depthOf(fragment.selectionSet, depth, new Set([...seen, selection.name.value])));
        }
      }
    }
    return deepest;
  };
  return {
    OperationDefinition(node) {
      fields = 0;
      aliases = 0;
      const depth = depthOf(node.selectionSet, 1, new Set());
      if (depth > MAX_DEPTH) context.reportError(tooComplex(`Query is nested deeper than ${MAX_DEPTH} levels`, 'depth', MAX_DEPTH));
      else if (aliases > MAX_ALIASES) context.reportError(tooComplex(`Query uses more than ${MAX_ALIASES} aliases`, 'aliases', MAX_ALIASES));
      else if (fields > MAX_FIELDS) context.reportError(tooComplex(`Query selects more than ${MAX_FIELDS} fields`, 'fields', MAX_FIELDS));
    },
  };
}

export function queryLimitRules() {
  return [queryLimitRule];
}
