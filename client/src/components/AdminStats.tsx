import { useQuery } from '@apollo/client/react';
import { formatDate, relativeTime } from '../lib/format';
import { SystemStatsQuery } from '../operations/admin';
import { ErrorNotice } from './Notice';

const seconds = (value: number | null | undefined) => (value == null ? '—' : `${value.toFixed(1)} s`);

/** ADMIN: queue depth, workers and their running jobs, outcomes, timings and recent failures; refreshed every 5 s. */
export function AdminStats() {
  const { data, error } = useQuery(SystemStatsQuery, { variables: { windowHours: 24, errorLimit: 20 }, pollInterval: 5000 });
  const stats = data?.systemStats;
  if (error) return <ErrorNotice error={error} title="Service stats" />;
  if (!stats) return <p className="loading" role="status">Loading stats…</p>;
  const byStatus = new Map(stats.jobsByStatus.map((s) => [s.status, s.count]));
  const tiles: [string, string | number][] = [
    ['Waiting', stats.queue.waiting],
    ['Running', stats.queue.active],
    ['Delayed', stats.queue.delayed],
    ['Failed (queue)', stats.queue.failed],
    [`Done (${stats.windowHours} h)`, byStatus.get('COMPLETED') ?? 0],
    [`Failed (${stats.windowHours} h)`, byStatus.get('FAILED') ?? 0],
    ['Median time', seconds(stats.generationTime.p50Seconds)],
    ['p95 time', seconds(stats.generationTime.p95Seconds)],
    ['Images (window)', stats.usage.imagesGenerated],
  ];
  return (
    <>
      <section aria-labelledby="queue-title">
        <h2 id="queue-title" className="h3">Queue and jobs <span className="muted small">up {Math.round(stats.uptimeSeconds / 60)} min</span></h2>
        <dl className="stats">
          {tiles.map(([label, value]) => <div key={label} className="stat"><dt>{label}</dt><dd>{value}</dd></div>)}
        </dl>
      </section>
      <section aria-labelledby="workers-title">
        <h2 id="workers-title" className="h3">Workers</h2>
        {stats.workers.length === 0 ? <p className="muted">No worker has reported in. Jobs wait until one starts.</p> : (
          <div className="table-wrap">
            <table>
              <thead><tr><th scope="col">Worker</th><th scope="col">Running</th><th scope="col">Provider</th><th scope="col">Models loaded</th><th scope="col">Seen</th></tr></thead>
              <tbody>
                {stats.workers.map((w) => (
                  <tr key={w.id}>
                    <td className="mono">{w.hostname}:{w.pid}</td>
                    <td>{w.activeJobs} / {w.concurrency}</td>
                    <td>{w.executionProvider ?? '—'}</td>
                    <td>{w.loadedModels.join(', ') || '—'}</td>
                    <td>{relativeTime(w.lastSeenAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section aria-labelledby="errors-title">
        <h2 id="errors-title" className="h3">Recent failures</h2>
        {stats.recentErrors.length === 0 ? <p className="muted">None in this window.</p> : (
          <div className="table-wrap">
            <table>
              <thead><tr><th scope="col">When</th><th scope="col">Code</th><th scope="col">What</th><th scope="col">Where</th></tr></thead>
              <tbody>
                {stats.recentErrors.map((e, i) => (
                  <tr key={`${e.at}-${i}`}>
                    <td>{formatDate(e.at)}</td>
                    <td><span className="badge status-failed">{e.code}</span></td>
                    <td>{e.message}</td>
                    <td className="small muted">{e.source}{e.operation ? ` · ${e.operation}` : ''}{e.jobId ? ` · job ${e.jobId.slice(0, 8)}` : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
