import { useMutation, useQuery } from '@apollo/client/react';
import { useRef, useState, type DragEvent } from 'react';
import { Link } from 'react-router';
import { ErrorNotice } from './Notice';
import { ProgressBar } from './ProgressBar';
import { useAuth } from '../lib/auth';
import { explainError, SESSION_ENDED } from '../lib/errors';
import { uploadFile, withdrawUpload } from '../lib/upload';
import { AddDatasetImagesMutation, CancelTrainingMutation, DatasetQuery, TrainingRunQuery, DeleteDatasetMutation, RemoveDatasetImagesMutation, UpdateDatasetImageMutation } from '../operations/training';

interface FileUpload {
  key: string;
  name: string;
  progress: number;
  /** The file could not be uploaded: nothing was sent to add. */
  error: string | null;
  /**
   * The upload, once received, and the caption it is added with: kept until
   * the image is in the dataset, so one refused by `addDatasetImages` can be
   * added again without sending the file again (unused uploads last a day),
   * or withdrawn by Discard (DELETE /uploads/:id) to free the allowance.
   */
  upload: { uploadId: string; caption: string } | null;
  /** Why `addDatasetImages` refused it; null while adding and once added. */
  notAdded: string | null;
  /** Sending its kept upload again can help; false when the file itself was refused, or its upload expired. */
  retry: boolean;
  /** Its upload is being withdrawn (Discard). */
  discarding: boolean;
  /** Why withdrawing its upload failed: the row stays, Discard can be pressed again. */
  discardError: string | null;
  /** In the dataset. */
  added: boolean;
}

/** An image the server names in a refusal: `images[2].uploadId` → 2. */
const refusedIndex = (field: string | undefined): number | null => {
  const match = field ? /^images\[(\d+)\]/.exec(field) : null;
  return match ? Number(match[1]) : null;
};

/**
 * Why each image of a refused `addDatasetImages` was not added: the refusal
 * of one image (`images[i]…`) is that image's, the others were refused with
 * it (a call adds all or none) and can be sent again. `retry` false:
 * sending it again cannot help (the file itself was refused, or its upload
 * expired).
 */
