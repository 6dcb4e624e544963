import { useMutation, useQuery } from '@apollo/client/react';
import { Link, useNavigate } from 'react-router';
import { BatchForm } from '../components/BatchForm';
import { EmptyState, ErrorNotice } from '../components/Notice';
import { ProgressBar } from '../components/ProgressBar';
import type { BatchInput } from '../gql/graphql';
import { explainError } from '../lib/errors';
import { relativeTime } from '../lib/format';
import { BatchesQuery, CreateBatchMutation } from '../operations/batches';
import { SessionsQuery } from '../operations/sessions';

/** Start a batch (prompts one per line, or a matrix) and see your recent batches. */
export function BatchesPage() {
  const navigate = useNavigate();
  const batches = useQuery(BatchesQuery, { variables: { first: 20 } });
  const sessions = useQuery(SessionsQuery);
  const [create, createState] = useMutation(CreateBatchMutation, { refetchQueries: ['Batches', 'Usage'] });
  const problem = explainError(createState.error);
  const fieldErrors: Record<string, string> = problem?.field ? { [problem.field.replace(/\[\d+\]$/, '')]: problem.message } : {};

  const submit = async (input: BatchInput) => {
    try {
      const result = await create({ variables: { input, idempotencyKey: crypto.randomUUID() } });
      if (result.data) navigate(`/batches/${result.data.createBatch.id}`);
    } catch {
      // Explained from createState.error.
    }
  };

  const list = batches.data?.batches.edges.map((e) => e.node) ?? [];
  return (
    <div className="generate-layout">
      <section className="card" aria-labelledby="batches-title">
        <h1 id="batches-title">Batch</h1>
        <BatchForm busy={createState.loading} fieldErrors={fieldErrors} sessions={sessions.data?.sessions ?? []} onSubmit={submit} />
        {problem && (
          <div className="notice error" role="alert">
            <strong>{problem.code === 'QUOTA_EXCEEDED' ? 'Over your limit: ' : 'Could not start: '}</strong>{problem.message}
          </div>
        )}
      </section>
      <section className="side" aria-labelledby="recent-batches">
        <h2 id="recent-batches" className="h3">Recent batches</h2>
        <ErrorNotice error={batches.error} />
        {batches.data && list.length === 0 && <EmptyState title="No batches yet">Paste a few prompts and start one.</EmptyState>}
        <ul className="batch-list">
          {list.map((b) => (
            <li key={b.id} className="card">
              <Link to={`/batches/${b.id}`}>{b.name}</Link>
              <span className="muted small"> · {b.total} jobs · {b.status.toLowerCase()} · {relativeTime(b.createdAt)}</span>
              <ProgressBar value={b.progress} label={`Progress of batch “${b.name}”`} />
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
