import { useMutation, useQuery } from '@apollo/client/react';
import { useRef, useState, type DragEvent } from 'react';
import { Link } from 'react-router';
import { ErrorNotice } from './Notice';
import { ProgressBar } from './ProgressBar';
import { useAuth } from '../lib/auth';
import { explainError } from '../lib/errors';
import { uploadFile } from '../lib/upload';
import { AddDatasetImagesMutation, CancelTrainingMutation, DatasetQuery, TrainingRunQuery, DeleteDatasetMutation, RemoveDatasetImagesMutation, UpdateDatasetImageMutation } from '../operations/training';

interface FileUpload {
  key: string;
  name: string;
  progress: number;
  error: string | null;
}

const FINAL_RUN = ['COMPLETED', 'FAILED', 'CANCELLED'];

/**
 * The dataset is locked by a training run (CONFLICT): said in words, with a
 * link to the run and its Cancel where it is the viewer's (the error names it
 * in `extensions.runId`). Followed while shown, so it goes once the run ends.
 */
function RunConflict({ runId, datasetName }: { runId?: string; datasetName: string }) {
  const run = useQuery(TrainingRunQuery, { variables: { id: runId ?? '' }, skip: !runId, pollInterval: 3000 });
  const [cancel, cancelState] = useMutation(CancelTrainingMutation);
  const info = run.data?.trainingRun;
  if (info && FINAL_RUN.includes(info.status)) return null;
  if (!runId) {
    return (
      <div className="notice error" role="alert">
        “{datasetName}” is being used by a session member’s training run, so its images cannot change until that run ends.
      </div>
    );
  }
  const name = info ? `the training run “${info.loraName}”` : 'one of your training runs';
  const cancelRun = () => {
    if (!window.confirm(`Cancel ${name}? A running one stops before its next step; its last checkpoint stays downloadable.`)) return;
    void cancel({ variables: { id: runId } }).then(() => run.refetch()).catch(() => undefined);
  };
  return (
    <div className="notice error" role="alert">
      “{datasetName}” is being used by {name}, so its images cannot change until the run ends.{' '}
      <Link to={`/training/runs/${runId}`}>Open the run</Link>{' '}
      {cancelState.data
        ? <span>Cancel requested; try again once it has stopped.</span>
        : <button type="button" className="button ghost small" disabled={cancelState.loading} onClick={cancelRun}>Cancel the run</button>}
      <ErrorNotice error={cancelState.error} />
    </div>
  );
}

/** An error from changing the dataset: a run's lock in words (RunConflict), anything else as explained. */
function ChangeError({ error, datasetName }: { error: unknown; datasetName: string }) {
  const explained = explainError(error);
  if (explained?.code === 'CONFLICT') return <RunConflict runId={explained.runId} datasetName={datasetName} />;
  return <ErrorNotice error={error} />;
}

/** A caption edited in place; saved when the field loses focus. */
function CaptionField({ id, caption, label, datasetName }: { id: string; caption: string; label: string; datasetName: string }) {
  const [text, setText] = useState(caption);
  const [save, state] = useMutation(UpdateDatasetImageMutation);
  return (
    <>
      <input aria-label={label} value={text} onChange={(e) => setText(e.target.value)}
        onBlur={() => { if (text !== caption) void save({ variables: { id, caption: text } }).catch(() => undefined); }} />
      <ChangeError error={state.error} datasetName={datasetName} />
    </>
  );
}

/**
 * A dataset's images: drop files (or choose them), each uploads with its own
 * progress bar and is added with its file name as the first caption; the
 * server checks every image by content and says which one it refused.
 */
