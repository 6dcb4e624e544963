import { useQuery } from '@apollo/client/react';
import { useState } from 'react';
import { Link } from 'react-router';
import { JobCard } from '../components/JobCard';
import { EmptyState, ErrorNotice } from '../components/Notice';
import type { JobStatus } from '../gql/graphql';
import { JobsQuery } from '../operations/jobs';

const PAGE = 12;
const FILTERS: { value: JobStatus | ''; label: string }[] = [
  { value: '', label: 'All' },
  { value: 'COMPLETED', label: 'Done' },
  { value: 'PROCESSING', label: 'Generating' },
  { value: 'PENDING', label: 'Queued' },
  { value: 'FAILED', label: 'Failed' },
  { value: 'CANCELLED', label: 'Cancelled' },
];

/** Everything you generated, newest first, filterable by status, paged with "load more". */
export function HistoryPage() {
  const [status, setStatus] = useState<JobStatus | ''>('');
  const { data, loading, error, fetchMore } = useQuery(JobsQuery, { variables: { first: PAGE, status: status || null } });
  const jobs = data?.jobs.edges.map((e) => e.node) ?? [];
  const more = async () => {
    await fetchMore({
      variables: { after: data?.jobs.pageInfo.endCursor },
      updateQuery: (prev, { fetchMoreResult }) => ({
        jobs: { ...fetchMoreResult.jobs, edges: [...prev.jobs.edges, ...fetchMoreResult.jobs.edges] },
      }),
    });
  };
  return (
    <div className="stack">
      <div className="page-head">
        <h1>History</h1>
        <div className="field inline">
          <label htmlFor="status-filter">Show</label>
          <select id="status-filter" value={status} onChange={(e) => setStatus(e.target.value as JobStatus | '')}>
            {FILTERS.map((f) => <option key={f.value} value={f.value}>{f.label}</option>)}
          </select>
        </div>
      </div>
      <ErrorNotice error={error} />
      {loading && !data && <p className="loading" role="status">Loading…</p>}
      {data && jobs.length === 0 && (
        <EmptyState title={status ? 'No jobs with this status' : 'No jobs yet'}>
          <Link to="/">Generate your first image</Link>.
        </EmptyState>
      )}
      <div className="job-grid">
        {jobs.map((job) => <JobCard key={job.id} job={job} />)}
      </div>
      {data?.jobs.pageInfo.hasNextPage && (
        <button type="button" className="button" onClick={() => void more().catch(() => undefined)} disabled={loading}>Load more</button>
      )}
    </div>
  );
}
