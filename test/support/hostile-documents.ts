/** `fragment Fk on Query { ...Fk+1 ...Fk+1 }`: 2^levels expansions from a document of a few KB. */
export function fragmentBomb(levels: number, leaf = 'me { id }'): string {
  const chain = Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join('\n');
  return `query Bomb { ...F0 }\n${chain}\nfragment F${levels} on Query { ${leaf} }`;
}

/** A GraphQL operation as a client sends it; `variablesJson` is raw JSON (too deep for JSON.stringify). */
export interface HostileOperation {
  name: string;
  query: string;
  variablesJson?: string;
}

const ALBUM_IMAGES = 'mutation Add($a: ID!, $ids: [ID!]!) { addImagesToAlbum(albumId: $a, imageIds: $ids) { id } }';
const GENERATE = 'mutation Generate($input: GenerationInput!) { createGeneration(input: $input) { id } }';

/** The documents of the hostile corpus (docs/request-limits.md, "Hostile documents"): each must be refused with a code, fast, on any transport. */
export function hostileOperations(): HostileOperation[] {
  const depth50 = Array.from({ length: 50 }, (_, i) => (i % 2 ? 'job' : 'images')).reduceRight((inner, field) => `${field} { ${inner} }`, 'id');
  const deepList = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  const deepObject = `${'{"prompt":'.repeat(50_000)}"x"${'}'.repeat(50_000)}`;
  return [
    { name: 'fragment bomb, 30 levels', query: fragmentBomb(30) },
    { name: 'depth 50', query: `{ jobs { edges { node { ${depth50} } } } }` },
    { name: '2,000 aliases', query: `{ ${Array.from({ length: 2000 }, (_, i) => `a${i}: me { id }`).join(' ')} }` },
    { name: '10,000 fields', query: `{ me { ${'id '.repeat(10_000)} } }` },
    { name: 'fragment cycle', query: '{ ...A } fragment A on Query { me { id } ...B } fragment B on Query { ...A }' },
    { name: '1,000 duplicate directives', query: `{ me ${'@include(if: true) '.repeat(1000)} { id } }` },
    { name: '10,000 variable definitions', query: `query Vars(${Array.from({ length: 10_000 }, (_, i) => `$v${i}: Int`).join(' ')}) { me { id } }` },
    { name: 'list variable nested 100,000 deep', query: ALBUM_IMAGES, variablesJson: `{"a":"x","ids":${deepList}}` },
    { name: 'object variable nested 50,000 deep', query: GENERATE, variablesJson: `{"input":${deepObject}}` },
    { name: 'list variable of 200,000 values', query: ALBUM_IMAGES, variablesJson: `{"a":"x","ids":[${Array(200_000).fill('"i"').join(',')}]}` },
    { name: '999 KB query', query: `{ me { ${'id '.repeat(333_000)} } }` },
  ];
}

/** The JSON body of a GraphQL POST for `operation`. */
export function bodyOf(operation: HostileOperation): string {
  return `{"query":${JSON.stringify(operation.query)},"variables":${operation.variablesJson ?? '{}'}}`;
}
