/**
 * `text` as one flat string. V8 keeps a string built with `+` or a template
 * as a tree of its pieces (a rope) until something reads it whole; a string
 * held for a long time (a connection's id, a subscription's sharing key) is
 * smaller copied flat: a UUID from `crypto.randomUUID()` is about 490 bytes of
 * heap as a rope and 66 flat (docs/performance.md). The copy is JSON's
 * round trip, which V8 writes flat and which gives back any string exactly
 * (lone surrogates included, which a UTF-8 copy would replace).
 */
export function flatString(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string;
}
