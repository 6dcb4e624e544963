import type { GraphQLError, GraphQLSchema } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildAppSchema } from '../../src/schema/build';
import { ANONYMOUS_QUERY_BUDGET, ValidDocuments, parseDocument } from '../../src/schema/check-document';
import { DOCUMENT_LIMITS } from '../../src/schema/document-limits';
import { queryCost } from '../../src/schema/query-cost';
import { fragmentBomb } from '../support/hostile-documents';

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildAppSchema();
});

/** Parses and checks as the graphql-ws path does, with nothing cached yet; returns the errors and the time taken. */
function check(query: string, variables: Record<string, unknown> = {}, budget = ANONYMOUS_QUERY_BUDGET): { errors: GraphQLError[]; ms: number } {
  const started = performance.now();
  const checked = new ValidDocuments(schema).check(query, { variables }, budget);
  return { errors: Array.isArray(checked) ? checked : [], ms: performance.now() - started };
}

const limitOf = (errors: GraphQLError[]) => errors.map((e) => `${e.extensions.code}:${e.extensions.queryLimit ?? ''}`);

describe('document limits', () => {
  it('refuses the 30-level fragment bomb in well under a second (each fragment costed once)', () => {
    for (const leaf of ['me { id }', '__typename']) {
      const { errors, ms } = check(fragmentBomb(30, leaf));
      expect(limitOf(errors)).toContain('QUERY_TOO_COMPLEX:fields');
      expect(ms).toBeLessThan(1000);
    }
  });

  it('counts fields through fragments, refusing 401 and accepting 400', () => {
    const fields = (n: number) => `{ ...A } fragment A on Query { me { ${Array.from({ length: n - 1 }, (_, i) => `f${i}: id`).join(' ')} } }`;
    // Aliases have their own limit: stay under it by repeating one field instead.
    const same = (n: number) => `{ ...A ...A } fragment A on Query { me { ${'id '.repeat(n / 2 - 1)} } }`;
    expect(limitOf(check(same(402)).errors)).toContain('QUERY_TOO_COMPLEX:fields');
    expect(check(same(400)).errors).toEqual([]);
    expect(limitOf(check(fields(60)).errors)).toEqual(['QUERY_TOO_COMPLEX:aliases']);
  });

  it('refuses depth past the limit, with fragments not counted as a level', () => {
    const nested = (levels: number) =>
      Array.from({ length: levels }, (_, i) => (i % 2 ? 'job' : 'images')).reduceRight((inner, field) => `${field} { ${inner} }`, 'id');
    // jobs > edges > node is 3 levels, `id` one more.
    expect(check(`{ jobs(first: 1) { edges { node { ${nested(DOCUMENT_LIMITS.depth - 4)} } } } }`, {}, 1e9).errors).toEqual([]);
    expect(limitOf(check(`{ jobs(first: 1) { edges { node { ${nested(DOCUMENT_LIMITS.depth - 3)} } } } }`, {}, 1e9).errors)).toEqual(['QUERY_TOO_COMPLEX:depth']);
    expect(check(`{ jobs(first: 1) { edges { node { ...N } } } } fragment N on Job { ${nested(DOCUMENT_LIMITS.depth - 4)} }`, {}, 1e9).errors).toEqual([]);
  });

  it('refuses aliases, directives, variable definitions and operations past their limits', () => {
    const aliases = Array.from({ length: 51 }, (_, i) => `a${i}: me { id }`).join(' ');
    expect(limitOf(check(`{ ${aliases} }`).errors)).toEqual(['QUERY_TOO_COMPLEX:aliases']);
    const directives = Array.from({ length: 51 }, () => 'me @include(if: true) { id }').join(' ');
    expect(limitOf(check(`{ ${directives} }`).errors)).toEqual(['QUERY_TOO_COMPLEX:directives']);
    const definitions = Array.from({ length: 51 }, (_, i) => `$v${i}: Boolean`).join(' ');
    const uses = Array.from({ length: 51 }, (_, i) => `me @include(if: $v${i}) { id }`).join(' ');
    expect(limitOf(check(`query(${definitions}) { ${uses} }`).errors)).toContain('QUERY_TOO_COMPLEX:variables');
    const operations = Array.from({ length: 11 }, (_, i) => `query Q${i} { me { id } }`).join(' ');
    expect(limitOf(check(operations).errors)).toEqual(['QUERY_TOO_COMPLEX:operations']);
  });

  it('refuses documents past the token, comment and length limits at parse time', () => {
    expect(limitOf(check(`{ me { ${'id '.repeat(DOCUMENT_LIMITS.tokens)} } }`).errors)).toEqual(['QUERY_TOO_COMPLEX:tokens']);
    expect(limitOf(check(`{ me { id } }\n${'#\n'.repeat(DOCUMENT_LIMITS.comments + 1)}`).errors)).toEqual(['QUERY_TOO_COMPLEX:comments']);
    expect(limitOf(check(`{ me { id } } ${' '.repeat(DOCUMENT_LIMITS.length)}`).errors)).toEqual(['QUERY_TOO_COMPLEX:length']);
    expect(limitOf(check('{ me { id }').errors)).toEqual(['GRAPHQL_PARSE_FAILED:']);
  });

  it('refuses deeply nested and oversized variables without walking all of them', () => {
    const query = 'mutation($a: ID!, $ids: [ID!]!) { addImagesToAlbum(albumId: $a, imageIds: $ids) { id } }';
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i += 1) deep = [deep];
    const nested = check(query, { a: 'x', ids: deep });
    expect(limitOf(nested.errors)).toEqual(['QUERY_TOO_COMPLEX:variableDepth']);
    const wide = check(query, { a: 'x', ids: Array.from({ length: 200_000 }, () => 'id') });
    expect(limitOf(wide.errors)).toEqual(['QUERY_TOO_COMPLEX:variableValues']);
    expect(nested.ms + wide.ms).toBeLessThan(1000);
  });

  it('costs with graphql-query-complexity: page sizes multiply, connections count their default page', () => {
    const cost = (query: string) => {
      const document = parseDocument(query);
      if (!('kind' in document)) throw document;
      return queryCost(schema, document, {});
    };
    // 1 (jobs) + 100 × (1 edges + 1 node + 1 id)
    expect(cost('{ jobs(first: 100) { edges { node { id } } } }')).toBe(301);
    // Without `first`, the resolver's default page of 20.
    expect(cost('{ jobs { edges { node { id } } } }')).toBe(61);
    // A plain list counts 10 items.
    expect(cost('{ models { id } }')).toBe(11);
    expect(limitOf(check('{ jobs(first: 100) { edges { node { id images { id url job { images { id url seed width height } } } } } } }', {}, 5000).errors))
      .toEqual(['QUERY_TOO_COMPLEX:']);
  });
});

