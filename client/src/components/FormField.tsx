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

/**
 * Splits a server refusal into a message under its field (when the form has
 * that field) or a message for the whole form. `fieldOf` maps the server's
 * field name (e.g. `loras[0].weight`) onto the form's.
 */
export function placeError(
  problem: { message: string; field?: string } | null,
  fields: readonly string[],
  fieldOf: (field: string) => string = (f) => f.replace(/\[.*$/, ''),
): { fieldErrors: Record<string, string>; formError: string | null } {
  if (!problem) return { fieldErrors: {}, formError: null };
  const field = problem.field ? fieldOf(problem.field) : undefined;
  if (field && fields.includes(field)) return { fieldErrors: { [field]: problem.message }, formError: null };
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
