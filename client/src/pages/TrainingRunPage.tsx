import { useMutation, useQuery } from '@apollo/client/react';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { LossChart } from '../components/LossChart';
import { EmptyState, ErrorNotice } from '../components/Notice';
import { ProgressBar } from '../components/ProgressBar';
import { SampleComparison } from '../components/SampleComparison';
import { DEFAULT_SETTINGS } from '../components/settings';
import type { TrainingUpdatedSubscription as TrainingEvent } from '../gql/graphql';
import { lookupError } from '../lib/errors';
import { useResumableSubscription } from '../lib/useResumableSubscription';
import { CancelTrainingMutation, TrainingRunQuery, TrainingUpdatedSubscription } from '../operations/training';

type Event = TrainingEvent['trainingUpdated'];
type Point = { step: number; loss: number };
type Metrics = { lossCurve: Point[]; evaluationCurve: Point[] } | null | undefined;

const FINAL = ['COMPLETED', 'FAILED', 'CANCELLED'];

/** One point per step in step order, the latest report winning (a resumed run reports the steps after its checkpoint again). */
function byStep(points: Point[]): Point[] {
  const latest = new Map(points.map((p) => [p.step, p.loss]));
  return [...latest].sort((a, b) => a[0] - b[0]).map(([step, loss]) => ({ step, loss }));
}

/**
 * What the chart plots: the evaluation loss (the same images, timesteps and
 * noise each time, so it shows the fit), from the stored curve once the run
 * is done, from EVALUATION events until then. A trainer that reports no
 * evaluations (kohya) gets its per-step training loss instead.
 */
function lossSeries(metrics: Metrics, events: Event[]): { series: string; points: Point[] } {
  const reported = (type: string, value: (e: Event) => number | null | undefined) =>
    byStep(events.filter((e) => e.type === type && value(e) != null).map((e) => ({ step: e.step, loss: value(e) as number })));
  const evaluation = metrics?.evaluationCurve.length ? metrics.evaluationCurve : reported('EVALUATION', (e) => e.evaluationLoss);
  if (evaluation.length) return { series: 'evaluation loss', points: evaluation };
  return { series: 'training loss', points: metrics?.lossCurve.length ? metrics.lossCurve : reported('PROGRESS', (e) => e.loss) };
}

/** A run, live: progress, the loss chart as EVALUATION events arrive, samples per save point, and its LoRA once done. */
export function TrainingRunPage() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const run = useQuery(TrainingRunQuery, { variables: { id } });
  const [events, setEvents] = useState<Event[]>([]);
  // After a drop, or an end the server could not avoid (SERVICE_UNAVAILABLE), it resumes after its last event.
  useResumableSubscription(TrainingUpdatedSubscription, {
    variables: { runId: id },
    eventIdOf: (data) => data.trainingUpdated.eventId,
    onData: (data) => {
      const event = data.trainingUpdated;
      setEvents((list) => (list.some((e) => e.eventId === event.eventId) ? list : [...list, event]));
      if (FINAL.includes(event.type)) void run.refetch();
    },
  });
  const [cancel, cancelState] = useMutation(CancelTrainingMutation);
  const last = events.at(-1);
  const info = run.data?.trainingRun;
  const loss = lossSeries(info?.lora?.metrics, events);
  // The save points recorded with the run (they outlive its events), then those announced since; a step's latest wins.
  const samples = [...(info?.samples ?? []), ...events.filter((e) => e.type === 'SAMPLE')];
  const done = events.find((e) => e.type === 'COMPLETED');
  // The LoRA and its final loss from the event, or from the run once its events have expired.
  const finished = done?.loraId ? { loraId: done.loraId, finalLoss: done.finalLoss } : info?.lora ? { loraId: info.lora.id, finalLoss: info.lora.metrics?.finalLoss } : null;
  const useLora = (loraId: string) => void navigate('/', { state: { settings: { ...DEFAULT_SETTINGS, loras: [{ loraId, weight: 1 }] } } });
  // A final status (from the run or its events) wins over the last progress event.
  const ended = events.find((e) => FINAL.includes(e.type))?.type ?? (info && FINAL.includes(info.status) ? info.status : undefined);
  const status = ended ?? last?.type ?? info?.status;
  const cancellable = !!info && !ended && (info.status === 'QUEUED' || info.status === 'RUNNING');
  const cancelRun = () => {
    if (!info || !window.confirm(`Cancel the training run “${info.loraName}”? A running one stops before its next step; its last checkpoint stays downloadable.`)) return;
    void cancel({ variables: { id: info.id } }).catch(() => undefined);
  };
  if (!info && !run.loading && !lookupError(run.error)) {
    return <EmptyState title="Training run not found">It does not exist or is not yours. <Link to="/training">Your training runs</Link>.</EmptyState>;
  }
  return (
    <div className="stack">
      <h1>Training {info?.loraName}</h1>
      <ErrorNotice error={run.error} />
      <p><span className="badge" data-testid="run-status">{status}</span> step {last?.step ?? info?.step} of {last?.totalSteps ?? info?.totalSteps}
        {last?.etaSeconds != null && <span className="muted"> · about {last.etaSeconds} s left</span>}</p>
      <ProgressBar value={(last?.step ?? 0) / Math.max(1, last?.totalSteps ?? 1)} label="Training progress" />
      {cancellable && (
        <div className="actions">
          {cancelState.data
            ? <p className="muted" role="status">Cancel requested: the run stops before its next step.</p>
            : <button type="button" className="button ghost" disabled={cancelState.loading} onClick={cancelRun}>Cancel training</button>}
        </div>
      )}
      <ErrorNotice error={cancelState.error} title="Could not cancel" />
      {last?.error && <p className="notice error">{last.error.message}</p>}
      <section aria-labelledby="loss-title" className="card">
        <h2 id="loss-title" className="h3">Loss</h2>
        <LossChart points={loss.points} series={loss.series} />
        {loss.series === 'evaluation loss' && (
          <p className="muted">The loss on the same images, timesteps and noise each time, at step 0, every few steps and at each save point: it falls as the LoRA fits the dataset.</p>
        )}
      </section>
      <section aria-labelledby="samples-title">
        <h2 id="samples-title" className="h3">Samples</h2>
        <SampleComparison points={samples} />
      </section>
      {finished && (
        <p>Final loss {finished.finalLoss?.toFixed(4)}. <button type="button" className="button" onClick={() => useLora(finished.loraId)}>Use this LoRA</button></p>
      )}
      {info?.checkpointUrl && !finished && <p><a href={info.checkpointUrl}>Download the last checkpoint</a></p>}
    </div>
  );
}
