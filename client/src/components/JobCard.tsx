import { useMutation } from '@apollo/client/react';
import { Link, useNavigate } from 'react-router';
import type { JobFieldsFragment } from '../gql/graphql';
import { useAuth } from '../lib/auth';
import { BACKEND_LABELS } from '../lib/backends';
import { formatEta, personName, relativeTime } from '../lib/format';
import { FINAL_STATUSES, useLiveJob } from '../lib/useLiveJob';
import { CancelJobMutation, RetryJobMutation } from '../operations/jobs';
import { AddToAlbum, AnimateLink, FavoriteButton } from './ImageActions';
import { explainError } from '../lib/errors';
import { ErrorNotice } from './Notice';
import { ProgressBar } from './ProgressBar';
import { settingsOf } from './settings';

const STATUS_LABEL: Record<string, string> = {
  PENDING: 'Queued',
  PROCESSING: 'Generating',
  COMPLETED: 'Done',
  FAILED: 'Failed',
  CANCELLED: 'Cancelled',
};

/**
 * One job, live: queue position and ETA while pending, a per-step progress
 * bar with latent previews while running, cancel; then the images with their
 * parameters and "use these settings again".
 */
export function JobCard({ job, showOwner = false }: { job: JobFieldsFragment; showOwner?: boolean }) {
  const { viewer } = useAuth();
  const navigate = useNavigate();
  const { preview, stopped } = useLiveJob(job);
  const streamEnded = explainError(stopped);
  // The server ended the job's stream with FORBIDDEN (the viewer is no longer in its session) or, when the stream
  // was started again (say, after the socket dropped), NOT_FOUND for the job shown: either way what is shown is stale.
  const lostAccess = streamEnded?.code === 'FORBIDDEN' || streamEnded?.code === 'NOT_FOUND';
  const [cancel, cancelState] = useMutation(CancelJobMutation);
  const [retry, retryState] = useMutation(RetryJobMutation);
  const mine = viewer?.id === job.owner.id;
  const final = FINAL_STATUSES.has(job.status);
  const title = job.prompt.length > 80 ? `${job.prompt.slice(0, 80)}…` : job.prompt;
  const video = job.kind === 'VIDEO';
  return (
    <article className={`job-card status-${job.status.toLowerCase()}`} aria-label={`Job: ${title}`} data-job-id={job.id}>
      <header className="job-head">
        <span className={`badge status-${job.status.toLowerCase()}`}>{lostAccess ? 'No longer shared' : STATUS_LABEL[job.status]}</span>
        {showOwner && <span className="muted">{personName(job.owner)}</span>}
        <Link className="muted small" to={`/jobs/${job.id}`}>{relativeTime(job.createdAt)}</Link>
      </header>
      <p className="job-prompt">{job.prompt}</p>
      {streamEnded && (
        <div className="notice error" role="alert">
          <strong>Live updates stopped: </strong>
          {streamEnded.code === 'FORBIDDEN' ? 'you no longer have access to this job (you are no longer a member of its session).'
            : lostAccess ? 'you no longer have access to this job (it is no longer shared with you, or was deleted).' : streamEnded.message}
        </div>
      )}
      {job.status === 'PENDING' && !lostAccess && (
        <p className="muted" aria-live="polite">
          {job.queuePosition === 0 || job.queuePosition == null ? 'Next in the queue' : `Position ${job.queuePosition + 1} in the queue`}
          {job.etaSeconds != null && ` · about ${formatEta(job.etaSeconds)}`}
          {job.waitingFor && ` · waiting for ${BACKEND_LABELS[job.waitingFor]} (its servers are not answering)`}
        </p>
      )}
      {!final && !lostAccess && (
        <div className="job-live">
          <ProgressBar value={job.progress} label={`Progress of “${title}”`} />
          <p className="muted small" aria-live="off">
            {video ? 'Frame' : 'Step'} {job.step} of {job.totalSteps}
            {job.status === 'PROCESSING' && job.etaSeconds != null && ` · ${formatEta(job.etaSeconds)} left`}
          </p>
          {preview && <img className="preview" src={preview} alt={video ? `Preview of frame ${job.step}` : 'Latent preview of the image being generated'} />}
        </div>
      )}
      {job.status === 'COMPLETED' && job.images.length > 0 && (
        <div className="job-images">
          {[...job.images].sort((a, b) => a.index - b.index).map((image) => (
            <figure key={image.id} className="job-image">
              <a href={image.url} target="_blank" rel="noreferrer" className="thumb">
                <img src={image.url} alt={`Generated image ${image.index + 1}: ${title} (seed ${image.seed})`} width={image.width} height={image.height} loading="lazy" />
              </a>
              <figcaption>
                <FavoriteButton imageId={image.id} favorited={image.favorited} label={`image ${image.index + 1} of “${title}”`} />
                <AnimateLink image={{ id: image.id, url: image.url, seed: image.seed, prompt: job.prompt }} label={`image ${image.index + 1} of “${title}”`} />
              </figcaption>
            </figure>
          ))}
        </div>
      )}
      {job.status === 'COMPLETED' && job.video && (
        <figure className="job-video">
          <video src={job.video.url} poster={job.video.posterUrl} width={job.video.width} height={job.video.height}
            controls muted autoPlay loop playsInline preload="auto" aria-label={`Video: ${title}`} />
          <figcaption className="muted small">
            {job.video.durationSeconds} s · {job.video.fps} fps · {job.video.frames} frames · <a href={job.video.url} download>Download MP4</a>
          </figcaption>
        </figure>
      )}
      {job.status === 'COMPLETED' && mine && job.images.length > 0 && <AddToAlbum imageIds={job.images.map((i) => i.id)} />}
      {job.status === 'FAILED' && job.error && (
        <div className="notice error" role="alert">{job.error.message} <span className="muted">({job.error.code})</span></div>
      )}
      <dl className="params">
        <div><dt>Size</dt><dd>{job.width} × {job.height}</dd></div>
        <div><dt>Steps</dt><dd>{job.steps}</dd></div>
        <div><dt>Guidance</dt><dd>{job.guidanceScale}</dd></div>
        <div><dt>Seed</dt><dd>{job.seed}</dd></div>
        {job.count > 1 && <div><dt>Images</dt><dd>{job.count}</dd></div>}
        {video && <div><dt>Clip</dt><dd>{job.videoFrames} frames at {job.videoFps} fps</dd></div>}
        {job.model && <div><dt>Model</dt><dd>{job.model.name}</dd></div>}
        {job.loras.length > 0 && <div><dt>LoRAs</dt><dd>{job.loras.map((l) => `${l.lora?.name ?? 'LoRA'} ×${l.weight}`).join(', ')}</dd></div>}
      </dl>
      <div className="actions">
        {mine && !final && !lostAccess && (
          <button type="button" className="button ghost small" disabled={cancelState.loading} onClick={() => void cancel({ variables: { id: job.id } }).catch(() => undefined)}>
            Cancel
          </button>
        )}
        {mine && (job.status === 'FAILED' || job.status === 'CANCELLED') && (
          <button type="button" className="button ghost small" disabled={retryState.loading} onClick={() => void retry({ variables: { id: job.id } }).then((r) => r.data && navigate(`/jobs/${r.data.retryJob.id}`)).catch(() => undefined)}>
            Retry
          </button>
        )}
        {final && !video && (
          <button type="button" className="button ghost small" onClick={() => navigate('/', { state: { settings: settingsOf(job) } })}>
            Use these settings again
          </button>
        )}
      </div>
      <ErrorNotice error={cancelState.error ?? retryState.error} />
    </article>
  );
}
