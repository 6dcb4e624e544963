/**
 * White space and Unicode's default-ignorable code points: zero-width spaces
 * and joiners, word joiners, bidi marks, soft hyphens, variation selectors.
 * None of them shows anything by itself.
 */
const NOTHING_VISIBLE = /^[\s\p{Default_Ignorable_Code_Point}]*$/u;

/**
 * Whether `text` shows nothing at all: a prompt or a name made only of
 * zero-width characters is as empty as one of spaces (`trim` keeps them).
 */
export function isBlank(text: string): boolean {
  return NOTHING_VISIBLE.test(text);
}
