/** `fragment Fk on Query { ...Fk+1 ...Fk+1 }`: 2^levels expansions from a document of a few KB. */
export function fragmentBomb(levels: number, leaf = 'me { id }'): string {
  const chain = Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join('\n');
  return `query Bomb { ...F0 }\n${chain}\nfragment F${levels} on Query { ${leaf} }`;
}