describe('what is kept per document', () => {
  const heavy = 'query ($n: Int, $s: JobStatus, $a: String) { jobs(first: $n, status: $s, after: $a) { edges { node { id images { id url job { images { id url seed width height } } } } } } }';

  it('a cost is kept by the shape of the variables, strings blanked; a request is answered as without the cache', () => {
    const documents = new ValidDocuments(schema); // one parsed document for every call below, as Apollo's store gives
    const codes = (variables: Record<string, unknown>) => {
      const checked = documents.check(heavy, { variables }, 5000);
      return Array.isArray(checked) ? checked.map((e) => e.extensions.code) : [];
    };
    // A page of 2 is cheap, whatever the cursor's text; a page of 100 is not, however cheap the same text was.
    expect(codes({ n: 2, a: 'one' })).toEqual([]);
    expect(codes({ n: 2, a: 'another' })).toEqual([]);
    expect(codes({ n: 100, a: 'one' })).toEqual(['QUERY_TOO_COMPLEX']);
    // A status that does not coerce has no cost (execution reports it), before and after the same shape with a
    // real status was costed over the budget: a kept cost only ever lets a request through.
    expect(codes({ n: 100, s: 'NOT_A_STATUS' })).toEqual([]);
    expect(codes({ n: 100, s: 'PENDING' })).toEqual(['QUERY_TOO_COMPLEX']);
    expect(codes({ n: 100, s: 'NOT_A_STATUS' })).toEqual([]);
  });

  it('control characters are found in every request’s variables, the document walked once', () => {
    const documents = new ValidDocuments(schema);
    const field = (variables: Record<string, unknown>) => {
      const checked = documents.check(heavy, { variables }, 5000);
      return Array.isArray(checked) ? checked.map((e) => e.extensions.field) : [];
    };
    expect(field({ n: 1, a: 'fine' })).toEqual([]);
    expect(field({ n: 1, a: 'bad\u0000' })).toEqual(['after']);
    expect(field({ n: 1, a: 'fine again' })).toEqual([]);
    const literal = new ValidDocuments(schema);
    for (let i = 0; i < 2; i += 1) {
      const checked = literal.check('{ jobs(after: "x\u0007") { edges { node { id } } } }', {}, 5000);
      expect(Array.isArray(checked) && checked.map((e) => e.extensions.field)).toEqual(['after']);
    }
  });
});

