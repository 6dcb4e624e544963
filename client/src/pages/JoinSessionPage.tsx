import { useMutation } from '@apollo/client/react';
import { Link, useNavigate, useParams } from 'react-router';
import { ErrorNotice } from '../components/Notice';
import { JoinSessionMutation } from '../operations/sessions';

/** Landing page of an invite link: one explicit click to join (links get previewed by chat apps). */
export function JoinSessionPage() {
  const { token = '' } = useParams();
  const navigate = useNavigate();
  const [join, state] = useMutation(JoinSessionMutation, { refetchQueries: ['Sessions'] });
  const accept = async () => {
    try {
      const result = await join({ variables: { token } });
      if (result.data) navigate(`/sessions/${result.data.joinSession.id}`, { replace: true });
    } catch {
      // Explained below.
    }
  };
  return (
    <section className="card narrow" aria-labelledby="join-title">
      <h1 id="join-title">You are invited to a session</h1>
      <p>Join to watch your teammates’ images form live{' '}and, if your invite allows, generate into the session yourself.</p>
      <ErrorNotice error={state.error} title="This invite does not work" />
      <div className="actions">
        <button type="button" className="button primary" onClick={accept} disabled={state.loading}>Join session</button>
        <Link to="/sessions" className="button ghost">Not now</Link>
      </div>
    </section>
  );
}
