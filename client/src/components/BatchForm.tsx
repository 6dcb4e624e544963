import { useState, type FormEvent } from 'react';
import type { BatchInput, BatchSweepParameter, SessionsQuery } from '../gql/graphql';
import { DEFAULT_SETTINGS } from './settings';

type Columns = 'SEEDS' | BatchSweepParameter;

const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean);
const numbers = (text: string) => text.split(/[\s,]+/).filter(Boolean).map(Number);

/** The form's values as createBatch's input: a list of prompts, or a matrix of prompts × seeds or swept values. */
function toInput(f: {
  name: string; prompts: string; matrix: boolean; columns: Columns; values: string; width: number; height: number; steps: number; sessionId: string;
}): BatchInput {
  const shared = { name: f.name.trim() || null, width: f.width, height: f.height, steps: f.steps, sessionId: f.sessionId || null };
  if (!f.matrix) return { ...shared, prompts: lines(f.prompts) };
  const columns = numbers(f.values);
  return {
    ...shared,
    matrix: f.columns === 'SEEDS' ? { prompts: lines(f.prompts), seeds: columns } : { prompts: lines(f.prompts), parameter: f.columns, values: columns },
  };
}

/** Prompts one per line, or a matrix (rows × seeds or × one parameter's values), with the shared size and steps. */
export function BatchForm({ busy, fieldErrors, sessions, onSubmit }: {
  busy: boolean; fieldErrors: Record<string, string>; sessions: SessionsQuery['sessions']; onSubmit: (input: BatchInput) => void;
}) {
  const writable = sessions.filter((x) => (x.myRole === 'OWNER' || x.myRole === 'COLLABORATOR') && x.status === 'ACTIVE');
  const [form, setForm] = useState({
    name: '', prompts: '', matrix: false, columns: 'SEEDS' as Columns, values: '1, 2, 3', sessionId: '',
    width: DEFAULT_SETTINGS.width, height: DEFAULT_SETTINGS.height, steps: DEFAULT_SETTINGS.steps,
  });
  const set = <K extends keyof typeof form>(key: K, value: (typeof form)[K]) => setForm((f) => ({ ...f, [key]: value }));
  const count = lines(form.prompts).length * (form.matrix ? Math.max(1, numbers(form.values).length) : 1);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit(toInput(form));
  };
  const error = (field: string) => fieldErrors[field] && <p className="field-error" role="alert">{fieldErrors[field]}</p>;
  return (
    <form className="stack" onSubmit={submit} aria-label="New batch">
      <label>Batch name (optional)<input value={form.name} onChange={(e) => set('name', e.target.value)} /></label>
      {error('name')}
      <fieldset className="inline-fields">
        <legend>Kind</legend>
        <label><input type="radio" name="kind" checked={!form.matrix} onChange={() => set('matrix', false)} /> List of prompts</label>
        <label><input type="radio" name="kind" checked={form.matrix} onChange={() => set('matrix', true)} /> Matrix</label>
      </fieldset>
      <label>{form.matrix ? 'Rows: prompts, one per line' : 'Prompts, one per line'}
        <textarea rows={6} value={form.prompts} onChange={(e) => set('prompts', e.target.value)} required />
      </label>
      {error('prompts') ?? error('matrix.prompts')}
      {form.matrix && (
        <div className="inline-fields">
          <label>Columns
            <select value={form.columns} onChange={(e) => set('columns', e.target.value as Columns)}>
              <option value="SEEDS">Seeds</option>
              <option value="STEPS">Steps</option>
              <option value="GUIDANCE_SCALE">Guidance scale</option>
            </select>
          </label>
          <label>Column values (comma-separated)<input value={form.values} onChange={(e) => set('values', e.target.value)} /></label>
        </div>
      )}
      {error('matrix') ?? error('matrix.seeds') ?? error('matrix.values')}
      <div className="inline-fields">
        <label>Width<input type="number" step={8} value={form.width} onChange={(e) => set('width', Number(e.target.value))} /></label>
        <label>Height<input type="number" step={8} value={form.height} onChange={(e) => set('height', Number(e.target.value))} /></label>
        <label>Steps<input type="number" value={form.steps} onChange={(e) => set('steps', Number(e.target.value))} /></label>
      </div>
      {writable.length > 0 && (
        <label>Session (teammates watch it live)
          <select value={form.sessionId} onChange={(e) => set('sessionId', e.target.value)}>
            <option value="">None</option>
            {writable.map((x) => <option key={x.id} value={x.id}>{x.name}</option>)}
          </select>
        </label>
      )}
      {error('sessionId')}
      <button type="submit" disabled={busy || count === 0}>{busy ? 'Starting…' : `Start batch of ${count} job${count === 1 ? '' : 's'}`}</button>
    </form>
  );
}
