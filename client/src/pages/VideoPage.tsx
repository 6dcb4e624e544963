import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { useLocation, useSearchParams } from 'react-router';
import { describedBy, focusField, FormField, placeError, type FieldLabels } from '../components/FormField';
import { JobCard } from '../components/JobCard';
import { ErrorNotice } from '../components/Notice';
import type { VideoInput } from '../gql/graphql';
import { explainError } from '../lib/errors';
import { fits, VIDEO_LIMITS, type NumberLimit } from '../lib/limits';
import { JobQuery, UsageQuery } from '../operations/jobs';
import { CreateVideoMutation, VideoPresetsQuery } from '../operations/videos';

/** What an image card hands over with "Animate": enough to show the image being animated. */
export interface AnimateImageState { image: { id: string; url: string; prompt: string; seed: number } }

const FIELDS = ['prompt', 'durationSeconds', 'fps', 'presetId'] as const;
type ClipField = 'durationSeconds' | 'fps';
const CLIP_FIELDS: readonly ClipField[] = ['durationSeconds', 'fps'];
const CLIP_LABELS: Record<ClipField, string> = { durationSeconds: 'Seconds', fps: 'Frames per second' };

/** What a clip field may be: the hard limit, narrowed to the tier's maximum once that is known (`onTier`: the tier's is the lower). */
function clipLimit(field: ClipField, tierMax: number | undefined): { limit: NumberLimit; onTier: boolean } {
  const hard = VIDEO_LIMITS[field];
  if (tierMax == null || tierMax >= hard.max) return { limit: hard, onTier: false };
  return { limit: { ...hard, max: tierMax }, onTier: true };
}

/** The message under a clip field whose value does not fit, in the field's words: `Seconds must be from 0.5 to 15 on your tier.` */
function checkClip(value: string, label: string, { limit, onTier }: ReturnType<typeof clipLimit>): string | null {
  if (value.trim() !== '' && fits(Number(value), limit)) return null;
  return `${label} must be ${limit.integer ? 'a whole number from' : 'from'} ${limit.min} to ${limit.max}${onTier ? ' on your tier' : ''}.`;
}

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
  const limits = usage.data?.usage.limits;
  const clip: Record<ClipField, ReturnType<typeof clipLimit>> = {
    durationSeconds: clipLimit('durationSeconds', limits?.maxVideoSeconds), fps: clipLimit('fps', limits?.maxVideoFps),
  };
  // A server message under a field names it as its label does, not by the API's identifier.
  const labels: FieldLabels = {
    prompt: fromImageId ? 'The prompt to move toward' : 'Prompt', ...CLIP_LABELS, presetId: 'Style',
  };
  // What the page found wrong before sending (the length and rate against the tier), else what the server refused.
  const [checked, setChecked] = useState<Partial<Record<ClipField, string>>>({});
  const problem = explainError(createState.error);
  const placed = placeError(problem, FIELDS, { labels });
  const { fieldErrors, formError }: { fieldErrors: Partial<Record<string, string>>; formError: string | null } =
    Object.keys(checked).length > 0 ? { fieldErrors: checked, formError: null } : placed;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!presetId) {
      const values: Record<ClipField, string> = { durationSeconds: duration, fps };
      const problems: Partial<Record<ClipField, string>> = {};
      for (const field of CLIP_FIELDS) {
        const message = checkClip(values[field], CLIP_LABELS[field], clip[field]);
        if (message) problems[field] = message;
      }
      setChecked(problems);
      const first = CLIP_FIELDS.find((field) => problems[field]);
      if (first) {
        createState.reset();
        focusField(first);
        return;
      }
    } else {
      setChecked({});
    }
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

  const wired = (field: (typeof FIELDS)[number], hint?: string) => ({
    id: field, 'aria-invalid': Boolean(fieldErrors[field]), 'aria-describedby': describedBy(field, hint, fieldErrors[field]),
  });
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
            <textarea {...wired('prompt', fromImageId ? 'hint' : undefined)} value={prompt} onChange={(e) => setPrompt(e.target.value)} rows={3} />
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
              <FormField id="durationSeconds" label={CLIP_LABELS.durationSeconds} error={fieldErrors.durationSeconds}
                hint={limits ? `Up to ${limits.maxVideoSeconds} s on your tier` : undefined}>
                <input {...wired('durationSeconds', limits ? 'hint' : undefined)} type="number" min={clip.durationSeconds.limit.min}
                  max={clip.durationSeconds.limit.max} step={0.5} value={duration} onChange={(e) => setDuration(e.target.value)} />
              </FormField>
              <FormField id="fps" label={CLIP_LABELS.fps} error={fieldErrors.fps}
                hint={limits ? `Up to ${limits.maxVideoFps} on your tier` : undefined}>
                <input {...wired('fps', limits ? 'hint' : undefined)} type="number" min={clip.fps.limit.min} max={clip.fps.limit.max}
                  step={1} value={fps} onChange={(e) => setFps(e.target.value)} />
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
