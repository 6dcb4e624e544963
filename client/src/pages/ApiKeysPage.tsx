import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { CopyButton, EmptyState, ErrorNotice } from '../components/Notice';
import { formatDate, relativeTime } from '../lib/format';
import { ApiKeysQuery, CreateApiKeyMutation, RevokeApiKeyMutation } from '../operations/api-keys';

/** A ready-to-run GraphQL call with the new key, so an integrator can try it at once. */
function curlExample(secret: string): string {
  const body = JSON.stringify({
    query: 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id status seed } }',
    variables: { input: { prompt: 'a lighthouse at dusk', width: 512, height: 512, steps: 20 } },
  });
  return [
    `curl -s ${window.location.origin}/graphql \\`,
    `  -H 'content-type: application/json' \\`,
    `  -H 'authorization: Bearer ${secret}' \\`,
    `  -d '${body}'`,
  ].join('\n');
}

/** API keys for integrators: create (secret shown once), list, revoke. */
export function ApiKeysPage() {
  const keys = useQuery(ApiKeysQuery);
  const [name, setName] = useState('');
  const [create, createState] = useMutation(CreateApiKeyMutation, { refetchQueries: ['ApiKeys'] });
  const [revoke, revokeState] = useMutation(RevokeApiKeyMutation);
  const created = createState.data?.createApiKey;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void create({ variables: { name: name.trim() } }).then(() => setName('')).catch(() => undefined);
  };
  const list = keys.data?.apiKeys ?? [];
  return (
    <div className="stack">
      <h1>API keys</h1>
      <p className="muted">Keys let scripts and services call the GraphQL API as you. Send one as <code>Authorization: Bearer atl_…</code>.</p>
      <form className="card inline wrap" onSubmit={submit} aria-labelledby="new-key-title">
        <h2 id="new-key-title" className="h3 full">Create a key</h2>
        <div className="field grow">
          <label htmlFor="key-name">Name</label>
          <input id="key-name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} placeholder="CI pipeline" />
        </div>
        <button type="submit" className="button primary" disabled={!name.trim() || createState.loading}>Create key</button>
        <ErrorNotice error={createState.error} />
      </form>
      {created && (
        <section className="card secret" aria-labelledby="secret-title">
          <h2 id="secret-title" className="h3">“{created.apiKey.name}” is ready</h2>
          <p><strong>Copy the secret now: it will not be shown again.</strong></p>
          <div className="inline">
            <label htmlFor="secret" className="sr-only">Secret</label>
            <input id="secret" readOnly value={created.secret} onFocus={(e) => e.currentTarget.select()} className="mono" />
            <CopyButton text={created.secret} label="Copy secret" />
          </div>
          <p className="hint">Try it:</p>
          <pre className="code" aria-label="Example curl command"><code>{curlExample(created.secret)}</code></pre>
          <CopyButton text={curlExample(created.secret)} label="Copy command" />
        </section>
      )}
      <section aria-labelledby="keys-title">
        <h2 id="keys-title" className="h3">Your keys</h2>
        <ErrorNotice error={keys.error ?? revokeState.error} />
        {keys.data && list.length === 0 && <EmptyState title="No API keys yet">Create one above to call Atelier from a script.</EmptyState>}
        {list.length > 0 && (
          <div className="table-wrap">
            <table>
              <thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Status</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
              <tbody>
                {list.map((key) => (
                  <tr key={key.id}>
                    <td>{key.name}</td>
                    <td className="mono">{key.prefix}…</td>
                    <td>{formatDate(key.createdAt)}</td>
                    <td>{relativeTime(key.lastUsedAt)}</td>
                    <td>{key.revokedAt ? <span className="badge status-failed">Revoked</span> : <span className="badge status-completed">Active</span>}</td>
                    <td>
                      {!key.revokedAt && (
                        <button type="button" className="button ghost small danger" aria-label={`Revoke ${key.name}`}
                          onClick={() => {
                            if (window.confirm(`Revoke “${key.name}”? Requests using it will be refused from now on.`)) {
                              void revoke({ variables: { id: key.id } }).catch(() => undefined);
                            }
                          }}>
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
