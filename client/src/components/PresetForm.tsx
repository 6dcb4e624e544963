import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import type { PresetCategory, PresetFieldsFragment, PresetInput } from '../gql/graphql';
import { explainError, type ExplainedError } from '../lib/errors';
import { ModelsQuery, UsageQuery } from '../operations/jobs';
import { CreatePresetMutation, UpdatePresetMutation } from '../operations/presets';
import { SessionsQuery } from '../operations/sessions';
import { describedBy, FormField, placeError } from './FormField';
import { LoraPicker } from './LoraPicker';

const FIELDS = ['name', 'category', 'template', 'negativePrompt', 'width', 'height', 'steps', 'guidanceScale', 'fps', 'durationSeconds', 'modelId', 'sessionId', 'loras'] as const;
type NumberField = 'width' | 'height' | 'steps' | 'guidanceScale' | 'fps' | 'durationSeconds';

interface Values {
  name: string;
  category: PresetCategory;
  template: string;
  negativePrompt: string;
  modelId: string;
  sessionId: string;
  loras: { loraId: string; weight: number }[];
  /** Number inputs as typed; empty means "the preset does not set it". */
  numbers: Record<NumberField, string>;
}

const text = (n: number | null | undefined) => (n == null ? '' : String(n));

function valuesOf(p: PresetFieldsFragment | null): Values {
  return {
    name: p?.name ?? '',
    category: p?.category ?? 'IMAGE',
    template: p?.template ?? '{prompt}, ',
    negativePrompt: p?.negativePrompt ?? '',
    modelId: p?.model?.id ?? '',
    sessionId: p?.session?.id ?? '',
    loras: p?.loras.map((l) => ({ loraId: l.loraId, weight: l.weight })) ?? [],
    numbers: { width: text(p?.width), height: text(p?.height), steps: text(p?.steps), guidanceScale: text(p?.guidanceScale), fps: text(p?.fps), durationSeconds: text(p?.durationSeconds) },
  };
}

/** The whole preset, as updatePreset replaces it: fields left empty are cleared, not kept. */
function inputOf(v: Values): PresetInput {
  const num = (field: NumberField) => (v.numbers[field].trim() === '' ? null : Number(v.numbers[field]));
  const video = v.category === 'VIDEO';
  return {
    name: v.name.trim(), category: v.category, template: v.template, negativePrompt: v.negativePrompt.trim() || null,
    width: num('width'), height: num('height'), steps: num('steps'), guidanceScale: num('guidanceScale'),
    fps: video ? num('fps') : null, durationSeconds: video ? num('durationSeconds') : null,
    modelId: v.modelId || null, sessionId: v.sessionId || null, loras: v.loras,
  };
}

/** The template with an example prompt, so the author sees where the prompt lands. */
export function TemplatePreview({ template, prompt = 'a red fox in the snow' }: { template: string; prompt?: string }) {
  const parts = template.split('{prompt}');
  return <>{parts.map((part, i) => <span key={i}>{part}{i < parts.length - 1 && <mark>{prompt}</mark>}</span>)}</>;
}

interface Props {
  /** The preset being edited, or null to create one. */
  editing: PresetFieldsFragment | null;
  onSaved(name: string, created: boolean): void;
  onCancel(): void;
}

