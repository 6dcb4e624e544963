import { useMutation, useQuery } from '@apollo/client/react';
import { useState } from 'react';
import { useLocation, useSearchParams } from 'react-router';
import { GenerateForm } from '../components/GenerateForm';
import { JobCard } from '../components/JobCard';
import { explainQuota, explainWait, FIELD_IDS } from '../components/LimitHints';
import { EmptyState, ErrorNotice } from '../components/Notice';
import { DEFAULT_SETTINGS, type GenerationSettings } from '../components/settings';
import { UsageSummary } from '../components/UsageSummary';
import type { GenerationInput } from '../gql/graphql';
import { explainError, type ExplainedError } from '../lib/errors';
import { CreateGenerationMutation, JobsQuery, ModelsQuery, UsageQuery } from '../operations/jobs';
import { SessionsQuery } from '../operations/sessions';

/** How often the model list (and whether a backend is down) is refreshed. */
const MODELS_POLL_MS = 10_000;

function toInput(s: GenerationSettings): GenerationInput {
  return {
    // Autocomplete leaves a trailing comma for the next phrase; it means nothing to the model.
    prompt: s.prompt.trim().replace(/,$/, ''),
    negativePrompt: s.negativePrompt.trim() || null,
    width: s.width,
    height: s.height,
    steps: s.steps,
    guidanceScale: s.guidanceScale,
    seed: s.seed === '' ? null : Number(s.seed),
    count: s.count,
    modelId: s.modelId || null,
    sessionId: s.sessionId || null,
    presetId: s.presetId || null,
    loras: s.loras.length ? s.loras : null,
    sampler: s.sampler || null,
  };
}

/** The form field a refusal belongs to; undefined for one about the whole request. */
const fieldOf = (problem: ExplainedError | null) => (problem?.field && FIELD_IDS[problem.field] ? problem.field : undefined);

/**
 * A refusal for too many open jobs (the tier's maxOpenJobs as its limit, on no field):
 * stale as soon as one of them ends.
 */
const isOpenJobsRefusal = (problem: ExplainedError | null, maxOpenJobs: number | undefined) =>
  problem?.code === 'QUOTA_EXCEEDED' && !problem.field && problem.limit != null && problem.limit === maxOpenJobs;

/** The generator: the form with the tier's limits, the job just started, and recent jobs, all live. */
export function GeneratePage() {
  const location = useLocation();
  const [params] = useSearchParams();
  const state = location.state as { settings?: GenerationSettings; note?: string | null } | null;
  const initial: GenerationSettings = state?.settings ?? { ...DEFAULT_SETTINGS, sessionId: params.get('session') ?? '' };
  const usage = useQuery(UsageQuery);
  // Polled so "waiting for <backend>" appears and clears without a reload.
  const models = useQuery(ModelsQuery, { pollInterval: MODELS_POLL_MS });
  const sessions = useQuery(SessionsQuery);
  const recent = useQuery(JobsQuery, { variables: { first: 6 } });
  const [create, createState] = useMutation(CreateGenerationMutation, { refetchQueries: ['Usage', 'Jobs'] });
  const [currentId, setCurrentId] = useState<string | null>(null);
  // The last refusal, until the field it names (or, for one about the whole request, any field) changes.
  const [problem, setProblem] = useState<ExplainedError | null>(null);
  const limits = usage.data?.usage.limits;
  const openJobs = usage.data?.usage.openJobs;
  // A job ended (the usage is refetched then): a refusal for too many open jobs no longer holds.
  const [seenOpenJobs, setSeenOpenJobs] = useState(openJobs);
  if (openJobs !== seenOpenJobs) {
    setSeenOpenJobs(openJobs);
    if (openJobs != null && seenOpenJobs != null && openJobs < seenOpenJobs && isOpenJobsRefusal(problem, limits?.maxOpenJobs)) setProblem(null);
  }

  const serverErrors: Record<string, string> = {};
  let formMessage: string | null = null;
  if (problem) {
    const text = problem.code === 'QUOTA_EXCEEDED' ? explainQuota(problem, limits)
      : problem.code === 'RATE_LIMITED' ? explainWait(problem) : problem.message;
    // Shown once: under its field, or in the box below the form.
    const field = fieldOf(problem);
    if (field) serverErrors[field] = text;
    else formMessage = text;
  }

  const edited = (fields: string[]) => {
    if (!problem) return;
    const field = fieldOf(problem);
    if (!field || fields.includes(field)) setProblem(null);
  };

  const submit = async (settings: GenerationSettings) => {
    setProblem(null);
    try {
      const result = await create({ variables: { input: toInput(settings), idempotencyKey: crypto.randomUUID() } });
      if (result.data) setCurrentId(result.data.createGeneration.id);
    } catch (error) {
      setProblem(explainError(error));
      // Who else holds a slot (another tab, the API) shows in the count the refusal is measured against.
      void usage.refetch().catch(() => undefined);
    }
  };

  const jobs = recent.data?.jobs.edges.map((e) => e.node) ?? [];
  const current = jobs.find((j) => j.id === currentId) ?? (createState.data?.createGeneration.id === currentId ? createState.data?.createGeneration : undefined);
  const others = jobs.filter((j) => j.id !== currentId);
  return (
    <div className="generate-layout">
      <section className="card" aria-labelledby="generate-title">
        <h1 id="generate-title">Generate</h1>
        <GenerateForm
          key={location.key}
          initial={initial}
          limits={limits}
          models={models.data?.models ?? []}
          sessions={sessions.data?.sessions ?? []}
          busy={createState.loading}
          serverErrors={serverErrors}
          note={state?.note}
          onEdit={edited}
          onSubmit={submit}
        />
        {formMessage && (
          <div className="notice error" role="alert" id="generate-error">
            <strong>{problem?.code === 'QUOTA_EXCEEDED' ? 'Over your limit: ' : 'Could not start: '}</strong>{formMessage}
          </div>
        )}
      </section>
      <div className="side">
        <UsageSummary usage={usage.data?.usage} />
        {current && (
          <section aria-labelledby="current-title">
            <h2 id="current-title" className="h3">Current job</h2>
            <JobCard job={current} />
          </section>
        )}
        <section aria-labelledby="recent-title">
          <h2 id="recent-title" className="h3">Recent</h2>
          <ErrorNotice error={recent.error} />
          {recent.data && others.length === 0 && !current && (
            <EmptyState title="No images yet">Describe something above and press Generate; you will watch it form step by step.</EmptyState>
          )}
          <div className="job-list">
            {others.map((job) => <JobCard key={job.id} job={job} showOwner={false} />)}
          </div>
        </section>
      </div>
    </div>
  );
}
