import { useMutation, useQuery } from '@apollo/client/react';
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { DatasetEditor } from '../components/DatasetEditor';
import { EmptyState, ErrorNotice } from '../components/Notice';
import { explainError } from '../lib/errors';
import { CreateDatasetMutation, DatasetsQuery, StartTrainingMutation, TrainingLimitsQuery, TrainingRunsQuery } from '../operations/training';

/** How often the Runs list is fetched again while a run is open. */
const RUNS_POLL_MS = 3000;

/** The run form: the tier's limits are shown before anyone presses Start. */
function RunForm({ datasetId }: { datasetId: string }) {
  const navigate = useNavigate();
  const limits = useQuery(TrainingLimitsQuery).data?.usage.limits;
  const [start, state] = useMutation(StartTrainingMutation, { refetchQueries: ['TrainingRuns'] });
  // Learning rate left empty: the base model's default (atelier-tiny's moves colour; docs/training.md, "Defaults for atelier-tiny").
  const [form, setForm] = useState({ loraName: '', steps: 200, learningRate: '', saveEvery: 50, samplePrompt: '' });
  const problem = explainError(state.error);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await start({ variables: { input: {
      datasetId, loraName: form.loraName, steps: form.steps, learningRate: form.learningRate === '' ? null : Number(form.learningRate), saveEvery: form.saveEvery,
      samplePrompts: form.samplePrompt.trim() ? [form.samplePrompt.trim()] : [],
    } } }).catch(() => null);
    if (result?.data) void navigate(`/training/runs/${result.data.startTraining.id}`);
  };
  const field = (name: keyof typeof form, label: string, type: 'text' | 'number', step?: string, placeholder?: string) => (
    <label>{label}
      <input type={type} step={step} value={form[name]} placeholder={placeholder} aria-invalid={problem?.field === name || undefined}
        onChange={(e) => setForm({ ...form, [name]: type === 'number' && name !== 'learningRate' ? Number(e.target.value) : e.target.value })} />
    </label>
  );
  return (
    <form className="card stack" onSubmit={(e) => void submit(e)} aria-labelledby="run-title">
      <h2 id="run-title" className="h3">Train a LoRA</h2>
      {limits && (
        <p className="muted small" id="training-limits">
          {limits.trainingRunsPerDay === 0
            ? `Training is not part of the ${limits.tier} tier.`
            : `${limits.tier}: up to ${limits.maxTrainingSteps} steps, ${limits.trainingRunsPerDay} runs a day, ${limits.maxConcurrentTrainingRuns} at once, ${limits.maxDatasetImages} images per dataset.`}
        </p>
      )}
      <div className="grid-fields">
        {field('loraName', 'LoRA name', 'text')}
        {field('steps', 'Steps', 'number')}
        {field('learningRate', 'Learning rate', 'number', 'any', "the model's default")}
        {field('saveEvery', 'Save every', 'number')}
        {field('samplePrompt', 'Sample prompt', 'text')}
      </div>
      {problem && <p className="notice error" role="alert">{problem.field ? `${problem.field}: ` : ''}{problem.message}</p>}
      <button type="submit" className="button" disabled={state.loading}>Start training</button>
    </form>
  );
}

/** The Training area: datasets (upload, captions), the run form, and runs. */
export function TrainingPage() {
  const datasets = useQuery(DatasetsQuery);
  const runs = useQuery(TrainingRunsQuery);
  // The list follows its runs: polled while one is queued or running, and fetched again when the tab comes
  // back into view (a run started or cancelled in another tab).
  const open = (runs.data?.trainingRuns.edges ?? []).some(({ node }) => node.status === 'QUEUED' || node.status === 'RUNNING');
  const { startPolling, stopPolling, refetch: refetchRuns } = runs;
  useEffect(() => {
    if (!open) return undefined;
    startPolling(RUNS_POLL_MS);
    return () => stopPolling();
  }, [open, startPolling, stopPolling]);
  useEffect(() => {
    const again = () => {
      if (document.visibilityState === 'visible') void refetchRuns().catch(() => undefined);
    };
    window.addEventListener('focus', again);
    document.addEventListener('visibilitychange', again);
    return () => {
      window.removeEventListener('focus', again);
      document.removeEventListener('visibilitychange', again);
    };
  }, [refetchRuns]);
  const [create, createState] = useMutation(CreateDatasetMutation, { refetchQueries: ['Datasets'] });
  const [name, setName] = useState('');
  const [selected, setSelected] = useState<string | null>(null);
  const list = datasets.data?.datasets.edges.map((e) => e.node) ?? [];
  const current = selected ?? list[0]?.id ?? null;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await create({ variables: { input: { name } } }).catch(() => null);
    if (result?.data) {
      setSelected(result.data.createDataset.id);
      setName('');
    }
  };
  return (
    <div className="stack">
      <h1>Training</h1>
      <form className="card inline wrap" onSubmit={(e) => void submit(e)}>
        <label>Dataset name <input id="dataset-name" value={name} onChange={(e) => setName(e.target.value)} /></label>
        <button type="submit" className="button">Create dataset</button>
        <ErrorNotice error={createState.error} />
      </form>
      {datasets.data && list.length === 0 && <EmptyState title="No datasets yet">Create one, then drop your images into it.</EmptyState>}
      {list.length > 0 && (
        <label>Dataset
          <select value={current ?? ''} onChange={(e) => setSelected(e.target.value)}>
            {list.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
          </select>
        </label>
      )}
      {current && <DatasetEditor key={current} datasetId={current} onDeleted={() => {
        setSelected(null);
        document.getElementById('dataset-name')?.focus();
      }} />}
      {current && <RunForm datasetId={current} />}
      <section aria-labelledby="runs-title">
        <h2 id="runs-title" className="h3">Runs</h2>
        <ul>
          {(runs.data?.trainingRuns.edges ?? []).map(({ node }) => (
            <li key={node.id} data-run-id={node.id}><Link to={`/training/runs/${node.id}`}>{node.loraName}</Link> <span className="badge">{node.status}</span> {node.step}/{node.totalSteps}</li>
          ))}
        </ul>
      </section>
    </div>
  );
}
