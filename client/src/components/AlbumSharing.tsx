import { useMutation, useQuery } from '@apollo/client/react';
import { useState } from 'react';
import type { AlbumQuery, AlbumRole } from '../gql/graphql';
import { formatDate, personName } from '../lib/format';
import { CreateAlbumLinkMutation, RevokeAlbumLinkMutation, ShareAlbumMutation, UnshareAlbumMutation } from '../operations/albums';
import { SessionsQuery } from '../operations/sessions';
import { CopyButton, ErrorNotice } from './Notice';

type Album = NonNullable<AlbumQuery['album']>;

/**
 * OWNER: share with teammates (people you share a session with) as viewer or
 * editor, and through expiring read-only links.
 */
export function AlbumSharing({ album }: { album: Album }) {
  const sessions = useQuery(SessionsQuery);
  const [hours, setHours] = useState(168);
  const [person, setPerson] = useState('');
  const [role, setRole] = useState<AlbumRole>('VIEWER');
  const [createLink, linkState] = useMutation(CreateAlbumLinkMutation, { refetchQueries: ['Album'] });
  const [revokeLink, revokeState] = useMutation(RevokeAlbumLinkMutation);
  const [share, shareState] = useMutation(ShareAlbumMutation);
  const [unshare, unshareState] = useMutation(UnshareAlbumMutation);
  const created = linkState.data?.createAlbumLink;
  const url = created ? `${window.location.origin}/shared/${encodeURIComponent(created.token)}` : '';
  const shared = new Set(album.members.map((m) => m.user.id));
  const people = new Map<string, { id: string; displayName?: string | null; email: string }>();
  for (const session of sessions.data?.sessions ?? []) {
    for (const m of session.members) if (m.user.id !== album.owner?.id && !shared.has(m.user.id)) people.set(m.user.id, m.user);
  }
  const activeLinks = album.links.filter((l) => !l.revokedAt && new Date(l.expiresAt) > new Date());
  return (
    <section className="card" aria-labelledby="share-title">
      <h2 id="share-title" className="h3">Share</h2>
      <div className="inline wrap">
        <div className="field grow">
          <label htmlFor="share-person">Teammate</label>
          <select id="share-person" value={person} onChange={(e) => setPerson(e.target.value)}>
            <option value="">{people.size ? 'Choose someone…' : 'No teammates from your sessions'}</option>
            {[...people.values()].map((p) => <option key={p.id} value={p.id}>{personName(p)}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="share-role">Can</label>
          <select id="share-role" value={role} onChange={(e) => setRole(e.target.value as AlbumRole)}>
            <option value="VIEWER">View</option>
            <option value="EDITOR">Add and remove</option>
          </select>
        </div>
        <button type="button" className="button" disabled={!person || shareState.loading}
          onClick={() => void share({ variables: { albumId: album.id, userId: person, role } }).then(() => setPerson(''), () => undefined)}>
          Share
        </button>
      </div>
      {album.members.length > 0 && (
        <ul className="members">
          {album.members.map((m) => (
            <li key={m.user.id}>
              <span className="member-name">{personName(m.user)}</span>
              <span className="badge">{m.role.toLowerCase()}</span>
              <button type="button" className="button ghost small" aria-label={`Stop sharing with ${personName(m.user)}`}
                onClick={() => void unshare({ variables: { albumId: album.id, userId: m.user.id } }).catch(() => undefined)}>
                Stop sharing
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="inline wrap">
        <div className="field">
          <label htmlFor="link-hours">Link works for</label>
          <select id="link-hours" value={hours} onChange={(e) => setHours(Number(e.target.value))}>
            <option value={24}>1 day</option>
            <option value={168}>7 days</option>
            <option value={720}>30 days</option>
          </select>
        </div>
        <button type="button" className="button" disabled={linkState.loading}
          onClick={() => void createLink({ variables: { albumId: album.id, expiresInHours: hours } }).catch(() => undefined)}>
          Create share link
        </button>
      </div>
      {created && (
        <div className="secret">
          <label htmlFor="album-link">Read-only link (shown once)</label>
          <div className="inline">
            <input id="album-link" readOnly value={url} onFocus={(e) => e.currentTarget.select()} />
            <CopyButton text={url} label="Copy link" />
          </div>
        </div>
      )}
      {activeLinks.length > 0 && (
        <ul className="links small">
          {activeLinks.map((l) => (
            <li key={l.id}>
              Link made {formatDate(l.createdAt)}, expires {formatDate(l.expiresAt)}{' '}
              <button type="button" className="button ghost small" onClick={() => void revokeLink({ variables: { id: l.id } }).catch(() => undefined)}>Revoke</button>
            </li>
          ))}
        </ul>
      )}
      <ErrorNotice error={linkState.error ?? revokeState.error ?? shareState.error ?? unshareState.error} />
    </section>
  );
}