/** Creates or replaces a custom preset; refusals show under the field the server names. */
export function PresetForm({ editing, onSaved, onCancel }: Props) {
  const [v, setV] = useState<Values>(() => valuesOf(editing));
  const [problem, setProblem] = useState<ExplainedError | null>(null);
  const models = useQuery(ModelsQuery);
  const sessions = useQuery(SessionsQuery);
  const usage = useQuery(UsageQuery);
  const [create, createState] = useMutation(CreatePresetMutation, { refetchQueries: ['PresetLibrary'] });
  const [update, updateState] = useMutation(UpdatePresetMutation);
  const busy = createState.loading || updateState.loading;
  const { fieldErrors, formError } = placeError(problem, FIELDS);
  const set = <K extends keyof Values>(key: K, value: Values[K]) => setV((prev) => ({ ...prev, [key]: value }));
  const setNumber = (field: NumberField, value: string) => setV((prev) => ({ ...prev, numbers: { ...prev.numbers, [field]: value } }));
  const writable = (sessions.data?.sessions ?? []).filter((s) => s.myRole === 'OWNER' || s.myRole === 'COLLABORATOR');

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(null);
    try {
      const input = inputOf(v);
      if (editing) await update({ variables: { id: editing.id, input } });
      else await create({ variables: { input } });
      onSaved(input.name, !editing);
    } catch (error) {
      setProblem(explainError(error));
    }
  };

  const number = (field: NumberField, label: string, props: { min: number; max: number; step?: number }) => (
    <FormField id={`preset-${field}`} label={label} error={fieldErrors[field]}>
      <input id={`preset-${field}`} type="number" inputMode="decimal" placeholder="Default" {...props} value={v.numbers[field]}
        aria-invalid={Boolean(fieldErrors[field])} aria-describedby={describedBy(`preset-${field}`, undefined, fieldErrors[field])}
        onChange={(e) => setNumber(field, e.target.value)} />
    </FormField>
  );

  return (
    <form className="card" onSubmit={submit} aria-labelledby="preset-form-title" noValidate>
      <h2 id="preset-form-title" className="h3">{editing ? `Edit “${editing.name}”` : 'New preset'}</h2>
      <div className="grid-fields">
        <FormField id="preset-name" label="Preset name" error={fieldErrors.name}>
          <input id="preset-name" required maxLength={80} value={v.name} autoFocus={Boolean(editing)} onChange={(e) => set('name', e.target.value)}
            aria-invalid={Boolean(fieldErrors.name)} aria-describedby={describedBy('preset-name', undefined, fieldErrors.name)} />
        </FormField>
        <FormField id="preset-category" label="Category">
          <select id="preset-category" value={v.category} onChange={(e) => set('category', e.target.value as PresetCategory)}>
            <option value="IMAGE">Image</option>
            <option value="VIDEO">Video</option>
          </select>
        </FormField>
      </div>
      <FormField id="preset-template" label="Template" hint="Write {prompt} where the prompt goes." error={fieldErrors.template}>
        <textarea id="preset-template" rows={2} maxLength={1000} value={v.template} onChange={(e) => set('template', e.target.value)}
          aria-invalid={Boolean(fieldErrors.template)} aria-describedby={describedBy('preset-template', 'hint', fieldErrors.template)} />
      </FormField>
      {v.template.includes('{prompt}') && (
        <p className="preset-applies small" aria-live="polite"><span className="muted">Example: </span><TemplatePreview template={v.template} /></p>
      )}
      <FormField id="preset-negative" label="Negative prompt (optional)" error={fieldErrors.negativePrompt}>
        <input id="preset-negative" maxLength={2000} value={v.negativePrompt} onChange={(e) => set('negativePrompt', e.target.value)}
          aria-invalid={Boolean(fieldErrors.negativePrompt)} aria-describedby={describedBy('preset-negative', undefined, fieldErrors.negativePrompt)} />
      </FormField>
      <fieldset className="grid-fields">
        <legend>Defaults (empty: the generator’s own)</legend>
        {number('width', 'Width (px)', { min: 64, max: 2048, step: 8 })}
        {number('height', 'Height (px)', { min: 64, max: 2048, step: 8 })}
        {number('steps', 'Steps', { min: 1, max: 150 })}
        {number('guidanceScale', 'Guidance (CFG)', { min: 1, max: 30, step: 0.5 })}
        {v.category === 'VIDEO' && number('fps', 'Frames per second', { min: 1, max: 120 })}
        {v.category === 'VIDEO' && number('durationSeconds', 'Length (s)', { min: 0.5, max: 120, step: 0.5 })}
      </fieldset>
      <div className="grid-fields">
        <FormField id="preset-model" label="Model" error={fieldErrors.modelId}>
          <select id="preset-model" value={v.modelId} onChange={(e) => set('modelId', e.target.value)}
            aria-invalid={Boolean(fieldErrors.modelId)} aria-describedby={describedBy('preset-model', undefined, fieldErrors.modelId)}>
            <option value="">Default model</option>
            {(models.data?.models ?? []).filter((m) => m.enabled || m.id === v.modelId).map((m) => <option key={m.id} value={m.id}>{m.name}</option>)}
          </select>
        </FormField>
        <FormField id="preset-session" label="Share with session" hint="Its members can see and use the preset." error={fieldErrors.sessionId}>
          <select id="preset-session" value={v.sessionId} onChange={(e) => set('sessionId', e.target.value)}
            aria-invalid={Boolean(fieldErrors.sessionId)} aria-describedby={describedBy('preset-session', 'hint', fieldErrors.sessionId)}>
            <option value="">Only me</option>
            {writable.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
            {editing?.session && !writable.some((s) => s.id === editing.session?.id) && <option value={editing.session.id}>{editing.session.name}</option>}
          </select>
        </FormField>
      </div>
      <LoraPicker value={v.loras} max={usage.data?.usage.limits.maxLoras} error={fieldErrors.loras} onChange={(loras) => set('loras', loras)} />
      {formError && <div className="notice error" role="alert"><strong>Could not save: </strong>{formError}</div>}
      <div className="actions">
        <button type="submit" className="button primary" disabled={busy || !v.name.trim()}>{editing ? 'Save changes' : 'Create preset'}</button>
        {editing && <button type="button" className="button ghost" onClick={onCancel}>Cancel</button>}
      </div>
    </form>
  );
}