export function DatasetEditor({ datasetId, onDeleted }: { datasetId: string; onDeleted?: () => void }) {
  const { token } = useAuth();
  const dataset = useQuery(DatasetQuery, { variables: { id: datasetId } });
  const [add, addState] = useMutation(AddDatasetImagesMutation, { refetchQueries: ['Dataset'] });
  const [remove, removeState] = useMutation(RemoveDatasetImagesMutation, { refetchQueries: ['Dataset'], awaitRefetchQueries: true });
  const [destroy, destroyState] = useMutation(DeleteDatasetMutation, { refetchQueries: ['Datasets'], awaitRefetchQueries: true });
  const heading = useRef<HTMLHeadingElement>(null);
  const [uploads, setUploads] = useState<FileUpload[]>([]);
  const [over, setOver] = useState(false);
  const update = (key: string, change: Partial<FileUpload>) => setUploads((list) => list.map((u) => (u.key === key ? { ...u, ...change } : u)));

  const send = async (files: File[]) => {
    if (!token || files.length === 0) return;
    const entries = files.map((file, i) => ({ file, key: `${Date.now()}-${i}-${file.name}` }));
    setUploads((list) => [...list, ...entries.map(({ file, key }) => ({ key, name: file.name, progress: 0, error: null }))]);
    const received = await Promise.all(entries.map(async ({ file, key }) => {
      try {
        const receipt = await uploadFile(file, token, (progress) => update(key, { progress }));
        return { uploadId: receipt.uploadId, caption: file.name.replace(/\.[^.]+$/, '').replace(/[-_]+/g, ' ') };
      } catch (error) {
        update(key, { error: (error as Error).message });
        return null;
      }
    }));
    const images = received.filter((r): r is { uploadId: string; caption: string } => r !== null);
    if (images.length > 0) await add({ variables: { datasetId, images } }).catch(() => undefined);
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    void send([...event.dataTransfer.files]);
  };

  const images = dataset.data?.dataset.images ?? [];
  const name = dataset.data?.dataset.name ?? 'Dataset';
  const mine = dataset.data?.dataset.mine ?? false;
  const removeImage = async (id: string, label: string) => {
    if (!window.confirm(`Remove ${label} from “${name}”? Its file is deleted; runs already trained keep their LoRAs.`)) return;
    const result = await remove({ variables: { datasetId, imageIds: [id] } }).catch(() => null);
    // The row and its button are gone: focus goes back to the dataset's heading.
    if (result?.data) heading.current?.focus();
  };
  const deleteDataset = async () => {
    if (!window.confirm(`Delete the dataset “${name}” and its ${images.length} images? Runs trained on it keep their LoRAs.`)) return;
    const result = await destroy({ variables: { id: datasetId } }).catch(() => null);
    if (result?.data?.deleteDataset) onDeleted?.();
  };
  return (
    <section className="card stack" aria-labelledby="dataset-title">
      <div className="page-head">
        <h2 id="dataset-title" className="h3" ref={heading} tabIndex={-1}>{name} <span className="muted small">{images.length} images</span></h2>
        {mine && (
          <button type="button" className="button ghost small" disabled={destroyState.loading} onClick={() => void deleteDataset()}>
            Delete dataset
          </button>
        )}
      </div>
      <ChangeError error={destroyState.error} datasetName={name} />
      <div className={`dropzone${over ? ' over' : ''}`} data-testid="dropzone" onDragOver={(e) => { e.preventDefault(); setOver(true); }}
        onDragLeave={() => setOver(false)} onDrop={onDrop}>
        <p>Drop PNG, JPEG or WebP images here, or <label className="link">choose files
          <input type="file" accept="image/png,image/jpeg,image/webp" multiple className="sr-only" aria-label="Choose images"
            onChange={(e) => void send([...(e.target.files ?? [])])} /></label>.</p>
      </div>
      {uploads.length > 0 && (
        <ul className="stack" aria-label="Uploads">
          {uploads.map((u) => (
            <li key={u.key}>
              <span className="small">{u.name}</span> <ProgressBar value={u.progress} label={`Uploading ${u.name}`} />
              {u.error && <p className="notice error">{u.error}</p>}
            </li>
          ))}
        </ul>
      )}
      <ChangeError error={addState.error ?? removeState.error} datasetName={name} />
      <ErrorNotice error={dataset.error} />
      <ul className="dataset-images" aria-label="Images">
        {images.map((image, i) => (
          <li key={image.id} className="card row">
            <img src={image.url} alt={image.caption || `Image ${i + 1}`} width={64} height={64} className="thumb" />
            <div><CaptionField id={image.id} caption={image.caption} label={`Caption of image ${i + 1}`} datasetName={name} /></div>
            {mine && (
              <button type="button" className="button ghost small" disabled={removeState.loading} onClick={() => void removeImage(image.id, `image ${i + 1}`)}>
                Remove<span className="sr-only"> image {i + 1}</span>
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
