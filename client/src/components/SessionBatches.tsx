import { Link } from 'react-router';
import { ProgressBar } from './ProgressBar';

/** A batch's counts as the session's BATCH_PROGRESS events carry them. */
export interface LiveBatchCounts {
  total: number;
  completed: number;
  failed: number;
  cancelled: number;
  progress: number;
  status: string;
}

/** Batches started in the session while the room is open, each with its live progress. */
export function SessionBatches({ batches }: { batches: Record<string, LiveBatchCounts> }) {
  const entries = Object.entries(batches);
  if (entries.length === 0) return null;
  return (
    <section className="card" aria-labelledby="session-batches-title">
      <h2 id="session-batches-title" className="h3">Batches</h2>
      <ul className="batch-list">
        {entries.map(([id, c]) => (
          <li key={id}>
            <Link to={`/batches/${id}`}>{c.completed} of {c.total} done</Link>
            <span className="muted small"> · {c.status.toLowerCase()}</span>
            <ProgressBar value={c.progress} label={`Batch progress ${c.completed} of ${c.total}`} />
          </li>
        ))}
      </ul>
    </section>
  );
}
