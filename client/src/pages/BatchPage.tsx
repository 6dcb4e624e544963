import { useApolloClient, useMutation, useQuery } from '@apollo/client/react';
import { useEffect, useRef, useState } from 'react';
import { useParams } from 'react-router';
import { ErrorNotice } from '../components/Notice';
import { ProgressBar } from '../components/ProgressBar';
import type { BatchJobFieldsFragment } from '../gql/graphql';
import { useAuth } from '../lib/auth';
import { explainError, lookupError } from '../lib/errors';
import { useResumableSubscription } from '../lib/useResumableSubscription';
import { BATCH_JOBS_PAGE, BatchQuery, BatchUpdatedSubscription, CancelBatchMutation } from '../operations/batches';

type BatchJob = BatchJobFieldsFragment;

/** One cell: the job's image once done, its latest latent preview while running, else its status. */
function Cell({ job, preview, caption }: { job: BatchJob | undefined; preview?: string; caption: string }) {
  const image = job?.images[0];
  return (
    <figure className={`batch-cell status-${(job?.status ?? 'PENDING').toLowerCase()}`} data-status={job?.status}>
      {image ? <img src={image.url} alt={caption} /> : preview ? <img src={preview} alt={`Preview: ${caption}`} /> : <span className="muted small">{job?.status.toLowerCase()}</span>}
      <figcaption className="small">{caption}</figcaption>
    </figure>
  );
}

/**
 * A batch live: the counts and progress bar from BATCH_PROGRESS, each cell's
 * preview while its job runs and its image once done (the page of jobs
 * holding it is fetched again after each job finishes), cancel, and the grid
 * to download. The jobs come BATCH_JOBS_PAGE at a time (every page within
 * the FREE tier's query cost budget), the rest fetched after the first.
 */
