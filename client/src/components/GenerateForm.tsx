import { useState, type FormEvent, type ReactNode } from 'react';
import type { ModelsQuery, Sampler, SessionsQuery } from '../gql/graphql';
import { BACKEND_LABELS } from '../lib/backends';
import { GENERATION_LIMITS as L } from '../lib/limits';
import { fitToTier, limitHints, type Limits } from './LimitHints';
import { LoraPicker } from './LoraPicker';
import { PresetPicker, type PresetOption } from './PresetPicker';
import { PromptField } from './PromptField';
import { PromptTools } from './PromptTools';
import { SAMPLERS, type GenerationSettings } from './settings';

const SIZES = [
  [256, 256],
  [512, 512],
  [768, 768],
  [1024, 1024],
  [768, 512],
  [512, 768],
  [1024, 576],
] as const;

interface Props {
  initial: GenerationSettings;
  limits: Limits | undefined;
  models: ModelsQuery['models'];
  sessions: SessionsQuery['sessions'];
  busy: boolean;
  /** Per-field message from the server's last refusal (field name → sentence). */
  serverErrors: Record<string, string>;
  /** Says how a preset carried in was fitted to the tier. */
  note?: string | null;
  /** Called with the fields a change touched, so the page can drop refusals they made stale. */
  onEdit(fields: string[]): void;
  onSubmit(settings: GenerationSettings): void;
}

type NumberField = 'width' | 'height' | 'steps' | 'guidanceScale' | 'count';


