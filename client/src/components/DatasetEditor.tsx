import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type DragEvent } from 'react';
import { ErrorNotice } from './Notice';
import { ProgressBar } from './ProgressBar';
import { useAuth } from '../lib/auth';
import { uploadFile } from '../lib/upload';
import { AddDatasetImagesMutation, DatasetQuery, UpdateDatasetImageMutation } from '../operations/training';

interface FileUpload {
  key: string;
  name: string;
  progress: number;
  error: string | null;
}

/** A caption edited in place; saved when the field loses focus. */
function CaptionField({ id, caption, label }: { id: string; caption: string; label: string }) {
  const [text, setText] = useState(caption);
  const [save, state] = useMutation(UpdateDatasetImageMutation);
  return (
    <>
      <input aria-label={label} value={text} onChange={(e) => setText(e.target.value)}
        onBlur={() => { if (text !== caption) void save({ variables: { id, caption: text } }).catch(() => undefined); }} />
      <ErrorNotice error={state.error} />
    </>
  );
}

/**
 * A dataset's images: drop files (or choose them), each uploads with its own
 * progress bar and is added with its file name as the first caption; the
 * server checks every image by content and says which one it refused.
 */
export function DatasetEditor({ datasetId }: { datasetId: string }) {
  const { token } = useAuth();
  const dataset = useQuery(DatasetQuery, { variables: { id: datasetId } });
  const [add, addState] = useMutation(AddDatasetImagesMutation, { refetchQueries: ['Dataset'] });
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
  return (
    <section className="card stack" aria-labelledby="dataset-title">
      <h2 id="dataset-title" className="h3">{dataset.data?.dataset.name ?? 'Dataset'} <span className="muted small">{images.length} images</span></h2>
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
      <ErrorNotice error={addState.error ?? dataset.error} />
      <ul className="dataset-images" aria-label="Images">
        {images.map((image, i) => (
          <li key={image.id} className="card row">
            <img src={image.url} alt={image.caption || `Image ${i + 1}`} width={64} height={64} className="thumb" />
            <div><CaptionField id={image.id} caption={image.caption} label={`Caption of image ${i + 1}`} /></div>
          </li>
        ))}
      </ul>
    </section>
  );
}
