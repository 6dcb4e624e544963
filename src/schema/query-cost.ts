import type { ApolloServerPlugin } from '@apollo/server';
import {
  GraphQLError, Kind, getNamedType, getNullableType, isListType, isObjectType, isInterfaceType,
  type FragmentDefinitionNode, type GraphQLSchema, type GraphQLNamedType, type SelectionSetNode, type ValueNode,
} from 'graphql';
import type { AppContext } from './context';

const DEFAULT_LIST_SIZE = 10;
const PAGING_ARGS = ['first', 'limit', 'count'];

function argValue(node: ValueNode, variables: Record<string, unknown>): number | null {
  if (node.kind === Kind.INT) return Number(node.value);
  if (node.kind === Kind.VARIABLE) {
    const value = variables[node.name.value];
    return typeof value === 'number' ? value : null;
  }
  return null;
}

/**
 * Estimated cost of an operation: one point per field, and the selections
 * under a list multiplied by the page size asked for (`first`, `limit`,
 * `count`) or by 10. Lists directly under a paged field (connection edges)
 * are not multiplied again.
 */
export function estimateCost(
  schema: GraphQLSchema, selectionSet: SelectionSetNode, parent: GraphQLNamedType,
  fragments: Map<string, FragmentDefinitionNode>, variables: Record<string, unknown>, paged = false, depth = 0,
): number {
  if (depth > 50 || (!isObjectType(parent) && !isInterfaceType(parent))) return 0;
  const fields = parent.getFields();
  let cost = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) ?? parent : parent;
      cost += estimateCost(schema, selection.selectionSet, type, fragments, variables, paged, depth + 1);
      continue;
    }
    if (selection.kind === Kind.FRAGMENT_SPREAD) {
      const fragment = fragments.get(selection.name.value);
      if (fragment) cost += estimateCost(schema, fragment.selectionSet, schema.getType(fragment.typeCondition.name.value) ?? parent, fragments, variables, paged, depth + 1);
      continue;
    }
    const field = fields[selection.name.value];
    cost += 1;
    if (!field || !selection.selectionSet) continue;
    const pageArg = selection.arguments?.find((a) => PAGING_ARGS.includes(a.name.value));
    const pageSize = pageArg ? argValue(pageArg.value, variables) ?? DEFAULT_LIST_SIZE : null;
    const list = isListType(getNullableType(field.type));
    const multiplier = pageSize ?? (list && !paged ? DEFAULT_LIST_SIZE : 1);
    cost += multiplier * estimateCost(schema, selection.selectionSet, getNamedType(field.type), fragments, variables, pageSize !== null, depth + 1);
  }
  return cost;
}

/** Refuses operations over the caller's tier budget before they execute. */
export function queryCostPlugin(schema: GraphQLSchema, anonymousBudget: number): ApolloServerPlugin<AppContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, contextValue, request }) {
          if (!operation || operation.operation === 'subscription') return;
          const root = operation.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType();
          if (!root) return;
          const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
          const cost = estimateCost(schema, operation.selectionSet, root, fragments, request.variables ?? {});
          const viewer = contextValue.viewer;
          const budget = viewer ? (viewer.policy ?? await contextValue.services.quotas.policyFor(viewer.user.tier)).maxQueryComplexity : anonymousBudget;
          if (cost > budget) {
            throw new GraphQLError(`Query cost ${cost} exceeds your budget of ${budget}; ask for smaller pages or fewer fields`, {
              extensions: { code: 'QUERY_TOO_COMPLEX', cost, limit: budget, http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}
