import { useMutation, useQuery } from '@apollo/client/react';
import { useState } from 'react';
import { useLocation, useSearchParams } from 'react-router';
import { GenerateForm } from '../components/GenerateForm';
import { JobCard } from '../components/JobCard';
import { explainQuota, FIELD_IDS } from '../components/LimitHints';
import { EmptyState, ErrorNotice } from '../components/Notice';
import { DEFAULT_SETTINGS, type GenerationSettings } from '../components/settings';
import { UsageSummary } from '../components/UsageSummary';
import type { GenerationInput } from '../gql/graphql';
import { explainError } from '../lib/errors';
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

/** The generator: the form with the tier's limits, the job just started, and recent jobs, all live. */
export function GeneratePage() {
  const location = useLocation();
  const [params] = useSearchParams();
  const carried = (location.state as { settings?: GenerationSettings } | null)?.settings;
  const initial: GenerationSettings = carried ?? { ...DEFAULT_SETTINGS, sessionId: params.get('session') ?? '' };
  const usage = useQuery(UsageQuery);
  // Polled so "waiting for <backend>" appears and clears without a reload.
  const models = useQuery(ModelsQuery, { pollInterval: MODELS_POLL_MS });
  const sessions = useQuery(SessionsQuery);
  const recent = useQuery(JobsQuery, { variables: { first: 6 } });
  const [create, createState] = useMutation(CreateGenerationMutation, { refetchQueries: ['Usage', 'Jobs'] });
  const [currentId, setCurrentId] = useState<string | null>(null);
  const limits = usage.data?.usage.limits;

  const problem = explainError(createState.error);
  const serverErrors: Record<string, string> = {};
  let formMessage: string | null = null;
  if (problem) {
    const text = problem.code === 'QUOTA_EXCEEDED' ? explainQuota(problem.message, problem.field, problem.limit, limits) : problem.message;
    if (problem.field && FIELD_IDS[problem.field]) serverErrors[problem.field] = text;
    formMessage = problem.code === 'RATE_LIMITED' && problem.retryAfterSeconds != null
      ? `${problem.message}. Try again in ${problem.retryAfterSeconds} s.`
      : text;
  }

  const submit = async (settings: GenerationSettings) => {
    try {
      const result = await create({ variables: { input: toInput(settings), idempotencyKey: crypto.randomUUID() } });
      if (result.data) setCurrentId(result.data.createGeneration.id);
    } catch {
      // Explained from createState.error.
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
