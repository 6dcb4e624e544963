import { useMutation } from '@apollo/client/react';
import type { SessionFieldsFragment } from '../gql/graphql';
import { personName } from '../lib/format';
import { RemoveSessionMemberMutation } from '../operations/sessions';
import { ErrorNotice } from './Notice';

/** Members with presence (online first) and, for the owner, a remove button. */
export function MemberList({ session, viewerId }: { session: SessionFieldsFragment; viewerId: string }) {
  const [remove, state] = useMutation(RemoveSessionMemberMutation);
  const online = new Set(session.onlineUserIds);
  const members = [...session.members].sort((a, b) => Number(online.has(b.user.id)) - Number(online.has(a.user.id)));
  return (
    <section className="card" aria-labelledby="members-title">
      <h2 id="members-title" className="h3">Members <span className="muted">({online.size} online)</span></h2>
      <ul className="members">
        {members.map((member) => {
          const isOnline = online.has(member.user.id);
          return (
            <li key={member.user.id} data-user-id={member.user.id}>
              <span className={`presence ${isOnline ? 'online' : 'offline'}`} aria-hidden="true" />
              <span className="member-name">
                {personName(member.user)}{member.user.id === viewerId && ' (you)'}
                <span className="sr-only">{isOnline ? ', online' : ', offline'}</span>
              </span>
              <span className="badge">{member.role.toLowerCase()}</span>
              {session.myRole === 'OWNER' && member.role !== 'OWNER' && (
                <button type="button" className="button ghost small" aria-label={`Remove ${personName(member.user)}`}
                  onClick={() => void remove({ variables: { sessionId: session.id, userId: member.user.id } }).catch(() => undefined)}>
                  Remove
                </button>
              )}
            </li>
          );
        })}
      </ul>
      <ErrorNotice error={state.error} />
    </section>
  );
}
