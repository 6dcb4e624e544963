import { useApolloClient, useMutation, useQuery } from '@apollo/client/react';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { fitToTier, type Limits } from '../components/LimitHints';
import { EmptyState, ErrorNotice } from '../components/Notice';
import { PresetForm, TemplatePreview } from '../components/PresetForm';
import { DEFAULT_SETTINGS, type GenerationSettings } from '../components/settings';
import type { PresetCategory, PresetFieldsFragment } from '../gql/graphql';
import { useAuth } from '../lib/auth';
import { UsageQuery } from '../operations/jobs';
import { DeletePresetMutation, PresetLibraryQuery } from '../operations/presets';

const CATEGORIES: { category: PresetCategory; title: string }[] = [
  { category: 'IMAGE', title: 'Image presets' },
  { category: 'VIDEO', title: 'Video presets' },
];

/** What a preset sets besides its template, in a short line. */
function summary(p: PresetFieldsFragment): string {
  const parts = [
    p.width && p.height ? `${p.width} × ${p.height}` : '',
    p.steps ? `${p.steps} steps` : '',
    p.guidanceScale ? `guidance ${p.guidanceScale}` : '',
    p.fps ? `${p.fps} fps` : '',
    p.durationSeconds ? `${p.durationSeconds} s` : '',
    p.model ? `model ${p.model.name}` : '',
    ...p.loras.map((l) => `${l.lora?.name ?? 'LoRA'} ×${l.weight}`),
  ].filter(Boolean);
  return parts.length ? parts.join(' · ') : 'Template only';
}

/**
 * Generator settings that start from the preset, as picking it in Generate would:
 * its size and steps fitted to the caller's tier, with a note saying so.
 */
function settingsFor(p: PresetFieldsFragment, limits: Limits | undefined): { settings: GenerationSettings; note: string | null } {
  return fitToTier({
    ...DEFAULT_SETTINGS,
    presetId: p.id,
    width: p.width ?? DEFAULT_SETTINGS.width,
    height: p.height ?? DEFAULT_SETTINGS.height,
    steps: p.steps ?? DEFAULT_SETTINGS.steps,
    guidanceScale: p.guidanceScale ?? DEFAULT_SETTINGS.guidanceScale,
    negativePrompt: p.negativePrompt ?? '',
    modelId: p.model?.id ?? '',
    loras: p.loras.map((l) => ({ loraId: l.loraId, weight: l.weight })),
  }, limits);
}

function PresetCard({ preset, canEdit, onEdit, onDelete, onUse }: {
  preset: PresetFieldsFragment; canEdit: boolean; onEdit(): void; onDelete(): void; onUse(): void;
}) {
  return (
    <li className="preset-card" aria-labelledby={`preset-${preset.id}`}>
      <div className="job-head">
        <h3 id={`preset-${preset.id}`} className="h3 preset-name">{preset.name}</h3>
        {preset.builtIn && <span className="badge">Built-in</span>}
        {!preset.builtIn && preset.mine && <span className="badge tier-pro">Yours</span>}
        {preset.session && <span className="badge">Shared in {preset.session.name}</span>}
      </div>
      <p className="preset-template small"><TemplatePreview template={preset.template} prompt="your prompt" /></p>
      <p className="small muted">{summary(preset)}{preset.negativePrompt ? ` · avoids “${preset.negativePrompt}”` : ''}</p>
      <p className="small muted">Used {preset.usageCount} time{preset.usageCount === 1 ? '' : 's'}</p>
      <div className="actions">
        {preset.category === 'IMAGE' && <button type="button" className="button small" onClick={onUse} aria-label={`Use ${preset.name} in Generate`}>Use in Generate</button>}
        {canEdit && (
          <>
            <button type="button" className="button ghost small" onClick={onEdit} aria-label={`Edit ${preset.name}`}>Edit</button>
            <button type="button" className="button ghost small danger" onClick={onDelete} aria-label={`Delete ${preset.name}`}>Delete</button>
          </>
        )}
      </div>
    </li>
  );
}

/** Style presets: built-ins (read-only) and your own, by category, with a form to create and edit. */
export function PresetsPage() {
  const { viewer } = useAuth();
  const navigate = useNavigate();
  const client = useApolloClient();
  const presets = useQuery(PresetLibraryQuery);
  const usage = useQuery(UsageQuery);
  const [remove, removeState] = useMutation(DeletePresetMutation, { refetchQueries: ['PresetLibrary'] });
  const [editing, setEditing] = useState<PresetFieldsFragment | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const canAuthor = viewer?.role === 'EDITOR' || viewer?.role === 'ADMIN';
  const list = presets.data?.presets ?? [];

  const del = (p: PresetFieldsFragment) => {
    if (!window.confirm(`Delete “${p.name}”? Jobs that used it keep their prompts.`)) return;
    void remove({ variables: { id: p.id } })
      .then(() => {
        setMessage(`Deleted “${p.name}”.`);
        if (editing?.id === p.id) setEditing(null);
      })
      .catch(() => undefined);
  };
  const openInGenerate = async (p: PresetFieldsFragment) => {
    // The tier's limits, read now if the page has not got them yet (unfitted only when they cannot be read).
    const limits = usage.data?.usage.limits
      ?? (await client.query({ query: UsageQuery }).catch(() => null))?.data?.usage.limits;
    navigate('/', { state: settingsFor(p, limits) });
  };
  const edit = (p: PresetFieldsFragment) => {
    setMessage(null);
    setEditing(p);
    window.scrollTo({ top: 0, behavior: 'smooth' });
  };

  return (
    <div className="stack">
      <h1>Presets</h1>
      <p className="muted">A preset wraps your prompt in a template and sets default parameters. Pick one in Generate under “Style preset”.</p>
      {canAuthor ? (
        <PresetForm key={editing?.id ?? 'new'} editing={editing} onCancel={() => setEditing(null)}
          onSaved={(name, created) => {
            setMessage(created ? `Created “${name}”.` : `Saved “${name}”.`);
            setEditing(null);
          }} />
      ) : (
        <p className="notice info">Only editors can create presets; you can use the ones below.</p>
      )}
      {message && <p className="notice ok" role="status">{message}</p>}
      <ErrorNotice error={presets.error ?? removeState.error} />
      {CATEGORIES.map(({ category, title }) => {
        const inCategory = list.filter((p) => p.category === category);
        if (category !== 'IMAGE' && inCategory.length === 0) return null;
        return (
          <section key={category} aria-labelledby={`presets-${category}`}>
            <h2 id={`presets-${category}`} className="h3">{title}</h2>
            {presets.data && inCategory.length === 0 && <EmptyState title="No presets yet">Create one above.</EmptyState>}
            <ul className="preset-grid">
              {inCategory.map((p) => (
                <PresetCard key={p.id} preset={p} canEdit={canAuthor && p.mine && !p.builtIn}
                  onEdit={() => edit(p)} onDelete={() => del(p)}
                  onUse={() => void openInGenerate(p)} />
              ))}
            </ul>
          </section>
        );
      })}
    </div>
  );
}