describe('ValidDocuments (the graphql-ws document cache)', () => {
  const subscription = 'subscription ($s: ID!) { sessionEvents(sessionId: $s) { type at } }';

  it('hands every subscriber of the same text one shared syntax tree', () => {
    const documents = new ValidDocuments(schema);
    const first = documents.check(subscription, { variables: { s: 'a' } }, ANONYMOUS_QUERY_BUDGET);
    const second = documents.check(subscription, { variables: { s: 'b' } }, ANONYMOUS_QUERY_BUDGET);
    expect(Array.isArray(first)).toBe(false);
    expect(second).toBe(first);
  });

  it('still checks variables and the cost budget per operation once the document is cached', () => {
    const documents = new ValidDocuments(schema);
    const query = '{ jobs(first: 100) { edges { node { id } } } }';
    expect(Array.isArray(documents.check(query, { variables: {} }, 1_000_000))).toBe(false);
    const tooCostly = documents.check(query, { variables: {} }, 1);
    expect(Array.isArray(tooCostly) && tooCostly.map((e) => e.extensions.code)).toEqual(['QUERY_TOO_COMPLEX']);
    const badVariables = documents.check(subscription, { variables: { s: 'x\u0000' } }, ANONYMOUS_QUERY_BUDGET);
    expect(Array.isArray(badVariables) && badVariables.map((e) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
  });

  it('keeps refusing a bad document with its code every time (failures are not cached)', () => {
    const documents = new ValidDocuments(schema);
    for (let i = 0; i < 2; i += 1) {
      const refused = documents.check('{ noSuchField }', { variables: {} }, ANONYMOUS_QUERY_BUDGET);
      expect(Array.isArray(refused) && refused.map((e) => e.extensions.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      const broken = documents.check('{ me ', { variables: {} }, ANONYMOUS_QUERY_BUDGET);
      expect(Array.isArray(broken) && broken.map((e) => e.extensions.code)).toEqual(['GRAPHQL_PARSE_FAILED']);
    }
  });
});

describe('page maxima', () => {
  it('every paging argument documents its range, and a page above it costs what the largest page costs', async () => {
    const { PAGING_ARGS, RANGE_RE } = await import('../../src/schema/query-cost');
    const { parse, isObjectType, getNamedType, isLeafType } = await import('graphql');
    const query = schema.getQueryType()!;
    const checked: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        for (const arg of field.args.filter((a) => PAGING_ARGS.includes(a.name) && getNamedType(a.type).name === 'Int')) {
          const range = RANGE_RE.exec(arg.description ?? '');
          // The cost rule reads the maximum there: without it, a page above the maximum is costed as asked.
          expect(range, `${type.name}.${field.name}(${arg.name}) documents no "1..N" range`).not.toBeNull();
          checked.push(`${type.name}.${field.name}`);
          // Costed the same at the maximum and far above it (the resolver then refuses it as BAD_USER_INPUT).
          if (type !== query || field.args.some((a) => a !== arg && a.type.toString().endsWith('!'))) continue;
          const leaf = isLeafType(getNamedType(field.type)) ? '' : ' { __typename }';
          const cost = (n: number) => queryCost(schema, parse(`{ ${field.name}(${arg.name}: ${n})${leaf} }`), {});
          expect(cost(Number(range![1]) * 1000), `${field.name}(${arg.name})`).toBe(cost(Number(range![1])));
        }
      }
    }
    expect(checked).toEqual(expect.arrayContaining(['Query.jobs', 'Query.users', 'Query.popularPresets', 'Album.images', 'Batch.jobs']));
  });
});
