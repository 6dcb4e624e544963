import type { JobFieldsFragment, Sampler } from '../gql/graphql';

/** The generator form's values; also what "use these settings again" carries between pages. */
export interface GenerationSettings {
  prompt: string;
  negativePrompt: string;
  width: number;
  height: number;
  steps: number;
  guidanceScale: number;
  /** Empty means a random seed chosen by the server. */
  seed: string;
  count: number;
  modelId: string;
  sessionId: string;
  /** Preset whose template the server applies to the prompt; empty for none. */
  presetId: string;
  loras: { loraId: string; weight: number }[];
  /** Empty: the model's own sampler. */
  sampler: Sampler | '';
}

export const DEFAULT_SETTINGS: GenerationSettings = {
  prompt: '',
  negativePrompt: '',
  width: 512,
  height: 512,
  steps: 20,
  guidanceScale: 7.5,
  seed: '',
  count: 1,
  modelId: '',
  sessionId: '',
  presetId: '',
  loras: [],
  sampler: '',
};

/** A finished job's parameters as form settings (same seed, so the same image comes back). */
export function settingsOf(job: JobFieldsFragment): GenerationSettings {
  return {
    prompt: job.prompt,
    negativePrompt: job.negativePrompt ?? '',
    width: job.width,
    height: job.height,
    steps: job.steps,
    guidanceScale: job.guidanceScale,
    seed: String(job.seed),
    count: job.count,
    modelId: job.model?.id ?? '',
    sessionId: job.session?.id ?? '',
    // The stored prompt already has the preset's template applied.
    presetId: '',
    loras: job.loras.map((l) => ({ loraId: l.loraId, weight: l.weight })),
    sampler: job.sampler ?? '',
  };
}

/** The samplers a job or a preset may name, as the forms list them (empty: the model's own). */
export const SAMPLERS: { value: Sampler; label: string }[] = [
  { value: 'EULER', label: 'Euler' },
  { value: 'EULER_ANCESTRAL', label: 'Euler ancestral' },
  { value: 'DDIM', label: 'DDIM' },
  { value: 'LCM', label: 'LCM (1–4 steps)' },
  { value: 'DPMPP_2M', label: 'DPM++ 2M' },
];
