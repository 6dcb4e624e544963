import { GraphQLError, Kind, visit, type ASTNode, type DocumentNode } from 'graphql';

/** C0 and C1 control characters other than tab, line feed and carriage return (NUL included). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

function refused(field: string): GraphQLError {
  return new GraphQLError(`${field} must not contain control characters`, {
    extensions: { code: 'BAD_USER_INPUT', field, http: { status: 400 } },
  });
}

type Ancestor = ASTNode | readonly ASTNode[] | undefined;

/** The argument or input field a value sits in: its parent, or the nearest of the visitor's ancestors. */
function fieldAbove(parent: Ancestor, ancestors: readonly Ancestor[]): string | null {
  for (const node of [parent, ...[...ancestors].reverse()]) {
    if (node && 'kind' in node && (node.kind === Kind.ARGUMENT || node.kind === Kind.OBJECT_FIELD)) return node.name.value;
  }
  return null;
}

/** What the walk of a document finds: the field of its first literal with a control character, and each variable's field. */
interface DocumentStrings {
  literal: string | null;
  fieldOfVariable: Map<string, string>;
}

/** Per parsed document: Apollo's document store and ValidDocuments hand the same object to every request with the same text. */
const scans = new WeakMap<DocumentNode, DocumentStrings>();

function scanned(document: DocumentNode): DocumentStrings {
  let found = scans.get(document);
  if (found) return found;
  found = { literal: null, fieldOfVariable: new Map() };
  const { fieldOfVariable } = found;
  visit(document, {
    StringValue(node, _key, parent, _path, ancestors) {
      if (found!.literal === null && CONTROL_CHARACTER.test(node.value)) found!.literal = fieldAbove(parent, ancestors) ?? 'query';
    },
    Variable(node, _key, parent, _path, ancestors) {
      const field = fieldAbove(parent, ancestors);
      if (field && !fieldOfVariable.has(node.name.value)) fieldOfVariable.set(node.name.value, field);
    },
  });
  scans.set(document, found);
  return found;
}

/**
 * Refuses control characters in every string a client sends, as literals
 * in the document or in variables, before anything reaches a service or the
 * database (PostgreSQL refuses NUL in text). `field` names the argument or
 * input field holding the string (`prompt`, `name`, `email`). Runs after the
 * document and variable limits, so both walks are bounded; neither recurses.
 * The document's walk is made once per parsed document; the variables' on
 * every request.
 */
export function controlCharacterError(document: DocumentNode, variables: Record<string, unknown> | null | undefined): GraphQLError | null {
  const { literal, fieldOfVariable } = scanned(document);
  if (literal !== null) return refused(literal);
  const stack: [unknown, string][] = Object.entries(variables ?? {}).map(([name, value]) => [value, fieldOfVariable.get(name) ?? name]);
  while (stack.length) {
    const [value, field] = stack.pop()!;
    if (typeof value === 'string' && CONTROL_CHARACTER.test(value)) return refused(field);
    if (Array.isArray(value)) for (const item of value) stack.push([item, field]);
    else if (value !== null && typeof value === 'object') for (const [key, child] of Object.entries(value)) stack.push([child, key]);
  }
  return null;
}
