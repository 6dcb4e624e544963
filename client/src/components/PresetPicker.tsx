import { useQuery } from '@apollo/client/react';
import type { PresetsQuery } from '../gql/graphql';
import { PresetsQuery as PresetsDocument } from '../operations/library';

export type PresetOption = PresetsQuery['presets'][number];

interface Props {
  value: string;
  prompt: string;
  onChange(preset: PresetOption | null): void;
}

/** The parameters a preset sets (custom presets may set any subset), as a phrase. */
function settingsOf(p: PresetOption): string {
  const parts = [
    p.width && p.height ? `${p.width} × ${p.height}` : '',
    p.steps ? `${p.steps} steps` : '',
    p.guidanceScale ? `guidance ${p.guidanceScale}` : '',
    p.model ? `model ${p.model.name}` : '',
    p.loras.length > 0 ? `LoRAs ${p.loras.map((l) => `${l.lora?.name ?? 'LoRA'} ×${l.weight}`).join(', ')}` : '',
  ].filter(Boolean);
  return parts.length > 0 ? `Sets ${parts.join(', ')}` : 'Sets only the prompt';
}

/** Picks a style preset and shows exactly what it applies: the prompt it makes and its parameters. */
export function PresetPicker({ value, prompt, onChange }: Props) {
  const { data, error } = useQuery(PresetsDocument, { variables: { category: 'IMAGE' } });
  const presets = data?.presets ?? [];
  const chosen = presets.find((p) => p.id === value);
  if (error || (data && presets.length === 0)) return null;
  const [before, after = ''] = (chosen?.template ?? '').split('{prompt}');
  return (
    <div className="field">
      <label htmlFor="presetId">Style preset</label>
      <select id="presetId" value={value} aria-describedby={chosen ? 'preset-applies' : undefined}
        onChange={(e) => onChange(presets.find((p) => p.id === e.target.value) ?? null)}>
        <option value="">None</option>
        {presets.map((p) => <option key={p.id} value={p.id}>{p.name}{p.mine ? ' (yours)' : ''}</option>)}
      </select>
      {chosen && (
        <div id="preset-applies" className="preset-applies">
          <p className="small"><span className="muted">Your prompt becomes:</span> {before}<mark>{prompt.trim().replace(/,$/, '') || 'your prompt'}</mark>{after}</p>
          <p className="small muted">
            {settingsOf(chosen)}
            {chosen.negativePrompt ? `; avoids “${chosen.negativePrompt}”` : ''}. Fields you change below win.
          </p>
        </div>
      )}
    </div>
  );
}
