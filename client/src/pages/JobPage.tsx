import { useQuery } from '@apollo/client/react';
import { Link, useParams } from 'react-router';
import { JobCard } from '../components/JobCard';
import { EmptyState, ErrorNotice } from '../components/Notice';
import { lookupError } from '../lib/errors';
import { JobQuery } from '../operations/jobs';

/** One job on its own page (a link to share with teammates in the same session). */
export function JobPage() {
  const { id = '' } = useParams();
  const { data, loading, error } = useQuery(JobQuery, { variables: { id } });
  if (loading && !data) return <p className="loading" role="status">Loading job…</p>;
  if (lookupError(error)) return <ErrorNotice error={error} />;
  if (!data?.job) return <EmptyState title="Job not found">It does not exist or is not shared with you. <Link to="/history">See your history</Link>.</EmptyState>;
  return (
    <div className="narrow stack">
      <h1>Job</h1>
      <JobCard job={data.job} showOwner />
    </div>
  );
}
