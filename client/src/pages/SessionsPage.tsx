import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { EmptyState, ErrorNotice } from '../components/Notice';
import { relativeTime } from '../lib/format';
import { CreateSessionMutation, SessionsQuery } from '../operations/sessions';

/** Extracts the token from a pasted invite link or a bare token. */
function inviteToken(text: string): string {
  const trimmed = text.trim();
  const match = /\/join\/([^/?#\s]+)/.exec(trimmed);
  return match ? decodeURIComponent(match[1]) : trimmed;
}

/** Your sessions, a form to start one, and a box to paste an invite link. */
export function SessionsPage() {
  const navigate = useNavigate();
  const sessions = useQuery(SessionsQuery);
  const [name, setName] = useState('');
  const [invite, setInvite] = useState('');
  const [create, createState] = useMutation(CreateSessionMutation, { refetchQueries: ['Sessions'] });
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const result = await create({ variables: { name: name.trim() } });
      if (result.data) navigate(`/sessions/${result.data.createSession.id}`);
    } catch {
      // Explained below.
    }
  };
  const list = sessions.data?.sessions ?? [];
  return (
    <div className="stack">
      <h1>Sessions</h1>
      <p className="muted">A session is a shared room: everyone in it watches each other’s jobs form live.</p>
      <div className="two-col">
        <form className="card" onSubmit={submit} aria-labelledby="new-session-title">
          <h2 id="new-session-title" className="h3">Start a session</h2>
          <div className="field">
            <label htmlFor="session-name">Session name</label>
            <input id="session-name" required maxLength={120} value={name} onChange={(e) => setName(e.target.value)} placeholder="Moodboard for the spring campaign" />
          </div>
          <ErrorNotice error={createState.error} />
          <button type="submit" className="button primary" disabled={!name.trim() || createState.loading}>Create session</button>
        </form>
        <form className="card" onSubmit={(e) => { e.preventDefault(); if (invite.trim()) navigate(`/join/${encodeURIComponent(inviteToken(invite))}`); }} aria-labelledby="join-title">
          <h2 id="join-title" className="h3">Join with an invite</h2>
          <div className="field">
            <label htmlFor="invite">Invite link or token</label>
            <input id="invite" value={invite} onChange={(e) => setInvite(e.target.value)} placeholder="https://…/join/…" />
          </div>
          <button type="submit" className="button" disabled={!invite.trim()}>Continue</button>
        </form>
      </div>
      <section aria-labelledby="my-sessions">
        <h2 id="my-sessions" className="h3">Your sessions</h2>
        <ErrorNotice error={sessions.error} />
        {sessions.data && list.length === 0 && <EmptyState title="You are not in any session yet">Start one above, or ask a teammate for an invite link.</EmptyState>}
        <ul className="session-list">
          {list.map((session) => (
            <li key={session.id} className="card row">
              <div>
                <Link to={`/sessions/${session.id}`} className="strong">{session.name}</Link>
                <p className="muted small">
                  {session.members.length} member{session.members.length === 1 ? '' : 's'} · {session.onlineUserIds.length} online · active {relativeTime(session.lastActivityAt)}
                </p>
              </div>
              <span className="badge">{session.myRole}</span>
              {session.status === 'ARCHIVED' && <span className="badge">Archived</span>}
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
