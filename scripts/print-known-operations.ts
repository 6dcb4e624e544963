/**
 * Writes the client's operation names to src/observability/known-operations.ts
 * (`npm run operations:print`, after `npm run codegen`): the only operation
 * names that become metric labels.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Kind, parse } from 'graphql';

const ROOT = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');
export const KNOWN_OPERATIONS_FILE = path.join(ROOT, 'src/observability/known-operations.ts');

/** Operation names of every document in the client's generated document map (client/src/gql/gql.ts). */
export function clientOperationNames(root = ROOT): string[] {
  const source = readFileSync(path.join(root, 'client/src/gql/gql.ts'), 'utf8');
  const documents = [...source.matchAll(/^ {4}"((?:[^"\\]|\\.)*)": typeof types\./gm)].map((m) => JSON.parse(`"${m[1]}"`) as string);
  const names = documents.flatMap((document) =>
    parse(document).definitions.flatMap((d) => (d.kind === Kind.OPERATION_DEFINITION && d.name ? [d.name.value] : [])));
  return [...new Set(names)].sort();
}

/** The TypeScript module holding `names`. */
export function knownOperationsModule(names: string[]): string {
  const lines = names.map((name) => `  '${name}',`).join('\n');
  return `/** The client's operation names (client/src), written by \`npm run operations:print\`; the only names used as metric labels. */
export const KNOWN_OPERATIONS: ReadonlySet<string> = new Set([
${lines}
]);
`;
}

if (require.main === module) {
  writeFileSync(KNOWN_OPERATIONS_FILE, knownOperationsModule(clientOperationNames()));
  console.log(`wrote ${path.relative(process.cwd(), KNOWN_OPERATIONS_FILE)}`);
}
