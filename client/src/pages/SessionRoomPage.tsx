import { useApolloClient, useMutation, useQuery } from '@apollo/client/react';
import { useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { InvitePanel } from '../components/InvitePanel';
import { JobCard } from '../components/JobCard';
import { MemberList } from '../components/MemberList';
import { SessionBatches, type LiveBatchCounts } from '../components/SessionBatches';
import { EmptyState, ErrorNotice } from '../components/Notice';
import type { SessionEventsSubscription as SessionEvent, SessionFieldsFragment } from '../gql/graphql';
import { useAuth } from '../lib/auth';
import { useResumableSubscription } from '../lib/useResumableSubscription';
import { lookupError } from '../lib/errors';
import { personName } from '../lib/format';
import { applyJobEvent, FINAL_STATUSES, refetchFinishedJob, type StreamRequeues } from '../lib/useLiveJob';
import { JobsQuery } from '../operations/jobs';
import { LeaveSessionMutation, SessionEventsSubscription, SessionQuery } from '../operations/sessions';

type Event = SessionEvent['sessionEvents'];

/** Why a started job waits in the queue again, in words (a QUEUED event's `requeueReason`). */
const REQUEUED: Record<string, string> = { WORKER_LOST: 'its worker was lost', HANDED_BACK: 'its worker handed it back', RETRY: 'to be tried again' };

/** A line for the activity log, or null for events the feed already shows (progress). */
function describe(event: Event, session: SessionFieldsFragment | undefined): string | null {
  const who = personName(session?.members.find((m) => m.user.id === event.actorId)?.user);
  switch (event.type) {
    case 'MEMBER_JOINED': return `${who} joined`;
    case 'MEMBER_LEFT': return `${who === 'someone' ? 'A member' : who} left`;
    case 'QUEUED': return event.requeueReason ? `${who}’s job is back in the queue (${REQUEUED[event.requeueReason] ?? event.requeueReason})` : `${who} queued a job`;
    case 'COMPLETED': return `${who}’s job finished`;
    case 'FAILED': return `${who}’s job failed`;
    case 'CANCELLED': return `${who} cancelled a job`;
    default: return null;
  }
}

/** The session room: members with presence, invites, and a live feed of everyone's jobs and images. */
export function SessionRoomPage() {
  const { id = '' } = useParams();
  const { viewer } = useAuth();
  const client = useApolloClient();
  const navigate = useNavigate();
  // From the network each time the room opens: its lastEventId must say where the stream stands now (feedFrom).
  const session = useQuery(SessionQuery, { variables: { id }, fetchPolicy: 'cache-and-network' });
  const jobs = useQuery(JobsQuery, { variables: { sessionId: id, first: 20 } });
  const [activity, setActivity] = useState<{ id: string; text: string }[]>([]);
  const [batches, setBatches] = useState<Record<string, LiveBatchCounts>>({});
  const [leave, leaveState] = useMutation(LeaveSessionMutation, { refetchQueries: ['Sessions'] });
  const data = session.data?.session;
  // The viewer's own MEMBER_LEFT: the owner removed them, or their access ended with the session (kept with the
  // session's id and name: the page then reads no session, and moving to another room keeps this component).
  const [removed, setRemoved] = useState<{ sessionId: string; name: string | null } | null>(null);
  // Set while this page's own Leave is under way: its MEMBER_LEFT is no removal, and the page moves on to the list.
  const leaving = useRef(false);
  // After a dropped connection, or an end the server could not avoid (SERVICE_UNAVAILABLE), the stream restarts
  // from the last event seen (`after`, useResumableSubscription), so nothing said meanwhile is missed; ids already
  // seen are skipped, so nothing shows twice.
  const seen = useRef(new Set<string>());
  // Which jobs' returns to the queue this stream has told: what it says after one is news (applyJobEvent).
  const requeues = useRef<StreamRequeues>(new Map());
  // Moving to another room keeps this component: what the last room's feed said goes with it.
  const [feedOf, setFeedOf] = useState(id);
  if (feedOf !== id) {
    setFeedOf(id);
    setActivity([]);
    setBatches({});
    seen.current = new Set();
    requeues.current = new Map();
  }
  // Who is online, as the stream last said. Every change is a PRESENCE event, in order, so once one has
  // arrived the stream is the authority: a refetch of the session read before that event, answering after
  // it, must not take a member who just came online offline again.
  // Kept with its session's id: moving to another room keeps this component, and must not carry the list over.
  const online = useRef<{ sessionId: string; ids: string[] } | null>(null);
  const showOnline = () => {
    const last = online.current;
    if (last?.sessionId !== id) return;
    client.cache.modify<SessionFieldsFragment>({ id: client.cache.identify({ __typename: 'Session', id }), fields: { onlineUserIds: () => last.ids } });
  };
  const refetchSession = () => session.refetch().then((r) => {
    showOnline();
    return r.data?.session;
  });
  // Where the room's stream stood when the session was read from the server as the room opened: the feed starts
  // after it, so what happened between that read and the subscription is not lost (and a copy cached from an
  // earlier visit, shown meanwhile, does not replay what came since). The first read's, kept: a refetch reads a
  // later one, and the feed has what came between.
  const feedFrom = useRef<{ sessionId: string; eventId: string } | null>(null);
  if (data && !session.loading && feedFrom.current?.sessionId !== id) feedFrom.current = { sessionId: id, eventId: data.lastEventId };
  const from = feedFrom.current?.sessionId === id ? feedFrom.current.eventId : null;
  const live = useResumableSubscription(SessionEventsSubscription, {
    variables: { sessionId: id },
    from,
    skip: !data || from === null,
    eventIdOf: (result) => result.sessionEvents.eventId,
    onData: (result) => {
      const event = result.sessionEvents;
      if (seen.current.has(event.eventId)) return;
      seen.current.add(event.eventId);
      if (seen.current.size > 2000) seen.current = new Set([...seen.current].slice(-1000));
      const { batchId, counts } = event;
      if (event.type === 'BATCH_PROGRESS' && batchId && counts) setBatches((prev) => ({ ...prev, [batchId]: counts }));
      if (event.type === 'PRESENCE') {
        online.current = { sessionId: event.sessionId, ids: event.onlineUserIds };
        showOnline();
      }
      const note = (current: SessionFieldsFragment | null | undefined) => {
        const text = describe(event, current ?? undefined);
        if (text) setActivity((prev) => [{ id: event.eventId, text }, ...prev].slice(0, 8));
      };
      // A member who just joined is not in our copy of the session yet: fetch it, then say who.
      if (event.type === 'MEMBER_JOINED') void refetchSession().then(note, () => note(data));
      else note(data);
      if (event.type === 'MEMBER_LEFT') {
        // Theirs is the feed's last event: say so once the session no longer reads (an admin still sees it).
        if (event.actorId === viewer?.id && !leaving.current) setRemoved({ sessionId: event.sessionId, name: data?.name ?? null });
        void refetchSession().catch(() => undefined);
      }
      // The room's own stream moves known jobs too, so progress shows even before a card subscribes.
      const status = event.jobId ? applyJobEvent(client.cache, event.jobId, event, requeues.current) : undefined;
      if (event.jobId && status && FINAL_STATUSES.has(status)) refetchFinishedJob(client, event.jobId);
      // A job we have not seen yet: fetch the feed again; its card then follows the job itself.
      const known = jobs.data?.jobs.edges.some((e) => e.node.id === event.jobId);
      if (event.jobId && !known && event.type !== 'PRESENCE') void jobs.refetch().catch(() => undefined);
    },
  });

  if (removed?.sessionId === id && !data) {
    return (
      <section className="card narrow" aria-labelledby="removed-title">
        <h1 id="removed-title">{removed.name ? `You were removed from ${removed.name}` : 'You were removed from this session'}</h1>
        <p>
          You are no longer a member: the owner removed you, or the session ended. Its feed, jobs and images are no longer
          shared with you. <Link to="/sessions">Back to your sessions</Link>.
        </p>
      </section>
    );
  }
  if (session.loading && !data) return <p className="loading" role="status">Loading session…</p>;
  if (lookupError(session.error)) return <ErrorNotice error={session.error} />;
  if (!data || !viewer) {
    return (
      <EmptyState title="Session not found">
        It does not exist or you are not a member. <Link to="/sessions">Back to your sessions</Link>.
      </EmptyState>
    );
  }
  const feed = jobs.data?.jobs.edges.map((e) => e.node) ?? [];
  const canGenerate = (data.myRole === 'OWNER' || data.myRole === 'COLLABORATOR') && data.status === 'ACTIVE';
  return (
    <div className="room">
      <header className="room-head">
        <div>
          <h1>{data.name}</h1>
          <p className="muted">
            You are {data.myRole === 'OWNER' ? 'the owner' : `a ${data.myRole?.toLowerCase()}`}
            {data.status === 'ARCHIVED' && ' · archived (read-only)'}
          </p>
        </div>
        <div className="actions">
          {canGenerate && <Link className="button primary" to={`/?session=${data.id}`}>Generate in this session</Link>}
          {data.myRole !== 'OWNER' && (
            <button type="button" className="button ghost" disabled={leaveState.loading}
              onClick={() => {
                leaving.current = true;
                void leave({ variables: { sessionId: id } }).then(() => navigate('/sessions')).catch(() => {
                  leaving.current = false;
                });
              }}>
              Leave
            </button>
          )}
        </div>
      </header>
      <ErrorNotice error={leaveState.error} />
      {live.error && <ErrorNotice error={live.error} title="Live updates stopped" />}
      <div className="room-grid">
        <section aria-labelledby="feed-title" className="feed">
          <h2 id="feed-title" className="h3">Live feed</h2>
          <ErrorNotice error={jobs.error} />
          {jobs.data && feed.length === 0 && (
            <EmptyState title="Nothing generated here yet">Jobs anyone starts in this session appear here as they run.</EmptyState>
          )}
          <div className="job-list">
            {feed.map((job) => <JobCard key={job.id} job={job} showOwner />)}
          </div>
        </section>
        <div className="side">
          <MemberList session={data} viewerId={viewer.id} />
          <SessionBatches batches={batches} />
          {data.myRole === 'OWNER' && data.status === 'ACTIVE' && <InvitePanel sessionId={data.id} />}
          <section className="card" aria-labelledby="activity-title">
            <h2 id="activity-title" className="h3">Activity</h2>
            <ul className="activity" aria-live="polite">
              {activity.length === 0 && <li className="muted">Quiet so far.</li>}
              {activity.map((a) => <li key={a.id}>{a.text}</li>)}
            </ul>
          </section>
        </div>
      </div>
    </div>
  );
}
