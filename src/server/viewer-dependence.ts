import {
  getNamedType, isAbstractType, isCompositeType, isInterfaceType, isObjectType, Kind,
  type DocumentNode, type FragmentDefinitionNode, type GraphQLCompositeType, type GraphQLField,
  type GraphQLSchema, type SelectionSetNode,
} from 'graphql';
import { VIEWER_DEPENDENT } from '../resolvers/viewer-dependent';
import type { Viewer } from '../services/auth';

const memo = new WeakMap<DocumentNode, Map<string, boolean>>();

/**
 * Whether the operation can reach a field marked viewer-dependent
 * (schema/viewer-dependent.ts), so that its result may differ between two
 * viewers of the same event. Each fragment is walked once, so the cost is
 * linear in the document's size; the answer is memoised per document.
 */
export function dependsOnViewer(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): boolean {
  let byOperation = memo.get(document);
  if (!byOperation) {
    byOperation = new Map();
    memo.set(document, byOperation);
  }
  const key = operationName ?? '';
  let answer = byOperation.get(key);
  if (answer === undefined) {
    answer = walkOperation(schema, document, operationName);
    byOperation.set(key, answer);
  }
  return answer;
}

function walkOperation(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): boolean {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const fragmentAnswers = new Map<string, boolean>();

  const fieldsNamed = (type: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown>[] => {
    const own = isObjectType(type) || isInterfaceType(type) ? [type.getFields()[name]] : [];
    // On an interface or union, any implementation's resolver may run.
    const implementations = isAbstractType(type) ? schema.getPossibleTypes(type).map((t) => t.getFields()[name]) : [];
    return [...own, ...implementations].filter((field) => field !== undefined);
  };

  const walk = (selectionSet: SelectionSetNode, type: GraphQLCompositeType): boolean => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const fields = fieldsNamed(type, selection.name.value);
        if (fields.some((field) => field.extensions?.[VIEWER_DEPENDENT])) return true;
        // One walk per selection (not per implementation) keeps the cost linear.
        const named = fields.length > 0 ? getNamedType(fields[0].type) : undefined;
        if (selection.selectionSet && isCompositeType(named) && walk(selection.selectionSet, named)) return true;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
        if (isCompositeType(condition) && walk(selection.selectionSet, condition)) return true;
      } else if (spreadDependsOnViewer(selection.name.value)) {
        return true;
      }
    }
    return false;
  };

  function spreadDependsOnViewer(name: string): boolean {
    const known = fragmentAnswers.get(name);
    if (known !== undefined) return known;
    fragmentAnswers.set(name, false); // a cycle (refused by validation anyway) ends here
    const fragment = fragments.get(name);
    const condition = fragment ? schema.getType(fragment.typeCondition.name.value) : undefined;
    const answer = !!fragment && isCompositeType(condition) && walk(fragment.selectionSet, condition);
    fragmentAnswers.set(name, answer);
    return answer;
  }

  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName));
  if (!operation || operation.kind !== Kind.OPERATION_DEFINITION) return false;
  const root = schema.getRootType(operation.operation);
  return !!root && walk(operation.selectionSet, root);
}

/**
 * What viewer-dependent fields read of the viewer: their id (ownership,
 * favourites, memberships), role (admins see more) and tier (what is usable).
 * Subscribers with the same key get the same result.
 */
export function viewerKey(viewer: Viewer | null): string {
  return viewer ? `${viewer.user.id}:${viewer.user.role}:${viewer.user.tier}` : 'anonymous';
}
