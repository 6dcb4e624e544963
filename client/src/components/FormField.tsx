import type { ReactNode } from 'react';

/** The ids a control's hint and error carry, for aria-describedby (undefined when neither shows). */
export const describedBy = (id: string, hint?: string, error?: string): string | undefined =>
  [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;

/** A labelled field with its hint and its error (announced), wired to the control by id. */
export function FormField({ id, label, hint, error, children }: { id: string; label: string; hint?: string; error?: string; children: ReactNode }) {
  return (
    <div className={`field${error ? ' invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && <p id={`${id}-hint`} className="hint">{hint}</p>}
      {error && <p id={`${id}-error`} className="field-error" role="status">{error}</p>}
    </div>
  );
}

/** The words each field goes by in a form's messages, by the form's field name (its label without hints such as "(optional)"). */
export type FieldLabels = Readonly<Partial<Record<string, string>>>;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A server message in the form's words: the API's name of the field it
 * starts with (`durationSeconds must be …`) becomes the field's label
 * (`Seconds must be …`). Only a leading name is replaced, and only the
 * field's own: elsewhere in a sentence an identifier such as `name` is an
 * ordinary word, and a path into a list (`loras[0].weight`) is more than the
 * list's label says. A message without one, or a field without a label, is kept.
 */
export function inFieldWords(message: string, field: string, labels: FieldLabels): string {
  const label = labels[field];
  if (!label) return message;
  return message.replace(new RegExp(`^${escapeRegExp(field)}(?![\\w\\[.])`), label);
}

/**
 * Splits a server refusal into a message under its field (when the form has
 * that field) or a message for the whole form. `fieldOf` maps the server's
 * field name (e.g. `loras[0].weight`) onto the form's; a message placed under
 * a field names it by its label (`labels`, see `inFieldWords`), not by the
 * API's identifier.
 */
export function placeError(
  problem: { message: string; field?: string } | null,
  fields: readonly string[],
  { labels = {}, fieldOf = (f) => f.replace(/\[.*$/, '') }: { labels?: FieldLabels; fieldOf?: (field: string) => string } = {},
): { fieldErrors: Record<string, string>; formError: string | null } {
  if (!problem) return { fieldErrors: {}, formError: null };
  const field = problem.field ? fieldOf(problem.field) : undefined;
  if (field && fields.includes(field)) return { fieldErrors: { [field]: inFieldWords(problem.message, field, labels) }, formError: null };
  return { fieldErrors: {}, formError: problem.message };
}

/** Moves focus to a field's control; for a group (a fieldset such as the LoRAs), to its first control. */
export function focusField(id: string): void {
  const element = document.getElementById(id);
  const control = element instanceof HTMLFieldSetElement ? element.querySelector<HTMLElement>('input, select, textarea, button') : element;
  control?.focus();
}

/** The first of `fields` (in the form's order) that has a message: the one to focus. */
export const firstInvalid = <F extends string>(fields: readonly F[], errors: Partial<Record<string, string>>): F | undefined =>
  fields.find((field) => errors[field]);
