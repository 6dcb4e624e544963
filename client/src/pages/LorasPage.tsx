import { useMutation, useQuery } from '@apollo/client/react';
import { Link } from 'react-router';
import { LoraUploadForm } from '../components/LoraUploadForm';
import { EmptyState, ErrorNotice } from '../components/Notice';
import type { LoraRowFragment } from '../gql/graphql';
import { useAuth } from '../lib/auth';
import { LoraLibraryQuery, SetLoraActiveMutation, SetLoraVisibilityMutation } from '../operations/loras';

interface RowActions {
  onToggle(lora: LoraRowFragment): void;
  onPublish(lora: LoraRowFragment): void;
  busy: boolean;
}

function LoraTableRow({ lora, onToggle, onPublish, busy }: { lora: LoraRowFragment } & RowActions) {
  const isPublic = lora.visibility === 'PUBLIC';
  return (
    <tr>
      <th scope="row">
        <span className="strong">{lora.name}</span> {lora.mine && <span className="badge">yours</span>}
      </th>
      <td className="mono">v{lora.version}</td>
      <td>{lora.baseModel?.name ?? <span className="muted">removed</span>}</td>
      <td>{lora.triggerWords.length > 0 ? lora.triggerWords.join(', ') : <span className="muted">none</span>}</td>
      <td className="mono">{lora.defaultWeight.toFixed(2)}</td>
      <td><span className={`badge tier-${lora.minTier.toLowerCase()}`}>{lora.minTier}</span></td>
      <td>
        {lora.active ? <span className="badge status-completed">Active</span> : <span className="badge status-failed">Inactive</span>}
        {/* An admin lists others' private LoRAs but does not generate with them (docs/security.md, "Private LoRAs"). */}
        {lora.active && !lora.usable && <span className="muted small"> ({!isPublic && !lora.mine ? 'its owner\'s alone' : 'not on your tier'})</span>}
      </td>
      <td>{isPublic ? <span className="badge">Public</span> : <span className="badge">Private</span>}</td>
      <td>
        {lora.mine && (
          <>
            <button type="button" className={`button ghost small${lora.active ? ' danger' : ''}`} disabled={busy}
              aria-label={`${lora.active ? 'Deactivate' : 'Activate'} ${lora.name} v${lora.version}`} onClick={() => onToggle(lora)}>
              {lora.active ? 'Deactivate' : 'Activate'}
            </button>{' '}
            <button type="button" className="button ghost small" disabled={busy}
              aria-label={`${isPublic ? 'Make private' : 'Publish'} ${lora.name} v${lora.version}`} onClick={() => onPublish(lora)}>
              {isPublic ? 'Make private' : 'Publish'}
            </button>
          </>
        )}
      </td>
    </tr>
  );
}

/** The LoRA library: what is installed, an upload form for editors, and on/off and publish/private for your own. */
export function LorasPage() {
  const { viewer } = useAuth();
  const loras = useQuery(LoraLibraryQuery);
  const [setActive, setActiveState] = useMutation(SetLoraActiveMutation);
  const [setVisibility, setVisibilityState] = useMutation(SetLoraVisibilityMutation);
  const canUpload = viewer?.role === 'EDITOR' || viewer?.role === 'ADMIN';
  const list = loras.data?.loras ?? [];
  const toggle = (lora: LoraRowFragment) => {
    if (lora.active && !window.confirm(`Deactivate “${lora.name}” v${lora.version}? New jobs and presets can no longer use it; finished images stay.`)) return;
    void setActive({ variables: { id: lora.id, active: !lora.active } }).catch(() => undefined);
  };
  // One version at a time: publishing v2 leaves v1 as it was (docs/security.md, "Private LoRAs").
  const publish = (lora: LoraRowFragment) => {
    const isPublic = lora.visibility === 'PUBLIC';
    const question = isPublic
      ? `Make “${lora.name}” v${lora.version} private? Others can no longer see it or use it in new jobs; their queued jobs still finish.`
      : `Publish “${lora.name}” v${lora.version}? Everyone whose tier allows it can see it and generate with it.`;
    if (!window.confirm(question)) return;
    void setVisibility({ variables: { id: lora.id, visibility: isPublic ? 'PRIVATE' : 'PUBLIC' } }).catch(() => undefined);
  };
  return (
    <div className="stack">
      <h1>LoRAs</h1>
      <p className="muted">LoRAs are small add-ons that teach a model a style or subject. Add them to a job from <Link to="/">Generate</Link>.
        A LoRA you train, or upload as an editor, stays private until you publish it (one version at a time).</p>
      {canUpload ? (
        <LoraUploadForm />
      ) : (
        <p className="notice info">Only editors can upload LoRAs. Ask an admin if you need to add one.</p>
      )}
      <section aria-labelledby="loras-title">
        <h2 id="loras-title" className="h3">Installed</h2>
        <ErrorNotice error={loras.error ?? setActiveState.error ?? setVisibilityState.error} />
        {loras.data && list.length === 0 && (
          <EmptyState title="No LoRAs yet">{canUpload ? 'Upload a .safetensors file above to add the first one.' : 'None have been added yet.'}</EmptyState>
        )}
        {list.length > 0 && (
          <div className="table-wrap">
            <table>
              <caption className="sr-only">LoRAs you can see</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th><th scope="col">Version</th><th scope="col">Base model</th><th scope="col">Trigger words</th>
                  <th scope="col">Weight</th><th scope="col">Tier</th><th scope="col">Status</th><th scope="col">Shared</th>
                  <th scope="col"><span className="sr-only">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                {list.map((lora) => (
                  <LoraTableRow key={lora.id} lora={lora} busy={setActiveState.loading || setVisibilityState.loading} onToggle={toggle} onPublish={publish} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