export function BatchPage() {
  const { id = '' } = useParams();
  const { viewer } = useAuth();
  const client = useApolloClient();
  const batch = useQuery(BatchQuery, { variables: { id, first: BATCH_JOBS_PAGE } });
  const [previews, setPreviews] = useState<Record<string, string>>({});
  const [cancel, cancelState] = useMutation(CancelBatchMutation);
  const current = batch.data?.batch;
  // What was shown stays when a later fetch finds the batch gone (null: the viewer left or was removed from its
  // session): the page then says so instead of turning into "Batch not found".
  const lastSeen = useRef(current);
  if (current) lastSeen.current = current;
  const vanished = !current && lastSeen.current?.id === id && !batch.loading;
  const data = current ?? (vanished ? lastSeen.current : undefined);
  const { fetchMore } = batch;
  const edges = useRef(data?.jobs.edges ?? []);
  edges.current = data?.jobs.edges ?? [];
  // The pages (by the index of their first job) to fetch again, and whether a fetch is under way: one at a
  // time, and the pages asked for meanwhile after it (a refetch asked while another is in flight would share
  // that one's older answer, and the last job's image or the grid would never show).
  const pending = useRef(new Set<number>());
  const fetching = useRef(false);
  // fetchMore, not refetch, for the first page too: a refetch overwrites the cached list (its merge sees no
  // existing edges), and the pages after the first would be lost.
  const fetchPage = (start: number) => {
    const after = start === 0 ? null : edges.current[start - 1]?.cursor;
    return after === undefined ? Promise.resolve() : fetchMore({ variables: { after } });
  };
  const drain = () => {
    if (fetching.current) return;
    const [start] = [...pending.current].sort((a, b) => a - b);
    if (start === undefined) return;
    pending.current.delete(start);
    fetching.current = true;
    void fetchPage(start).catch(() => undefined).finally(() => {
      fetching.current = false;
      drain();
    });
  };
  /** Fetches the batch (its counts, status, grid) again, and the pages holding `jobIds`, or every page. */
  const refresh = (jobIds: string[] | 'all') => {
    pending.current.add(0);
    edges.current.forEach((edge, i) => {
      if (i >= BATCH_JOBS_PAGE && (jobIds === 'all' || jobIds.includes(edge.node.id))) pending.current.add(i - (i % BATCH_JOBS_PAGE));
    });
    drain();
  };
  // The rest of the jobs, a page after the other.
  const more = data?.jobs.pageInfo.hasNextPage ? data.jobs.pageInfo.endCursor : null;
  const asked = useRef<string | null>(null);
  useEffect(() => {
    if (!more || asked.current === more) return;
    asked.current = more;
    void fetchMore({ variables: { after: more } }).catch(() => {
      asked.current = null;
    });
  }, [more, fetchMore]);
  const live = useResumableSubscription(BatchUpdatedSubscription, {
    variables: { batchId: id },
    skip: !current || current.status !== 'RUNNING',
    eventIdOf: (data) => data.batchUpdated.eventId,
    onData: (data) => {
      const e = data.batchUpdated;
      if (e.type === 'PROGRESS' && e.jobId && e.preview) setPreviews((p) => ({ ...p, [e.jobId!]: e.preview! }));
      if (e.counts) {
        const counts = e.counts;
        client.cache.modify({
          id: client.cache.identify({ __typename: 'Batch', id }),
          fields: { completed: () => counts.completed, failed: () => counts.failed, cancelled: () => counts.cancelled, progress: () => counts.progress },
        });
      }
      if (e.counts?.status !== undefined && e.counts.status !== 'RUNNING') refresh('all');
      else if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(e.type)) refresh(e.jobId ? [e.jobId] : 'all');
    },
  });
  // The stream ended with FORBIDDEN: the viewer left or was removed from the batch's session; or with NOT_FOUND when
  // it was started again (say, after the socket dropped) for the batch shown: no longer shared, or deleted.
  const stopped = explainError(live.error);
  const lostAccess = stopped?.code === 'FORBIDDEN' || stopped?.code === 'NOT_FOUND' || vanished;
  if (!data) return <>{batch.loading ? <p className="loading" role="status">Loading…</p> : <ErrorNotice error={lookupError(batch.error) ?? new Error('Batch not found')} />}</>;

  const jobs = data.jobs.edges.map((e) => e.node);
  const at = (index: number) => jobs.find((j) => j.batchIndex === index);
  const columns = data.axes?.columnLabels ?? [];
  const percent = Math.round(data.progress * 100);
  // As the server allows (assertCanControlBatch): the batch's owner or its session's owner.
  const canCancel = !lostAccess && (viewer?.id === data.owner.id || data.session?.myRole === 'OWNER');
  return (
    <section className="card stack" aria-labelledby="batch-title">
      <h1 id="batch-title">{data.name}</h1>
      <p aria-live="polite">
        <span data-testid="batch-counts">{data.completed} of {data.total} done</span>
        {data.failed > 0 && ` · ${data.failed} failed`}{data.cancelled > 0 && ` · ${data.cancelled} cancelled`} · {percent} % · {lostAccess ? 'no longer shared with you' : data.status.toLowerCase()}
      </p>
      {(stopped || lostAccess) && (
        <div className="notice error" role="alert">
          <strong>Live updates stopped: </strong>
          {stopped?.code === 'NOT_FOUND' ? 'you no longer have access to this batch (it is no longer shared with you, or was deleted). What you see is how it was then.'
            : lostAccess ? 'you no longer have access to this batch (you are no longer a member of its session). What you see is how it was then.' : stopped?.message}
        </div>
      )}
      <ProgressBar value={data.progress} label="Batch progress" />
      <div className="inline-fields">
        {data.status === 'RUNNING' && canCancel && (
          <button type="button" className="secondary" disabled={cancelState.loading} onClick={() => void cancel({ variables: { id } }).then(() => refresh('all')).catch(() => undefined)}>
            Cancel batch
          </button>
        )}
        {data.grid && <a className="button" href={data.grid.url} download={`batch-${data.id}.png`}>Download grid</a>}
      </div>
      <ErrorNotice error={cancelState.error} />
      {data.axes ? (
        <div className="batch-grid" role="table" aria-label="Batch grid" style={{ gridTemplateColumns: `minmax(8rem, auto) repeat(${columns.length}, minmax(64px, 200px))` }}>
          <span />
          {columns.map((c) => <strong key={c} className="small">{c}</strong>)}
          {data.axes.rowLabels.map((row, r) => [
            <strong key={`r${r}`} className="small">{row}</strong>,
            ...columns.map((c, k) => {
              const job = at(r * columns.length + k);
              return <Cell key={`${r}-${k}`} job={job} preview={job && previews[job.id]} caption={`${row} · ${c}`} />;
            }),
          ])}
        </div>
      ) : (
        <div className="batch-grid" aria-label="Batch images" style={{ gridTemplateColumns: 'repeat(auto-fill, minmax(120px, 200px))' }}>
          {jobs.map((job) => <Cell key={job.id} job={job} preview={previews[job.id]} caption={job.prompt} />)}
        </div>
      )}
    </section>
  );
}
