import { useState, type FormEvent, type ReactNode } from 'react';
import type { ModelsQuery, Sampler, SessionsQuery } from '../gql/graphql';
import { BACKEND_LABELS } from '../lib/backends';
import { limitHints, type Limits } from './LimitHints';
import { LoraPicker } from './LoraPicker';
import { PresetPicker, type PresetOption } from './PresetPicker';
import { PromptField } from './PromptField';
import { PromptTools } from './PromptTools';
import type { GenerationSettings } from './settings';

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
  onSubmit(settings: GenerationSettings): void;
}

const SAMPLERS: { value: Sampler; label: string }[] = [
  { value: 'EULER', label: 'Euler' },
  { value: 'EULER_ANCESTRAL', label: 'Euler ancestral' },
  { value: 'DDIM', label: 'DDIM' },
  { value: 'LCM', label: 'LCM (1–4 steps)' },
  { value: 'DPMPP_2M', label: 'DPM++ 2M' },
];

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
export function GenerateForm({ initial, limits, models, sessions, busy, serverErrors, onSubmit }: Props) {
  const [s, setS] = useState<GenerationSettings>(initial);
  const set = <K extends keyof GenerationSettings>(key: K, value: GenerationSettings[K]) => setS((prev) => ({ ...prev, [key]: value }));
  const hints = limitHints(s, limits);
  const errorOf = (field: string) => serverErrors[field] ?? hints[field];
  const sizeKey = `${s.width}x${s.height}`;
  const chosen = models.find((m) => (s.modelId ? m.id === s.modelId : m.isDefault));
  const writableSessions = sessions.filter((x) => x.myRole === 'OWNER' || x.myRole === 'COLLABORATOR');
  // A preset fills in the parameters it sets, so people see (and can override) what it applies.
  const applyPreset = (preset: PresetOption | null) => setS((prev) => ({
    ...prev,
    presetId: preset?.id ?? '',
    width: preset?.width ?? prev.width,
    height: preset?.height ?? prev.height,
    steps: preset?.steps ?? prev.steps,
    guidanceScale: preset?.guidanceScale ?? prev.guidanceScale,
    negativePrompt: prev.negativePrompt || preset?.negativePrompt || '',
    modelId: preset?.model?.id ?? prev.modelId,
    sampler: preset?.sampler ?? prev.sampler,
    loras: preset && preset.loras.length > 0 ? preset.loras.map((l) => ({ loraId: l.loraId, weight: l.weight })) : prev.loras,
  }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit(s);
  };
  const num = (id: keyof GenerationSettings, label: string, props: { min: number; max?: number; step?: number }, hint?: string) => {
    const error = errorOf(id);
    return (
      <Field id={id} label={label} hint={hint} error={error}>
        <input id={id} name={id} type="number" inputMode="decimal" {...props} value={String(s[id])}
          aria-invalid={Boolean(error)} aria-describedby={describedBy(id, hint, error)}
          onChange={(e) => set(id, (e.target.value === '' ? 0 : Number(e.target.value)) as never)} />
      </Field>
    );
  };
  return (
    <form className="generate-form" onSubmit={submit} aria-label="Generate an image">
      <PromptField value={s.prompt} onChange={(v) => set('prompt', v)} error={serverErrors.prompt} />
      <PromptTools prompt={s.prompt} onChange={(v) => set('prompt', v)} />
      <PresetPicker value={s.presetId} prompt={s.prompt} onChange={applyPreset} />
      <Field id="negativePrompt" label="Negative prompt (optional)" hint="What the image should avoid.">
        <input id="negativePrompt" name="negativePrompt" value={s.negativePrompt} onChange={(e) => set('negativePrompt', e.target.value)} aria-describedby="negativePrompt-hint" />
      </Field>
      <LoraPicker value={s.loras} max={limits?.maxLoras} error={errorOf('loras')} onChange={(v) => set('loras', v)} />
      <fieldset className="grid-fields">
        <legend>Size</legend>
        <Field id="size" label="Common sizes">
          <select id="size" value={SIZES.some(([w, h]) => `${w}x${h}` === sizeKey) ? sizeKey : ''}
            onChange={(e) => {
              const [w, h] = e.target.value.split('x').map(Number);
              if (w && h) setS((prev) => ({ ...prev, width: w, height: h }));
            }}>
            <option value="">Custom</option>
            {SIZES.map(([w, h]) => {
              const over = limits ? w > limits.maxWidth || h > limits.maxHeight : false;
              return <option key={`${w}x${h}`} value={`${w}x${h}`}>{w} × {h}{over ? ` (above your ${limits?.tier} limit)` : ''}</option>;
            })}
          </select>
        </Field>
        {num('width', 'Width (px)', { min: 64, max: 2048, step: 8 })}
        {num('height', 'Height (px)', { min: 64, max: 2048, step: 8 })}
      </fieldset>
      <fieldset className="grid-fields">
        <legend>Sampling</legend>
        {num('steps', 'Steps', { min: 1, max: 150 }, limits ? `Up to ${limits.maxSteps} on your tier.` : undefined)}
        {num('guidanceScale', 'Guidance (CFG)', { min: 1, max: 30, step: 0.5 }, 'How closely to follow the prompt, 1–30.')}
        <Field id="seed" label="Seed" hint="Empty for a random seed; the same seed and settings give the same image.">
          <div className="inline">
            <input id="seed" name="seed" type="number" min={0} max={2147483647} value={s.seed} placeholder="Random"
              aria-describedby="seed-hint" onChange={(e) => set('seed', e.target.value)} />
            <button type="button" className="button ghost small" onClick={() => set('seed', '')} aria-label="Use a random seed">Random</button>
          </div>
        </Field>
        {num('count', 'Images', { min: 1, max: 8 }, limits ? `Up to ${limits.maxCount} per job on your tier.` : undefined)}
        <Field id="sampler" label="Sampler" error={errorOf('sampler')}>
          <select id="sampler" value={s.sampler} onChange={(e) => set('sampler', e.target.value as Sampler | '')}>
            <option value="">Model's default</option>
            {SAMPLERS.map((x) => <option key={x.value} value={x.value}>{x.label}</option>)}
          </select>
        </Field>
      </fieldset>
      <fieldset className="grid-fields">
        <legend>Where</legend>
        <Field id="modelId" label="Model">
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
