import { useQuery } from '@apollo/client/react';
import { useState } from 'react';
import { HealthBadge } from '../components/HealthBadge';
import { ModelForm } from '../components/ModelForm';
import { EmptyState, ErrorNotice } from '../components/Notice';
import type { ModelAdminFieldsFragment } from '../gql/graphql';
import { useAuth } from '../lib/auth';
import { BACKEND_LABELS } from '../lib/backends';
import { AdminModelsQuery } from '../operations/models';

/** Workers report breaker health every few seconds; the page follows at this pace. */
const HEALTH_POLL_MS = 5000;

/** ADMIN: the models with their backend and live pool health; register new ones and edit them in place. */
export function ModelsPage() {
  const { viewer } = useAuth();
  const isAdmin = viewer?.role === 'ADMIN';
  const models = useQuery(AdminModelsQuery, { skip: !isAdmin, pollInterval: HEALTH_POLL_MS });
  const [editing, setEditing] = useState<ModelAdminFieldsFragment | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  // A new key after each save empties the form, credential included.
  const [saves, setSaves] = useState(0);
  if (!isAdmin) return <EmptyState title="Admins only">Models are registered by administrators of this Atelier.</EmptyState>;
  const list = models.data?.models ?? [];
  return (
    <div className="stack">
      <h1>Models</h1>
      <p className="muted">Register ComfyUI servers, OpenAI-Images servers or ONNX folders as models; every worker can use a new model at once.</p>
      <ModelForm key={`${editing?.id ?? 'new'}-${saves}`} editing={editing} onCancel={() => setEditing(null)}
        onSaved={(name, created) => {
          setMessage(created ? `Registered “${name}”.` : `Saved “${name}”.`);
          setEditing(null);
          setSaves((n) => n + 1);
        }} />
      {message && <p className="notice ok" role="status">{message}</p>}
      <ErrorNotice error={models.error} />
      <section aria-labelledby="models-title">
        <h2 id="models-title" className="h3">Registered models</h2>
        <div className="table-wrap">
          <table>
            <thead><tr><th scope="col">Model</th><th scope="col">Backend</th><th scope="col">Endpoints</th><th scope="col">Health</th><th scope="col">Tier</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {list.map((m) => (
                <tr key={m.id}>
                  <td>{m.name}{m.isDefault ? ' (default)' : ''}{!m.enabled ? ' (disabled)' : ''}<br /><span className="muted small">{m.description ?? ''}</span></td>
                  <td>{BACKEND_LABELS[m.backend]}{m.hasCredential ? <><br /><span className="muted small">credential stored</span></> : null}</td>
                  <td>{m.endpoints?.length ? <ul className="endpoint-list">{m.endpoints.map((e) => <li key={e.url}>{e.url}</li>)}</ul> : '—'}</td>
                  <td><HealthBadge endpoints={m.endpoints} /></td>
                  <td>{m.minTier}</td>
                  <td><button type="button" className="button small ghost" onClick={() => { setMessage(null); setEditing(m); }} aria-label={`Edit ${m.name}`}>Edit</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </div>
  );
}
