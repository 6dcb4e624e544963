import { useApolloClient, useMutation } from '@apollo/client/react';
import { useId, useState } from 'react';
import { explainError } from '../lib/errors';
import { EnhancePromptMutation, RandomPromptQuery } from '../operations/prompts';

interface Props {
  prompt: string;
  onChange(prompt: string): void;
}

/** The last replacement, kept while the prompt still reads as it left it, so it can be undone. */
interface Replacement {
  previous: string;
  applied: string;
  note: string;
}

/**
 * "Enhance prompt" (adds quality and, optionally, style terms the prompt lacks)
 * and "Surprise me" (a random prompt). Both replace the prompt and offer an
 * undo until the prompt is edited by hand.
 */
export function PromptTools({ prompt, onChange }: Props) {
  const id = useId();
  const client = useApolloClient();
  const [enhance, enhanceState] = useMutation(EnhancePromptMutation);
  const [addStyle, setAddStyle] = useState(false);
  const [surprising, setSurprising] = useState(false);
  const [last, setLast] = useState<Replacement | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const busy = enhanceState.loading || surprising;
  const replace = (next: string, note: string) => {
    setLast({ previous: prompt, applied: next, note });
    onChange(next);
  };

  const runEnhance = async () => {
    setProblem(null);
    try {
      const { data } = await enhance({ variables: { prompt: prompt.trim().replace(/,$/, ''), addQuality: true, addStyle } });
      if (!data) return;
      const added = data.enhancePrompt.addedTerms;
      if (added.length === 0) setProblem('Nothing to add: the prompt already has those terms.');
      else replace(data.enhancePrompt.prompt, `Added ${added.join(', ')}.`);
    } catch (error) {
      setProblem(explainError(error)?.message ?? 'Could not enhance the prompt.');
    }
  };
  const runSurprise = async () => {
    setProblem(null);
    setSurprising(true);
    try {
      const { data } = await client.query({ query: RandomPromptQuery, fetchPolicy: 'network-only' });
      const next = data?.randomPrompts[0];
      if (next) replace(next, 'A random prompt.');
    } catch (error) {
      setProblem(explainError(error)?.message ?? 'Could not get a random prompt.');
    } finally {
      setSurprising(false);
    }
  };

  const undoable = last !== null && last.applied === prompt;
  return (
    <div className="prompt-tools" role="group" aria-label="Prompt tools">
      <div className="actions">
        <button type="button" className="button small" disabled={busy || !prompt.trim()} onClick={() => void runEnhance()}>
          {enhanceState.loading ? 'Enhancing…' : 'Enhance prompt'}
        </button>
        <label className="check small" htmlFor={`${id}-style`}>
          <input id={`${id}-style`} type="checkbox" checked={addStyle} onChange={(e) => setAddStyle(e.target.checked)} /> with style terms
        </label>
        <button type="button" className="button ghost small" disabled={busy} onClick={() => void runSurprise()}>Surprise me</button>
      </div>
      <div aria-live="polite">
        {undoable && (
          <p className="small prompt-undo">
            <span className="muted">{last.note} Before: “{last.previous || 'empty'}”</span>{' '}
            <button type="button" className="button ghost small" onClick={() => { onChange(last.previous); setLast(null); }}>Undo</button>
          </p>
        )}
        {problem && <p className="small muted">{problem}</p>}
      </div>
    </div>
  );
}