function refusalOf(error: unknown, names: string[], datasetName: string): { reason: string; retry: boolean }[] {
  const explained = explainError(error);
  const message = explained?.message ?? 'The images could not be added.';
  if (explained?.code === 'CONFLICT') {
    return names.map(() => ({ reason: `“${datasetName}” is in use by a training run, which locks its images until it ends; then press Add again.`, retry: true }));
  }
  const index = refusedIndex(explained?.field);
  if (index === null || index >= names.length) return names.map(() => ({ reason: message, retry: true }));
  const expired = /^Upload not found/.test(message);
  return names.map((_, i) => (i === index
    ? { reason: expired ? 'The upload has expired; drop the file again.' : message, retry: false }
    : { reason: `It was sent with ${names[index]}, which was refused, and images are added together.`, retry: true }));
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
 * server checks every image by content and says which one it refused. Rows
 * of a refused add say "Not added" and why, and keep their uploads: "Add
 * again" sends them once more (after a run that locked the dataset ended);
 * "Discard" withdraws them from the server (freeing the tier's pending-upload
 * allowance at once) and removes the rows. Deleting the dataset withdraws
 * them too.
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
  const name = dataset.data?.dataset.name ?? 'Dataset';

  /** Adds uploaded files in one call; a refusal is written on each of their rows, with the upload kept for "Add again". */
  const addUploads = async (rows: { key: string; name: string; upload: { uploadId: string; caption: string } }[]) => {
    if (rows.length === 0) return;
    const keys = new Set(rows.map((r) => r.key));
    setUploads((list) => list.map((u) => (keys.has(u.key) ? { ...u, notAdded: null, discardError: null } : u)));
    try {
      await add({ variables: { datasetId, images: rows.map((r) => r.upload) } });
      setUploads((list) => list.map((u) => (keys.has(u.key) ? { ...u, upload: null, notAdded: null, added: true } : u)));
    } catch (error) {
      const refusals = new Map(refusalOf(error, rows.map((r) => r.name), name).map((refusal, i) => [rows[i].key, refusal]));
      setUploads((list) => list.map((u) => {
        const refusal = refusals.get(u.key);
        // The upload is kept either way: to add again, or for Discard to withdraw it.
        return refusal ? { ...u, notAdded: refusal.reason, retry: refusal.retry } : u;
      }));
    }
  };

  const send = async (files: File[]) => {
    if (!token || files.length === 0) return;
    const entries = files.map((file, i) => ({ file, key: `${Date.now()}-${i}-${file.name}` }));
    setUploads((list) => [...list, ...entries.map(({ file, key }): FileUpload => ({
      key, name: file.name, progress: 0, error: null, upload: null, notAdded: null, retry: true, discarding: false, discardError: null, added: false,
    }))]);
    const received = await Promise.all(entries.map(async ({ file, key }) => {
      try {
        const receipt = await uploadFile(file, token, (progress) => update(key, { progress }));
        const upload = { uploadId: receipt.uploadId, caption: file.name.replace(/\.[^.]+$/, '').replace(/[-_]+/g, ' ') };
        update(key, { upload });
        return { key, name: file.name, upload };
      } catch (error) {
        update(key, { error: (error as Error).message });
        return null;
      }
    }));
    await addUploads(received.filter((r) => r !== null));
  };
  // Refused with an upload still usable: sent again together, without the files.
  const retryable = uploads.filter((u) => u.notAdded && u.upload && u.retry && !u.discarding);
  const addAgain = () => void addUploads(retryable.flatMap((u) => (u.upload ? [{ key: u.key, name: u.name, upload: u.upload }] : [])));
  const notAdded = uploads.filter((u) => u.notAdded);

  /**
   * Discard: withdraws the kept uploads of not-added rows (DELETE /uploads/:id,
   * with the token POST /uploads used; a 404 means gone already) and removes
   * the rows. A row whose upload could not be withdrawn stays, saying why.
   */
  const discard = async (rows: FileUpload[]) => {
    const keys = new Set(rows.map((r) => r.key));
    if (keys.size === 0) return;
    setUploads((list) => list.map((u) => (keys.has(u.key) ? { ...u, discarding: true, discardError: null } : u)));
    const failures = new Map<string, string>();
    await Promise.all(rows.map(async (row) => {
      if (!row.upload) return;
      try {
        if (!token) throw new Error(SESSION_ENDED);
        await withdrawUpload(row.upload.uploadId, token);
      } catch (error) {
        failures.set(row.key, (error as Error).message);
      }
    }));
    // The pressed button goes with its row: focus goes back to the dataset's heading, as after Remove.
    const active = document.activeElement;
    const inRow = active?.closest<HTMLElement>('[data-upload-key]')?.dataset.uploadKey;
    const focusGoes = !active || active === document.body || (inRow !== undefined && keys.has(inRow)) || active.hasAttribute('data-discard-all');
    setUploads((list) => list.flatMap((u) => {
      if (!keys.has(u.key)) return [u];
      const failure = failures.get(u.key);
      return failure ? [{ ...u, discarding: false, discardError: failure }] : [];
    }));
    if (focusGoes && failures.size < keys.size) heading.current?.focus();
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    void send([...event.dataTransfer.files]);
  };

  const images = dataset.data?.dataset.images ?? [];
  const mine = dataset.data?.dataset.mine ?? false;
  const removeImage = async (id: string, label: string) => {
    if (!window.confirm(`Remove ${label} from “${name}”? Its file is deleted; runs already trained keep their LoRAs.`)) return;
    const result = await remove({ variables: { datasetId, imageIds: [id] } }).catch(() => null);
    // The row and its button are gone: focus goes back to the dataset's heading.
    if (result?.data) heading.current?.focus();
  };
  const deleteDataset = async () => {
    const kept = notAdded.flatMap((u) => (u.upload ? [u.upload.uploadId] : []));
    const alsoKept = kept.length === 0 ? '' : kept.length === 1 ? ' The file not added is discarded too.' : ` The ${kept.length} files not added are discarded too.`;
    if (!window.confirm(`Delete the dataset “${name}” and its ${images.length} images? Runs trained on it keep their LoRAs.${alsoKept}`)) return;
    const result = await destroy({ variables: { id: datasetId } }).catch(() => null);
    if (!result?.data?.deleteDataset) return;
    // The not-added rows go with this editor, and their uploads could no longer be added anywhere: withdrawn, not left holding the allowance for a day.
    if (token) for (const uploadId of kept) void withdrawUpload(uploadId, token).catch(() => undefined);
    onDeleted?.();
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
            <li key={u.key} data-upload-key={u.key} data-upload-state={u.added ? 'added' : u.notAdded ? 'not-added' : u.error ? 'failed' : 'pending'}>
              <span className="small">{u.name}</span>{u.added && <span className="small muted"> · added</span>}{' '}
              <ProgressBar value={u.progress} label={`Uploading ${u.name}`} />
              {u.error && <p className="notice error">{u.error}</p>}
              {u.notAdded && <p className="notice error"><strong>Not added: </strong>{u.notAdded}</p>}
              {u.discardError && <p className="notice error" role="alert"><strong>Not discarded: </strong>{u.discardError}</p>}
              {u.notAdded && (
                <button type="button" className="button ghost small" disabled={u.discarding} onClick={() => void discard([u])}>
                  Discard<span className="sr-only"> {u.name}</span>
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {notAdded.length > 0 && (
        <div className="actions">
          {retryable.length > 0 && (
            <button type="button" className="button small" disabled={addState.loading} onClick={addAgain}>
              Add again<span className="muted"> ({retryable.length === 1 ? retryable[0].name : `${retryable.length} images`})</span>
            </button>
          )}
          {notAdded.length > 1 && (
            <button type="button" className="button ghost small" data-discard-all="" disabled={notAdded.every((u) => u.discarding)}
              onClick={() => void discard(notAdded.filter((u) => !u.discarding))}>
              Discard all<span className="muted"> ({notAdded.length} images)</span>
            </button>
          )}
          <span className="muted small">
            {retryable.length > 0 && 'The files are kept on the server for a day; no need to drop them again. '}
            Discard deletes them from the server, freeing your pending-upload allowance at once.
          </span>
        </div>
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
