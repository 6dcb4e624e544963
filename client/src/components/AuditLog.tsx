import { useQuery } from '@apollo/client/react';
import { useState } from 'react';
import type { AuditEventKind } from '../gql/graphql';
import { formatDate } from '../lib/format';
import { AuditEventsQuery } from '../operations/admin';
import { ErrorNotice } from './Notice';

const PAGE = 25;
const KINDS: { value: AuditEventKind | ''; label: string }[] = [
  { value: '', label: 'All events' },
  { value: 'SIGN_IN_FAILED', label: 'Failed sign-ins' },
  { value: 'AUTH_FAILED', label: 'Refused credentials' },
  { value: 'SIGN_IN_SUCCEEDED', label: 'Sign-ins' },
  { value: 'ADMIN_ACTION', label: 'Admin actions' },
  { value: 'ROLE_CHANGED', label: 'Role changes' },
  { value: 'TIER_CHANGED', label: 'Tier changes' },
  { value: 'API_KEY_CREATED', label: 'API keys created' },
  { value: 'API_KEY_REVOKED', label: 'API keys revoked' },
  { value: 'API_KEY_NEW_ADDRESS', label: 'API keys from a new address' },
  { value: 'PASSWORD_CHANGED', label: 'Password changes' },
];

type Person = { email: string; displayName?: string | null } | null | undefined;
const who = (person: Person, fallback: string) => (person ? person.displayName ? `${person.displayName} (${person.email})` : person.email : fallback);

/** Compact text for an event's details: before → after, else its key facts. */
function describe(details: Record<string, unknown>): string {
  if ('before' in details) return `${String(details.before)} → ${String(details.after)}`;
  if (typeof details.action === 'string') return `${details.action} ${JSON.stringify(details.arguments ?? {})}`;
  return Object.entries(details).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ');
}

/** ADMIN: the security audit log, newest first, filterable by kind, paged with "load more". */
export function AuditLog() {
  const [kind, setKind] = useState<AuditEventKind | ''>('');
  const { data, loading, error, fetchMore } = useQuery(AuditEventsQuery, { variables: { first: PAGE, filter: kind ? { kinds: [kind] } : null } });
  const events = data?.auditEvents.edges.map((e) => e.node) ?? [];
  const more = () => fetchMore({
    variables: { after: data?.auditEvents.pageInfo.endCursor },
    updateQuery: (prev, { fetchMoreResult }) => ({
      auditEvents: { ...fetchMoreResult.auditEvents, edges: [...prev.auditEvents.edges, ...fetchMoreResult.auditEvents.edges] },
    }),
  });
  return (
    <section aria-labelledby="audit-title">
      <div className="page-head">
        <h2 id="audit-title" className="h3">Audit log</h2>
        <div className="field inline">
          <label htmlFor="audit-kind">Show</label>
          <select id="audit-kind" value={kind} onChange={(e) => setKind(e.target.value as AuditEventKind | '')}>
            {KINDS.map((k) => <option key={k.value} value={k.value}>{k.label}</option>)}
          </select>
        </div>
      </div>
      <ErrorNotice error={error} title="Audit log" />
      {loading && !data && <p className="loading" role="status">Loading audit log…</p>}
      {data && events.length === 0 && <p className="muted">No events of this kind.</p>}
      {events.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Who</th><th scope="col">From</th><th scope="col">Details</th></tr></thead>
            <tbody>
              {events.map((e) => (
                <tr key={e.id}>
                  <td>{formatDate(e.at)}</td>
                  <td><span className={`badge${e.reason ? ' status-failed' : ''}`}>{e.kind}</span>{e.reason && <><br /><span className="small">{e.reason}</span></>}</td>
                  <td>{who(e.actor, 'anonymous')}{e.targetUser && <><br /><span className="small muted">on {who(e.targetUser, '')}</span></>}</td>
                  <td className="small">{e.address ?? '—'}<br /><span className="muted">{e.userAgent ?? ''}</span></td>
                  <td className="small mono">{describe(e.details)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {data?.auditEvents.pageInfo.hasNextPage && (
        <button type="button" className="button" onClick={() => void more().catch(() => undefined)} disabled={loading}>Load more events</button>
      )}
    </section>
  );
}
