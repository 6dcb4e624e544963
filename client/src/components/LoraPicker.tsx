import { useQuery } from '@apollo/client/react';
import { LorasQuery } from '../operations/library';

interface Props {
  value: { loraId: string; weight: number }[];
  max: number | undefined;
  error?: string;
  onChange(value: { loraId: string; weight: number }[]): void;
}

/** Adds LoRAs with a weight each (-2..2), up to the tier's count; hidden when none are installed. */
export function LoraPicker({ value, max, error, onChange }: Props) {
  const { data } = useQuery(LorasQuery);
  const loras = (data?.loras ?? []).filter((l) => l.active && l.usable);
  if (loras.length === 0) return null;
  const chosen = new Set(value.map((v) => v.loraId));
  const available = loras.filter((l) => !chosen.has(l.id));
  const full = max != null && value.length >= max;
  const setWeight = (loraId: string, weight: number) => onChange(value.map((v) => (v.loraId === loraId ? { ...v, weight } : v)));
  return (
    <fieldset className="loras" id="loras" aria-describedby={error ? 'loras-error' : 'loras-hint'}>
      <legend>LoRAs</legend>
      {value.map((item) => {
        const lora = loras.find((l) => l.id === item.loraId);
        const name = lora?.name ?? 'LoRA';
        return (
          <div className="lora-row" key={item.loraId}>
            <span className="strong">{name}</span>
            {lora && lora.triggerWords.length > 0 && <span className="muted small">triggers: {lora.triggerWords.join(', ')}</span>}
            <label className="sr-only" htmlFor={`w-${item.loraId}`}>Weight of {name}</label>
            <input id={`w-${item.loraId}`} type="range" min={-2} max={2} step={0.05} value={item.weight} onChange={(e) => setWeight(item.loraId, Number(e.target.value))} />
            <output htmlFor={`w-${item.loraId}`} className="mono">{item.weight.toFixed(2)}</output>
            <button type="button" className="button ghost small" aria-label={`Remove ${name}`} onClick={() => onChange(value.filter((v) => v.loraId !== item.loraId))}>Remove</button>
          </div>
        );
      })}
      {available.length > 0 && (
        <div className="inline">
          <label htmlFor="add-lora" className="sr-only">Add a LoRA</label>
          <select id="add-lora" value="" disabled={full}
            onChange={(e) => {
              const lora = loras.find((l) => l.id === e.target.value);
              if (lora) onChange([...value, { loraId: lora.id, weight: lora.defaultWeight }]);
            }}>
            <option value="">{full ? `Your tier allows ${max} LoRA${max === 1 ? '' : 's'} per job` : 'Add a LoRA…'}</option>
            {available.map((l) => <option key={l.id} value={l.id}>{l.name}</option>)}
          </select>
        </div>
      )}
      {error ? <p id="loras-error" className="field-error" role="status">{error}</p> : <p id="loras-hint" className="hint">Up to {max ?? '…'} per job on your tier.</p>}
    </fieldset>
  );
}
