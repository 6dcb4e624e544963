import fc from 'fast-check';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { controlCharacterError } from '../../src/schema/string-inputs';

/**
 * The control-character check (docs/request-limits.md) as properties: a C0 or
 * C1 control character other than tab, line feed and carriage return, anywhere
 * in a string a client sends, refuses the operation with BAD_USER_INPUT naming
 * the field; every other character, whatever the script, passes.
 */

const codes = (from: number, to: number) => fc.integer({ min: from, max: to }).map((c) => String.fromCharCode(c));

/** The refused characters: C0 but tab, LF and CR; DEL and C1. */
const controlCharacter = fc.oneof(codes(0x00, 0x08), codes(0x0b, 0x0c), codes(0x0e, 0x1f), codes(0x7f, 0x9f));

/** Allowed: any printable grapheme, the three allowed controls, and the characters either side of each refused range. */
const cleanText = fc.string({
  unit: fc.oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
    fc.constantFrom('\t', '\n', '\r', ' ', '~', '\u00a0', '\u2028', '\u200b', '\ufeff'),
  ),
  maxLength: 40,
});

/** Clean text with one refused character put in between any two code points (never inside a surrogate pair). */
const dirtyText = fc.tuple(cleanText, controlCharacter, fc.nat()).map(([text, bad, at]) => {
  const points = Array.from(text);
  const i = at % (points.length + 1);
  return [...points.slice(0, i), bad, ...points.slice(i)].join('');
});

const VARIABLES_DOCUMENT = parse(`mutation($n: String!, $i: GenerationInput!) {
  createAlbum(name: $n) { id }
  createGeneration(input: $i) { id }
}`);

type Place = 'name' | 'prompt' | 'negativePrompt' | 'loraId';

/** Variables with `text` at one place (an argument, an input field, a field inside a list) and clean text elsewhere. */
function variablesWith(place: Place, text: string, clean: string) {
  const at = (p: Place) => (p === place ? text : clean);
  return { n: at('name'), i: { prompt: at('prompt'), negativePrompt: at('negativePrompt'), count: 2, loras: [{ loraId: at('loraId'), weight: 0.5 }] } };
}

const place = fc.constantFrom<Place>('name', 'prompt', 'negativePrompt', 'loraId');

/** The same text as a literal in the document (JSON's escapes are GraphQL's). */
const literalDocument = (text: string) => parse(`mutation { createSession(name: ${JSON.stringify(text)}) { id } }`);

describe('control characters in client strings, as properties', () => {
  it('clean text passes, in variables at any depth and as a literal', () => {
    fc.assert(
      fc.property(place, cleanText, cleanText, (where, text, elsewhere) => {
        expect(controlCharacterError(VARIABLES_DOCUMENT, variablesWith(where, text, elsewhere))).toBeNull();
        expect(controlCharacterError(literalDocument(text), {})).toBeNull();
      }),
      { numRuns: 300 },
    );
  });

  it('one refused character anywhere in a variable refuses the operation, naming the field that held it', () => {
    fc.assert(
      fc.property(place, dirtyText, cleanText, (where, text, elsewhere) => {
        const error = controlCharacterError(VARIABLES_DOCUMENT, variablesWith(where, text, elsewhere));
        expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: where });
      }),
      { numRuns: 300 },
    );
  });

  it('one refused character in a literal refuses the operation, naming the argument', () => {
    fc.assert(
      fc.property(dirtyText, (text) => {
        expect(controlCharacterError(literalDocument(text), {})?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
      }),
      { numRuns: 300 },
    );
  });
});
