import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { useLocation, useSearchParams } from 'react-router';
import { FormField, placeError } from '../components/FormField';
import { JobCard } from '../components/JobCard';
import { ErrorNotice } from '../components/Notice';
import type { VideoInput } from '../gql/graphql';
import { explainError } from '../lib/errors';
import { JobQuery, UsageQuery } from '../operations/jobs';
import { CreateVideoMutation, VideoPresetsQuery } from '../operations/videos';

/** What an image card hands over with "Animate": enough to show the image being animated. */
export interface AnimateImageState { image: { id: string; url: string; prompt: string; seed: number } }

const FIELDS = ['prompt', 'durationSeconds', 'fps', 'presetId'] as const;

/**
 * Text-to-video with the VIDEO presets (or a custom length and rate), and
 * image-to-video when arriving from an image's "Animate" (`?from=<image id>`).
 * The job then shows frame progress with previews, and plays inline.
 */
export function VideoPage() {
  const [params] = useSearchParams();
  const location = useLocation();
  const fromImageId = params.get('from');
  const source = (location.state as AnimateImageState | null)?.image;
  const presets = useQuery(VideoPresetsQuery);
  const usage = useQuery(UsageQuery);
  const [create, createState] = useMutation(CreateVideoMutation, { refetchQueries: ['Usage', 'Jobs'] });
  const [prompt, setPrompt] = useState('');
  const [presetId, setPresetId] = useState('');
  const [duration, setDuration] = useState('2');
  const [fps, setFps] = useState('12');
  const [jobId, setJobId] = useState<string | null>(null);
  const job = useQuery(JobQuery, { variables: { id: jobId ?? '' }, skip: !jobId });
  const list = presets.data?.presets ?? [];
  const chosen = list.find((p) => p.id === presetId);
  const problem = explainError(createState.error);
  const { fieldErrors, formError } = placeError(problem, FIELDS);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const input: VideoInput = {
      prompt: prompt.trim() || null,
      fromImageId,
      presetId: presetId || null,
      durationSeconds: presetId ? null : Number(duration),
      fps: presetId ? null : Number(fps),
    };
    try {
      const result = await create({ variables: { input, idempotencyKey: crypto.randomUUID() } });
      if (result.data) setJobId(result.data.createVideo.id);
    } catch {
      // Explained from createState.error.
    }
  };

  const limits = usage.data?.usage.limits;
  return (
    <div className="generate-layout">
      <section className="card" aria-labelledby="video-title">
        <h1 id="video-title">{fromImageId ? 'Animate an image' : 'Video'}</h1>
        {fromImageId && (
          <figure className="source-image">
            {source && <img src={source.url} alt={`The image to animate: ${source.prompt} (seed ${source.seed})`} width={128} />}
            <figcaption className="muted small">The clip starts from this image: its prompt, seed and settings.</figcaption>
          </figure>
        )}
        <form onSubmit={(e) => void submit(e)} noValidate>
          <FormField id="prompt" label={fromImageId ? 'Move toward (optional)' : 'Prompt'} error={fieldErrors.prompt}
            hint={fromImageId ? 'Leave empty to keep the image\'s prompt.' : undefined}>
            <textarea id="prompt" value={prompt} onChange={(e) => setPrompt(e.target.value)} rows={3} />
          </FormField>
          <fieldset className="field choices">
            <legend>Style</legend>
            <label className="check">
              <input type="radio" name="preset" value="" checked={presetId === ''} onChange={() => setPresetId('')} /> Custom
            </label>
            {list.map((p) => (
              <label key={p.id} className="check">
                <input type="radio" name="preset" value={p.id} checked={presetId === p.id} onChange={() => setPresetId(p.id)} />
                {' '}{p.name} <span className="muted small">({p.durationSeconds} s at {p.fps} fps)</span>
              </label>
            ))}
            {fieldErrors.presetId && <p className="field-error" role="status">{fieldErrors.presetId}</p>}
          </fieldset>
          {!chosen && (
            <div className="row">
              <FormField id="durationSeconds" label="Seconds" error={fieldErrors.durationSeconds}
                hint={limits ? `Up to ${limits.maxVideoSeconds} s on your tier` : undefined}>
                <input id="durationSeconds" type="number" min={0.5} step={0.5} value={duration} onChange={(e) => setDuration(e.target.value)} />
              </FormField>
              <FormField id="fps" label="Frames per second" error={fieldErrors.fps}
                hint={limits ? `Up to ${limits.maxVideoFps} on your tier` : undefined}>
                <input id="fps" type="number" min={1} step={1} value={fps} onChange={(e) => setFps(e.target.value)} />
              </FormField>
            </div>
          )}
          <button type="submit" className="button" disabled={createState.loading}>{fromImageId ? 'Animate' : 'Make video'}</button>
        </form>
        {formError && <div className="notice error" role="alert">{formError}</div>}
        <ErrorNotice error={presets.error} />
      </section>
      <div className="side">
        {usage.data && (
          <p className="muted small">
            {usage.data.usage.videoSecondsToday} s of video today
            {limits?.videoSecondsPerDay != null ? ` of ${limits.videoSecondsPerDay} s` : ' (unlimited)'}
          </p>
        )}
        {job.data?.job && (
          <section aria-labelledby="current-video-title">
            <h2 id="current-video-title" className="h3">Current video</h2>
            <JobCard job={job.data.job} />
          </section>
        )}
      </div>
    </div>
  );
}
