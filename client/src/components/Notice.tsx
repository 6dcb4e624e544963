import type { ReactNode } from 'react';
import { explainError } from '../lib/errors';

/** An error from the API, explained in a sentence and announced to screen readers. */
export function ErrorNotice({ error, title }: { error: unknown; title?: string }) {
  const explained = explainError(error);
  if (!explained) return null;
  return (
    <div className="notice error" role="alert">
      {title && <strong>{title}: </strong>}
      {explained.message}
    </div>
  );
}

/** What to show where a list is empty: a sentence and the next step. */
export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children && <div className="empty-body">{children}</div>}
    </div>
  );
}

/** Copies text to the clipboard and says so; falls back to selecting it where the clipboard is blocked. */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  return (
    <button
      type="button"
      className="button small"
      onClick={async (event) => {
        const button = event.currentTarget;
        try {
          await navigator.clipboard.writeText(text);
          button.textContent = 'Copied';
        } catch {
          button.textContent = 'Select and copy manually';
        }
        setTimeout(() => (button.textContent = label), 2000);
      }}
    >
      {label}
    </button>
  );
}
