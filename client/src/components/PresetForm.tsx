import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import type { PresetCategory, PresetFieldsFragment, PresetInput, Sampler } from '../gql/graphql';
import { explainError } from '../lib/errors';
import { codePoints, describeRange, fits, GENERATION_LIMITS as L, PRESET_LIMITS as P, type NumberLimit } from '../lib/limits';
import { ModelsQuery, UsageQuery } from '../operations/jobs';
import { CreatePresetMutation, UpdatePresetMutation } from '../operations/presets';
import { SessionsQuery } from '../operations/sessions';
import { describedBy, firstInvalid, focusField, FormField, placeError } from './FormField';
import { LoraPicker } from './LoraPicker';
import { SAMPLERS } from './settings';

const FIELDS = ['name', 'category', 'template', 'negativePrompt', 'width', 'height', 'steps', 'guidanceScale', 'sampler', 'fps', 'durationSeconds', 'modelId', 'sessionId', 'loras'] as const;
type Field = (typeof FIELDS)[number];
type NumberField = 'width' | 'height' | 'steps' | 'guidanceScale' | 'fps' | 'durationSeconds';

/** The control each field's message sits under, to focus when it is the first bad one. */
const CONTROLS: Record<Field, string> = {
  name: 'preset-name', category: 'preset-category', template: 'preset-template', negativePrompt: 'preset-negative',
  width: 'preset-width', height: 'preset-height', steps: 'preset-steps', guidanceScale: 'preset-guidanceScale', sampler: 'preset-sampler',
  fps: 'preset-fps', durationSeconds: 'preset-durationSeconds', modelId: 'preset-model', sessionId: 'preset-session', loras: 'loras',
};

/** The fields' words in a server message placed under them (`durationSeconds must be …` → `Length (s) must be …`). */
const LABELS: Record<Field, string> = {
  name: 'Preset name', category: 'Category', template: 'Template', negativePrompt: 'Negative prompt', width: 'Width (px)', height: 'Height (px)',
  steps: 'Steps', guidanceScale: 'Guidance (CFG)', sampler: 'Sampler', fps: 'Frames per second', durationSeconds: 'Length (s)',
  modelId: 'Model', sessionId: 'Session', loras: 'LoRAs',
};

const NUMBER_LIMITS: Record<NumberField, NumberLimit> = {
  width: L.width, height: L.height, steps: L.steps, guidanceScale: L.guidanceScale, fps: P.fps, durationSeconds: P.durationSeconds,
};

interface Values {
  name: string;
  category: PresetCategory;
  template: string;
  negativePrompt: string;
  /** Empty: the model's own. */
  sampler: Sampler | '';
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
    sampler: p?.sampler ?? '',
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
    width: num('width'), height: num('height'), steps: num('steps'), guidanceScale: num('guidanceScale'), sampler: v.sampler || null,
    fps: video ? num('fps') : null, durationSeconds: video ? num('durationSeconds') : null,
    modelId: v.modelId || null, sessionId: v.sessionId || null, loras: v.loras,
  };
}

/**
 * Every rule of the server's (src/services/presets.ts) that the browser can
 * check, by field: a message for each bad field, none when all are right.
 * Whether the model, session and LoRAs may be used is the server's to say.
 */
