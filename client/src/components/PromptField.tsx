import { useQuery } from '@apollo/client/react';
import { useEffect, useId, useState, type KeyboardEvent } from 'react';
import { SuggestionsQuery } from '../operations/library';

/** The phrase being typed: what follows the last comma. */
function currentFragment(text: string): string {
  return text.slice(text.lastIndexOf(',') + 1).trim();
}

/** Waits until typing pauses, so every keystroke is not a request. */
function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

interface Props {
  value: string;
  onChange(value: string): void;
  error?: string;
}

/**
 * The prompt, with autocomplete for the phrase being typed (a combobox:
 * arrows move, Enter or Tab accepts, Escape closes). Suggestions replace the
 * current phrase and leave a comma for the next one.
 */
export function PromptField({ value, onChange, error }: Props) {
  const listId = useId();
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const fragment = useDebounced(currentFragment(value), 150);
  const { data } = useQuery(SuggestionsQuery, { variables: { query: fragment, limit: 8 }, skip: fragment.length < 2, fetchPolicy: 'cache-first' });
  const suggestions = fragment.length >= 2 ? (data?.suggestions ?? []).filter((s) => s.text.toLowerCase() !== fragment.toLowerCase()) : [];
  const expanded = open && suggestions.length > 0;

  const accept = (text: string) => {
    const cut = value.lastIndexOf(',') + 1;
    const head = value.slice(0, cut);
    onChange(`${head}${cut > 0 ? ' ' : ''}${text}, `);
    setOpen(false);
    setActive(-1);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (!expanded) return;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      setActive((i) => (i + step + suggestions.length) % suggestions.length);
    } else if ((event.key === 'Enter' || event.key === 'Tab') && active >= 0) {
      event.preventDefault();
      accept(suggestions[active].text);
    } else if (event.key === 'Escape') {
      setOpen(false);
    }
  };
  return (
    <div className={`field combo${error ? ' invalid' : ''}`}>
      <label htmlFor="prompt">Prompt</label>
      <textarea id="prompt" name="prompt" rows={3} maxLength={2000} required placeholder="A lighthouse on a cliff at dusk, oil painting"
        role="combobox" aria-autocomplete="list" aria-expanded={expanded} aria-controls={listId}
        aria-activedescendant={expanded && active >= 0 ? `${listId}-${active}` : undefined}
        aria-invalid={Boolean(error)} aria-describedby="prompt-hint"
        value={value} onKeyDown={onKeyDown} onBlur={() => setOpen(false)}
        onChange={(e) => { onChange(e.target.value); setOpen(true); setActive(-1); }} />
      <p id="prompt-hint" className="hint">Suggestions appear as you type; use ↑ ↓ and Enter to pick one.</p>
      {error && <p className="field-error" role="status">{error}</p>}
      <ul id={listId} role="listbox" aria-label="Prompt suggestions" className="suggestions" hidden={!expanded}>
        {suggestions.map((s, i) => (
          <li key={`${s.category}-${s.text}`} id={`${listId}-${i}`} role="option" aria-selected={i === active}
            onMouseDown={(e) => { e.preventDefault(); accept(s.text); }}>
            <span>{s.text}</span> <span className="muted small">{s.category.toLowerCase()}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
