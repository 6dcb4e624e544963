import { useMutation, useQuery, useSubscription } from '@apollo/client/react';
import { useRef, useState } from 'react';
import { useParams } from 'react-router';
import { ErrorNotice } from '../components/Notice';
import { ProgressBar } from '../components/ProgressBar';
import type { BatchFieldsFragment } from '../gql/graphql';
import { BatchQuery, BatchUpdatedSubscription, CancelBatchMutation } from '../operations/batches';

type BatchJob = BatchFieldsFragment['jobs']['edges'][number]['node'];

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
 * preview while its job runs and its image once done (the batch is fetched
 * again after each job finishes), cancel, and the grid to download.
 */
export function BatchPage() {
  const { id = '' } = useParams();
  const batch = useQuery(BatchQuery, { variables: { id } });
  const [previews, setPreviews] = useState<Record<string, string>>({});
  const [cancel, cancelState] = useMutation(CancelBatchMutation);
  const data = batch.data?.batch;
  // One refetch at a time, and one more after it when asked meanwhile: a refetch asked while another is in
  // flight would share that one's (older) answer, and the last job's image or the grid would never show.
  const refetching = useRef(false);
  const again = useRef(false);
  const refresh = () => {
    if (refetching.current) return void (again.current = true);
    refetching.current = true;
    void batch.refetch().catch(() => undefined).finally(() => {
      refetching.current = false;
      if (again.current) {
        again.current = false;
        refresh();
      }
    });
  };
  useSubscription(BatchUpdatedSubscription, {
    variables: { batchId: id },
    skip: !data || data.status !== 'RUNNING',
    onData: ({ data: event, client }) => {
      const e = event.data?.batchUpdated;
      if (!e) return;
      if (e.type === 'PROGRESS' && e.jobId && e.preview) setPreviews((p) => ({ ...p, [e.jobId!]: e.preview! }));
      if (e.counts) {
        const counts = e.counts;
        client.cache.modify({
          id: client.cache.identify({ __typename: 'Batch', id }),
          fields: { completed: () => counts.completed, failed: () => counts.failed, cancelled: () => counts.cancelled, progress: () => counts.progress },
        });
      }
      if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(e.type) || e.counts?.status !== undefined && e.counts.status !== 'RUNNING') refresh();
    },
  });
  if (!data) return <>{batch.loading ? <p className="loading" role="status">Loading…</p> : <ErrorNotice error={batch.error ?? new Error('Batch not found')} />}</>;

  const jobs = data.jobs.edges.map((e) => e.node);
  const at = (index: number) => jobs.find((j) => j.batchIndex === index);
  const columns = data.axes?.columnLabels ?? [];
  const percent = Math.round(data.progress * 100);
  return (
    <section className="card stack" aria-labelledby="batch-title">
      <h1 id="batch-title">{data.name}</h1>
      <p aria-live="polite">
        <span data-testid="batch-counts">{data.completed} of {data.total} done</span>
        {data.failed > 0 && ` · ${data.failed} failed`}{data.cancelled > 0 && ` · ${data.cancelled} cancelled`} · {percent} % · {data.status.toLowerCase()}
      </p>
      <ProgressBar value={data.progress} label="Batch progress" />
      <div className="inline-fields">
        {data.status === 'RUNNING' && (
          <button type="button" className="secondary" disabled={cancelState.loading} onClick={() => void cancel({ variables: { id } }).then(() => batch.refetch()).catch(() => undefined)}>
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