/** A labelled field with its hint and error wired to aria-describedby. */
function Field({ id, label, hint, error, children }: { id: string; label: string; hint?: string; error?: string; children: ReactNode }) {
  return (
    <div className={`field${error ? ' invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && <p id={`${id}-hint`} className="hint">{hint}</p>}
      {error && <p id={`${id}-error`} className="field-error" role="status">{error}</p>}
    </div>
  );
}

const describedBy = (id: string, hint?: string, error?: string) =>
  [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;

/** The generator's controls: prompt, size, steps, guidance, seed, count, model and session. */
export function GenerateForm({ initial, limits, models, sessions, busy, serverErrors, note = null, onEdit, onSubmit }: Props) {
  const [s, setS] = useState<GenerationSettings>(initial);
  // Number fields emptied while typing: not a value (never 0), and no job until they have one.
  const [blank, setBlank] = useState<ReadonlySet<string>>(new Set());
  const [fitNote, setFitNote] = useState(note);
  const update = (patch: Partial<GenerationSettings>) => {
    setS((prev) => ({ ...prev, ...patch }));
    setBlank((prev) => new Set([...prev].filter((f) => !(f in patch))));
    onEdit(Object.keys(patch));
  };
  const set = <K extends keyof GenerationSettings>(key: K, value: GenerationSettings[K]) => update({ [key]: value });
  const hints = limitHints(s, limits);
  const errorOf = (field: string) => serverErrors[field] ?? hints[field];
  const sizeKey = `${s.width}x${s.height}`;
  const chosen = models.find((m) => (s.modelId ? m.id === s.modelId : m.isDefault));
  const writableSessions = sessions.filter((x) => x.myRole === 'OWNER' || x.myRole === 'COLLABORATOR');
  // A preset fills in the parameters it sets, so people see (and can override) what it applies;
  // its size and steps are fitted to the tier, as the server fits them.
  const applyPreset = (preset: PresetOption | null) => {
    const chosenSettings: GenerationSettings = {
      ...s,
      presetId: preset?.id ?? '',
      width: preset?.width ?? s.width,
      height: preset?.height ?? s.height,
      steps: preset?.steps ?? s.steps,
      guidanceScale: preset?.guidanceScale ?? s.guidanceScale,
      negativePrompt: s.negativePrompt || preset?.negativePrompt || '',
      modelId: preset?.model?.id ?? s.modelId,
      sampler: preset?.sampler ?? s.sampler,
      loras: preset && preset.loras.length > 0 ? preset.loras.map((l) => ({ loraId: l.loraId, weight: l.weight })) : s.loras,
    };
    const sets = Boolean(preset && (preset.width || preset.height || preset.steps));
    const fitted = sets ? fitToTier(chosenSettings, limits) : { settings: chosenSettings, note: null };
    setFitNote(fitted.note);
    update(fitted.settings);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const missing = [...blank][0];
    if (missing) document.getElementById(missing)?.focus();
    else onSubmit(s);
  };
  const empty = (id: NumberField) => {
    setBlank((prev) => new Set(prev).add(id));
    onEdit([id]);
  };
  const num = (id: NumberField, label: string, props: { min: number; max: number; step?: number }, hint?: string) => {
    const error = blank.has(id) ? `Enter a number from ${props.min} to ${props.max}.` : errorOf(id);
    return (
      <Field id={id} label={label} hint={hint} error={error}>
        <input id={id} name={id} type="number" inputMode="decimal" {...props} value={blank.has(id) ? '' : String(s[id])}
          aria-invalid={Boolean(error)} aria-describedby={describedBy(id, hint, error)}
          onChange={(e) => (e.target.value === '' ? empty(id) : set(id, Number(e.target.value)))} />
      </Field>
    );
  };
  return (
    <form className="generate-form" onSubmit={submit} aria-label="Generate an image">
      <PromptField value={s.prompt} onChange={(v) => set('prompt', v)} error={serverErrors.prompt} />
      <PromptTools prompt={s.prompt} onChange={(v) => set('prompt', v)} />
      <PresetPicker value={s.presetId} prompt={s.prompt} onChange={applyPreset} />
      {fitNote && <p className="notice info" role="status" id="preset-fitted">{fitNote}</p>}
      <Field id="negativePrompt" label="Negative prompt (optional)" hint="What the image should avoid." error={errorOf('negativePrompt')}>
        <input id="negativePrompt" name="negativePrompt" value={s.negativePrompt} onChange={(e) => set('negativePrompt', e.target.value)}
          aria-invalid={Boolean(errorOf('negativePrompt'))} aria-describedby={describedBy('negativePrompt', 'hint', errorOf('negativePrompt'))} />
      </Field>
      <LoraPicker value={s.loras} max={limits?.maxLoras} error={errorOf('loras')} onChange={(v) => set('loras', v)} />
      <fieldset className="grid-fields">
        <legend>Size</legend>
        <Field id="size" label="Common sizes">
          <select id="size" value={SIZES.some(([w, h]) => `${w}x${h}` === sizeKey) ? sizeKey : ''}
            onChange={(e) => {
              const [w, h] = e.target.value.split('x').map(Number);
              if (w && h) update({ width: w, height: h });
            }}>
            <option value="">Custom</option>
            {SIZES.map(([w, h]) => {
              const over = limits ? w > limits.maxWidth || h > limits.maxHeight : false;
              return <option key={`${w}x${h}`} value={`${w}x${h}`}>{w} × {h}{over ? ` (above your ${limits?.tier} limit)` : ''}</option>;
            })}
          </select>
        </Field>
        {num('width', 'Width (px)', { min: L.width.min, max: L.width.max, step: L.width.multipleOf })}
        {num('height', 'Height (px)', { min: L.height.min, max: L.height.max, step: L.height.multipleOf })}
      </fieldset>
      <fieldset className="grid-fields">
        <legend>Sampling</legend>
        {num('steps', 'Steps', { min: L.steps.min, max: L.steps.max }, limits ? `Up to ${limits.maxSteps} on your tier.` : undefined)}
        {num('guidanceScale', 'Guidance (CFG)', { min: L.guidanceScale.min, max: L.guidanceScale.max, step: 0.5 },
          `How closely to follow the prompt, ${L.guidanceScale.min}–${L.guidanceScale.max}.`)}
        <Field id="seed" label="Seed" hint="Empty for a random seed; the same seed and settings give the same image." error={errorOf('seed')}>
          <div className="inline">
            <input id="seed" name="seed" type="number" min={L.seed.min} max={L.seed.max} value={s.seed} placeholder="Random"
              aria-invalid={Boolean(errorOf('seed'))} aria-describedby={describedBy('seed', 'hint', errorOf('seed'))} onChange={(e) => set('seed', e.target.value)} />
            <button type="button" className="button ghost small" onClick={() => set('seed', '')} aria-label="Use a random seed">Random</button>
          </div>
        </Field>
        {num('count', 'Images', { min: L.count.min, max: L.count.max }, limits ? `Up to ${limits.maxCount} per job on your tier.` : undefined)}
        <Field id="sampler" label="Sampler" error={errorOf('sampler')}>
          <select id="sampler" value={s.sampler} onChange={(e) => set('sampler', e.target.value as Sampler | '')}>
            <option value="">Model's default</option>
            {SAMPLERS.map((x) => <option key={x.value} value={x.value}>{x.label}</option>)}
          </select>
        </Field>
      </fieldset>
      <fieldset className="grid-fields">
        <legend>Where</legend>
        <Field id="modelId" label="Model" error={errorOf('modelId')}>
          <select id="modelId" value={s.modelId} onChange={(e) => set('modelId', e.target.value)}>
            <option value="">Default{models.find((m) => m.isDefault) ? ` (${models.find((m) => m.isDefault)!.name})` : ''}</option>
            {models.filter((m) => m.enabled).map((m) => <option key={m.id} value={m.id}>{m.name}</option>)}
          </select>
        </Field>
        <Field id="sessionId" label="Share live in session" error={serverErrors.sessionId}>
          <select id="sessionId" value={s.sessionId} onChange={(e) => set('sessionId', e.target.value)}>
            <option value="">Only me</option>
            {writableSessions.map((x) => <option key={x.id} value={x.id}>{x.name}</option>)}
          </select>
        </Field>
      </fieldset>
      {chosen?.waitingForBackend && (
        <p className="notice warn" role="status" id="backend-waiting">
          Waiting for {BACKEND_LABELS[chosen.backend]}: {chosen.name}'s servers are not answering. New jobs wait in the queue and start by themselves when they are back.
        </p>
      )}
      <button type="submit" className="button primary wide" disabled={busy || !s.prompt.trim()}>
        {busy ? 'Submitting…' : 'Generate'}
      </button>
    </form>
  );
}