function check(v: Values): Partial<Record<Field, string>> {
  const problems: Partial<Record<Field, string>> = {};
  const name = v.name.trim();
  if (!name) problems.name = 'Enter a name for the preset.';
  else if (name.length > P.nameChars) problems.name = `Use at most ${P.nameChars} characters for the name (this has ${name.length}).`;
  const template = v.template.trim();
  if (!template.includes('{prompt}')) problems.template = 'The template must contain {prompt}: write it where the prompt goes.';
  else if (template.length > P.templateChars) problems.template = `Use at most ${P.templateChars} characters (this has ${template.length}).`;
  const negative = codePoints(v.negativePrompt.trim());
  if (negative > L.promptChars.max) problems.negativePrompt = `Use at most ${L.promptChars.max} characters (this has ${negative}).`;
  const sent = inputOf(v);
  for (const field of Object.keys(NUMBER_LIMITS) as NumberField[]) {
    const value = sent[field];
    if (value != null && !fits(value, NUMBER_LIMITS[field])) problems[field] = `Enter ${describeRange(NUMBER_LIMITS[field])}, or leave it empty.`;
  }
  if (v.loras.length > P.loras) problems.loras = `A preset applies at most ${P.loras} LoRAs; remove ${v.loras.length - P.loras}.`;
  else if (v.loras.some((l) => !fits(l.weight, L.loraWeight))) problems.loras = `Each LoRA's weight must be from ${L.loraWeight.min} to ${L.loraWeight.max}.`;
  return problems;
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

/**
 * Creates or replaces a custom preset. Every field is checked first, each bad
 * one flagged at once and the first focused; nothing is sent until all are
 * right. The server's refusals show under the field it names.
 */
export function PresetForm({ editing, onSaved, onCancel }: Props) {
  const [v, setV] = useState<Values>(() => valuesOf(editing));
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<Field, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const models = useQuery(ModelsQuery);
  const sessions = useQuery(SessionsQuery);
  const usage = useQuery(UsageQuery);
  const [create, createState] = useMutation(CreatePresetMutation, { refetchQueries: ['PresetLibrary'] });
  const [update, updateState] = useMutation(UpdatePresetMutation);
  const busy = createState.loading || updateState.loading;
  const set = <K extends keyof Values>(key: K, value: Values[K]) => setV((prev) => ({ ...prev, [key]: value }));
  const setNumber = (field: NumberField, value: string) => setV((prev) => ({ ...prev, numbers: { ...prev.numbers, [field]: value } }));
  const writable = (sessions.data?.sessions ?? []).filter((s) => s.myRole === 'OWNER' || s.myRole === 'COLLABORATOR');

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problems = check(v);
    setFieldErrors(problems);
    setFormError(null);
    const first = firstInvalid(FIELDS, problems);
    if (first) {
      focusField(CONTROLS[first]);
      return;
    }
    try {
      const input = inputOf(v);
      if (editing) await update({ variables: { id: editing.id, input } });
      else await create({ variables: { input } });
      onSaved(input.name, !editing);
    } catch (error) {
      const placed = placeError(explainError(error), FIELDS, { labels: LABELS });
      setFieldErrors(placed.fieldErrors);
      setFormError(placed.formError);
    }
  };

  const number = (field: NumberField, label: string, step?: number) => (
    <FormField id={`preset-${field}`} label={label} error={fieldErrors[field]}>
      <input id={`preset-${field}`} type="number" inputMode="decimal" placeholder="Default" min={NUMBER_LIMITS[field].min} max={NUMBER_LIMITS[field].max}
        step={step} value={v.numbers[field]}
        aria-invalid={Boolean(fieldErrors[field])} aria-describedby={describedBy(`preset-${field}`, undefined, fieldErrors[field])}
        onChange={(e) => setNumber(field, e.target.value)} />
    </FormField>
  );

  return (
    <form className="card" onSubmit={submit} aria-labelledby="preset-form-title" noValidate>
      <h2 id="preset-form-title" className="h3">{editing ? `Edit “${editing.name}”` : 'New preset'}</h2>
      <div className="grid-fields">
        <FormField id="preset-name" label="Preset name" error={fieldErrors.name}>
          <input id="preset-name" required maxLength={P.nameChars} value={v.name} autoFocus={Boolean(editing)} onChange={(e) => set('name', e.target.value)}
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
        <textarea id="preset-template" rows={2} maxLength={P.templateChars} value={v.template} onChange={(e) => set('template', e.target.value)}
          aria-invalid={Boolean(fieldErrors.template)} aria-describedby={describedBy('preset-template', 'hint', fieldErrors.template)} />
      </FormField>
      {v.template.includes('{prompt}') && (
        <p className="preset-applies small" aria-live="polite"><span className="muted">Example: </span><TemplatePreview template={v.template} /></p>
      )}
      <FormField id="preset-negative" label="Negative prompt (optional)" error={fieldErrors.negativePrompt}>
        <input id="preset-negative" maxLength={L.promptChars.max} value={v.negativePrompt} onChange={(e) => set('negativePrompt', e.target.value)}
          aria-invalid={Boolean(fieldErrors.negativePrompt)} aria-describedby={describedBy('preset-negative', undefined, fieldErrors.negativePrompt)} />
      </FormField>
      <fieldset className="grid-fields">
        <legend>Defaults (empty: the generator’s own)</legend>
        {number('width', 'Width (px)', L.width.multipleOf)}
        {number('height', 'Height (px)', L.height.multipleOf)}
        {number('steps', 'Steps')}
        {number('guidanceScale', 'Guidance (CFG)', 0.5)}
        <FormField id="preset-sampler" label="Sampler" error={fieldErrors.sampler}>
          <select id="preset-sampler" value={v.sampler} onChange={(e) => set('sampler', e.target.value as Sampler | '')}
            aria-invalid={Boolean(fieldErrors.sampler)} aria-describedby={describedBy('preset-sampler', undefined, fieldErrors.sampler)}>
            <option value="">Model's default</option>
            {SAMPLERS.map((x) => <option key={x.value} value={x.value}>{x.label}</option>)}
          </select>
        </FormField>
        {v.category === 'VIDEO' && number('fps', 'Frames per second')}
        {v.category === 'VIDEO' && number('durationSeconds', 'Length (s)', 0.5)}
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
        <button type="submit" className="button primary" disabled={busy}>{editing ? 'Save changes' : 'Create preset'}</button>
        {editing && <button type="button" className="button ghost" onClick={onCancel}>Cancel</button>}
      </div>
    </form>
  );
}
