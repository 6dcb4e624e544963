import { useMutation } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import type { SessionRole } from '../gql/graphql';
import { formatDate } from '../lib/format';
import { CreateSessionInviteMutation } from '../operations/sessions';
import { CopyButton, ErrorNotice } from './Notice';

/** OWNER only: makes an invite link granting a role; the token is shown once, as a link to copy. */
export function InvitePanel({ sessionId }: { sessionId: string }) {
  const [role, setRole] = useState<SessionRole>('COLLABORATOR');
  const [maxUses, setMaxUses] = useState(5);
  const [create, state] = useMutation(CreateSessionInviteMutation);
  const created = state.data?.createSessionInvite;
  const link = created ? `${window.location.origin}/join/${encodeURIComponent(created.token)}` : '';
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void create({ variables: { sessionId, role, maxUses } }).catch(() => undefined);
  };
  return (
    <section className="card" aria-labelledby="invite-title">
      <h2 id="invite-title" className="h3">Invite people</h2>
      <form onSubmit={submit} className="inline wrap">
        <div className="field">
          <label htmlFor="invite-role">Role</label>
          <select id="invite-role" value={role} onChange={(e) => setRole(e.target.value as SessionRole)}>
            <option value="COLLABORATOR">Collaborator: watches and generates</option>
            <option value="WATCHER">Watcher: watches only</option>
          </select>
        </div>
        <div className="field small-field">
          <label htmlFor="invite-uses">People</label>
          <input id="invite-uses" type="number" min={1} max={100} value={maxUses} onChange={(e) => setMaxUses(Number(e.target.value) || 1)} />
        </div>
        <button type="submit" className="button" disabled={state.loading}>Create invite link</button>
      </form>
      <ErrorNotice error={state.error} />
      {created && (
        <div className="secret" aria-live="polite">
          <label htmlFor="invite-link">Invite link ({created.invite.role.toLowerCase()}, {created.invite.maxUses} {created.invite.maxUses === 1 ? 'person' : 'people'}, expires {formatDate(created.invite.expiresAt)})</label>
          <div className="inline">
            <input id="invite-link" readOnly value={link} onFocus={(e) => e.currentTarget.select()} />
            <CopyButton text={link} label="Copy link" />
          </div>
          <p className="hint">Shown once. Anyone with the link can join until it expires or is used up.</p>
        </div>
      )}
    </section>
  );
}
