export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** A date-time string at UTC, such as 2007-12-03T10:15:30Z, compliant with the `date-time` format outlined in section 5.6 of the RFC 3339 profile of the ISO 8601 standard for representation of dates and times using the Gregorian calendar.This scalar is serialized to a string in ISO 8601 format and parsed from a string in ISO 8601 format. */
  DateTimeISO: { input: string; output: string; }
  /** The `JSONObject` scalar type represents JSON objects as specified by [ECMA-404](http://www.ecma-international.org/publications/files/ECMA-ST/ECMA-404.pdf). */
  JSONObject: { input: Record<string, unknown>; output: Record<string, unknown>; }
};

/** What you may do with an album: OWNER, EDITOR or VIEWER. */
export type AlbumAccessRole =
  | 'EDITOR'
  | 'OWNER'
  | 'VIEWER';

/** What a user an album is shared with may do. */
export type AlbumRole =
  | 'EDITOR'
  | 'VIEWER';

/** Narrows audit events; every field is optional and they combine with AND. */
export type AuditEventFilter = {
  /** Only events from this client address. */
  address?: InputMaybe<Scalars['String']['input']>;
  /** Only these kinds. */
  kinds?: InputMaybe<Array<AuditEventKind>>;
  /** At or after this time. */
  since?: InputMaybe<Scalars['DateTimeISO']['input']>;
  /** Before this time. */
  until?: InputMaybe<Scalars['DateTimeISO']['input']>;
  /** Only events this user did or that concern them. */
  userId?: InputMaybe<Scalars['ID']['input']>;
};

/** What a security audit event records. */
export type AuditEventKind =
  | 'ACCOUNT_CREATED'
  | 'ACCOUNT_DELETED'
  | 'ADMIN_ACTION'
  | 'API_KEY_CREATED'
  | 'API_KEY_NEW_ADDRESS'
  | 'API_KEY_REVOKED'
  | 'AUTH_FAILED'
  | 'PASSWORD_CHANGED'
  | 'PASSWORD_CHANGE_FAILED'
  | 'ROLE_CHANGED'
  | 'SESSION_MEMBER_JOINED'
  | 'SESSION_MEMBER_LEFT'
  | 'SESSION_MEMBER_REMOVED'
  | 'SIGN_IN_FAILED'
  | 'SIGN_IN_SUCCEEDED'
  | 'TIER_CHANGED';

/** Many jobs with shared parameters: `prompts` (one job each) or a `matrix`; at most 100 jobs. */
export type BatchInput = {
  /** Album the finished images go into. */
  albumId?: InputMaybe<Scalars['ID']['input']>;
  /** Images in this job (default 1), capped by tier; image i uses seed + i. */
  count?: InputMaybe<Scalars['Int']['input']>;
  /** Fail with DEADLINE_EXCEEDED instead of starting later than this many seconds from now (1..604800, a week). A job still waiting at its deadline fails within ATELIER_RECONCILE_SECONDS of it. */
  deadlineSeconds?: InputMaybe<Scalars['Int']['input']>;
  /** 1..30 (default 7.5). */
  guidanceScale?: InputMaybe<Scalars['Float']['input']>;
  /** 64..2048, multiple of 8 (default 512), capped by tier. */
  height?: InputMaybe<Scalars['Int']['input']>;
  /** LoRAs with weights; count capped by tier. */
  loras?: InputMaybe<Array<LoraWeightInput>>;
  /** A prompt matrix (give this or prompts); finishes with a grid image. */
  matrix?: InputMaybe<BatchMatrixInput>;
  /** Model to use (default: the default model). */
  modelId?: InputMaybe<Scalars['ID']['input']>;
  /** Name shown in lists, 1 to 200 characters (default: the first prompt). */
  name?: InputMaybe<Scalars['String']['input']>;
  /** What to avoid. */
  negativePrompt?: InputMaybe<Scalars['String']['input']>;
  /** Preset whose template and parameters apply. */
  presetId?: InputMaybe<Scalars['ID']['input']>;
  /** One job per prompt (give this or matrix). */
  prompts?: InputMaybe<Array<Scalars['String']['input']>>;
  /** Sampler (default: the one the model's scheduler config names); LCM runs at most 50 steps. */
  sampler?: InputMaybe<Sampler>;
  /** 0..2147483647, with seed + count - 1 at most 2147483647; chosen and recorded when absent. */
  seed?: InputMaybe<Scalars['Int']['input']>;
  /** Session the job appears in live (OWNER or COLLABORATOR). */
  sessionId?: InputMaybe<Scalars['ID']['input']>;
  /** 1..150 (default 20), capped by tier. */
  steps?: InputMaybe<Scalars['Int']['input']>;
  /** 64..2048, multiple of 8 (default 512), capped by tier. */
  width?: InputMaybe<Scalars['Int']['input']>;
};

/** PROMPTS (one job per prompt) or MATRIX (prompts × seeds or values, with a grid image). */
export type BatchKind =
  | 'MATRIX'
  | 'PROMPTS';

/** A prompt matrix: one job per prompt (row) and column; the columns are seeds, or values of one parameter. */
export type BatchMatrixInput = {
  /** The parameter swept across the columns (an X/Y plot). */
  parameter?: InputMaybe<BatchSweepParameter>;
  /** The rows. */
  prompts: Array<Scalars['String']['input']>;
  /** Columns: one seed each (prompts × seeds). Give seeds, or parameter and values. */
  seeds?: InputMaybe<Array<Scalars['Int']['input']>>;
  /** Columns: the values of `parameter`, each within its limits. */
  values?: InputMaybe<Array<Scalars['Float']['input']>>;
};

/** RUNNING while any job of the batch is open; then COMPLETED, FAILED (no job completed) or CANCELLED. */
export type BatchStatus =
  | 'CANCELLED'
  | 'COMPLETED'
  | 'FAILED'
  | 'RUNNING';

/** The parameter a matrix sweeps across its columns. */
export type BatchSweepParameter =
  | 'GUIDANCE_SCALE'
  | 'STEPS';

/** A circuit breaker's state for one backend endpoint (docs/backends.md). */
export type CircuitState =
  /** Requests go through. */
  | 'CLOSED'
  /** One probe request is let through to see whether the endpoint is back. */
  | 'HALF_OPEN'
  /** The endpoint failed repeatedly; requests are held back until the breaker half-opens. */
  | 'OPEN';

/** An uploaded image to add to a dataset. */
export type DatasetImageInput = {
  /** What the image shows (up to 1000 characters). */
  caption?: InputMaybe<Scalars['String']['input']>;
  /** uploadId from POST /uploads (PNG, JPEG or WebP, checked by content). */
  uploadId: Scalars['ID']['input'];
};

/** A new dataset. */
export type DatasetInput = {
  /** Name, 1 to 80 characters. */
  name: Scalars['String']['input'];
  /** Share with this session: its members may see it and train on it (only you change it). */
  sessionId?: InputMaybe<Scalars['ID']['input']>;
};

/** Every value of extensions.code on GraphQL errors (and `code` on REST refusals). */
export type ErrorCode =
  /** The HTTP request is malformed. */
  | 'BAD_REQUEST'
  /** An argument is invalid; extensions.field names it. Nothing was changed. */
  | 'BAD_USER_INPUT'
  /** The request conflicts with the current state (a duplicate, a request still in progress). */
  | 'CONFLICT'
  /** Signed in, but not allowed to do this (HTTP 403). */
  | 'FORBIDDEN'
  /** The document is not valid GraphQL syntax. */
  | 'GRAPHQL_PARSE_FAILED'
  /** The document does not match the schema. */
  | 'GRAPHQL_VALIDATION_FAILED'
  /** Our fault; the message is never detailed. The request id finds it in the logs. */
  | 'INTERNAL'
  /** The thing asked for does not exist or is not yours to see (HTTP 404). */
  | 'NOT_FOUND'
  /** The operation to run could not be determined (operationName). */
  | 'OPERATION_RESOLUTION_FAILURE'
  /** The request body is larger than allowed (HTTP 413). */
  | 'PAYLOAD_TOO_LARGE'
  /** The persisted query hash is unknown: send the full document. */
  | 'PERSISTED_QUERY_NOT_FOUND'
  /** Persisted queries are not supported here. */
  | 'PERSISTED_QUERY_NOT_SUPPORTED'
  /** The document is too deep, too wide or over your tier's cost budget. */
  | 'QUERY_TOO_COMPLEX'
  /** A tier quota is used up; extensions.limit and retryAfterSeconds say which and when. */
  | 'QUOTA_EXCEEDED'
  /** Too many requests per minute; retry after extensions.retryAfterSeconds (HTTP 429, Retry-After). */
  | 'RATE_LIMITED'
  /** A backing service (database, Redis, storage) is unreachable right now; retry (HTTP 503, Retry-After). */
  | 'SERVICE_UNAVAILABLE'
  /** No valid credential: sign in (HTTP 401). */
  | 'UNAUTHENTICATED';

/** What happened: job lifecycle (QUEUED, POSITION, STARTED, PROGRESS, COMPLETED, FAILED, CANCELLED), in sessions membership and presence, and BATCH_PROGRESS for batches. */
export type EventType =
  | 'BATCH_PROGRESS'
  | 'CANCELLED'
  | 'COMPLETED'
  | 'FAILED'
  | 'MEMBER_JOINED'
  | 'MEMBER_LEFT'
  | 'POSITION'
  | 'PRESENCE'
  | 'PROGRESS'
  | 'QUEUED'
  | 'STARTED';

/** What to generate. Only the prompt is required; a preset supplies defaults and explicit fields win. */
export type GenerationInput = {
  /** Album the finished images go into. */
  albumId?: InputMaybe<Scalars['ID']['input']>;
  /** Images in this job (default 1), capped by tier; image i uses seed + i. */
  count?: InputMaybe<Scalars['Int']['input']>;
  /** Fail with DEADLINE_EXCEEDED instead of starting later than this many seconds from now (1..604800, a week). A job still waiting at its deadline fails within ATELIER_RECONCILE_SECONDS of it. */
  deadlineSeconds?: InputMaybe<Scalars['Int']['input']>;
  /** 1..30 (default 7.5). */
  guidanceScale?: InputMaybe<Scalars['Float']['input']>;
  /** 64..2048, multiple of 8 (default 512), capped by tier. */
  height?: InputMaybe<Scalars['Int']['input']>;
  /** LoRAs with weights; count capped by tier. */
  loras?: InputMaybe<Array<LoraWeightInput>>;
  /** Model to use (default: the default model). */
  modelId?: InputMaybe<Scalars['ID']['input']>;
  /** What to avoid. */
  negativePrompt?: InputMaybe<Scalars['String']['input']>;
  /** Preset whose template and parameters apply. */
  presetId?: InputMaybe<Scalars['ID']['input']>;
  /** Trimmed, 1..2000 characters. */
  prompt: Scalars['String']['input'];
  /** Sampler (default: the one the model's scheduler config names); LCM runs at most 50 steps. */
  sampler?: InputMaybe<Sampler>;
  /** 0..2147483647, with seed + count - 1 at most 2147483647; chosen and recorded when absent. */
  seed?: InputMaybe<Scalars['Int']['input']>;
  /** Session the job appears in live (OWNER or COLLABORATOR). */
  sessionId?: InputMaybe<Scalars['ID']['input']>;
  /** 1..150 (default 20), capped by tier. */
  steps?: InputMaybe<Scalars['Int']['input']>;
  /** 64..2048, multiple of 8 (default 512), capped by tier. */
  width?: InputMaybe<Scalars['Int']['input']>;
};

/** What runs a model's generations (docs/backends.md). */
export type InferenceBackend =
  /** A pool of ComfyUI servers driven with the model's workflow (API format). */
  | 'COMFYUI'
  /** The ONNX pipeline inside Atelier's workers, on files from the models folder. */
  | 'ONNX'
  /** A server speaking the OpenAI Images API (POST /v1/images/generations). */
  | 'OPENAI_IMAGES';

/** Why a job failed (Job.error.code, FAILED events). */
export type JobFailureCode =
  | 'BACKEND_REJECTED'
  | 'BACKEND_UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'INFERENCE_FAILED'
  | 'INVALID_PARAMETERS'
  | 'LORA_INVALID'
  | 'LORA_MISMATCH'
  | 'LORA_NOT_FOUND'
  | 'LORA_UNSUPPORTED'
  | 'MODEL_INVALID'
  | 'MODEL_LOAD_FAILED'
  | 'STRANDED'
  | 'TIMEOUT'
  | 'WORKER_ERROR';

/** What a job makes: IMAGE or VIDEO. */
export type JobKind =
  | 'IMAGE'
  | 'VIDEO';

/** Lifecycle of a job. */
export type JobStatus =
  | 'CANCELLED'
  | 'COMPLETED'
  | 'FAILED'
  | 'PENDING'
  | 'PROCESSING';

/** A LoRA to register from a file sent to POST /uploads. */
export type LoraInput = {
  /** The model the LoRA was trained for; its layers and shapes must match. */
  baseModelId: Scalars['ID']['input'];
  /** Weight used when a job gives none, -2..2 (default 1). */
  defaultWeight?: InputMaybe<Scalars['Float']['input']>;
  /** Lowest tier allowed to use it (admins only; default FREE). */
  minTier?: InputMaybe<Tier>;
  /** Name, 1..80 characters; the same name again becomes the next version. */
  name: Scalars['String']['input'];
  /** Words that activate the concept (at most 20). */
  triggerWords?: InputMaybe<Array<Scalars['String']['input']>>;
  /** The uploadId POST /uploads answered. */
  uploadId: Scalars['ID']['input'];
  /** PRIVATE (only you use it) or PUBLIC (everyone its tier allows). Default: PUBLIC when an admin registers it, PRIVATE otherwise. */
  visibility?: InputMaybe<LoraVisibility>;
};

/** Who may see and use a LoRA. */
export type LoraVisibility =
  /** Its owner only (admins see it too, but only the owner generates with it). */
  | 'PRIVATE'
  /** Everyone whose tier reaches its minTier, while it is active. */
  | 'PUBLIC';

/** A LoRA to apply, with its weight. */
export type LoraWeightInput = {
  /** The LoRA. */
  loraId: Scalars['ID']['input'];
  /** Scale of the LoRA, -2..2. */
  weight: Scalars['Float']['input'];
};

/** A model to register or the new settings of one (admins; docs/backends.md, "Registering models"). */
export type ModelInput = {
  /** What runs its generations. */
  backend: InferenceBackend;
  /** COMFYUI and OPENAI_IMAGES: a secret sent as a Bearer token; stored sealed and never returned. On update, absent keeps the stored one and "" removes it. */
  credential?: InputMaybe<Scalars['String']['input']>;
  /** What the model is, at most 500 characters. */
  description?: InputMaybe<Scalars['String']['input']>;
  /** COMFYUI and OPENAI_IMAGES: base URLs (http or https) of the servers, 1..16; jobs go to the healthy one with the fewest in flight. */
  endpoints?: InputMaybe<Array<Scalars['String']['input']>>;
  /** Lowest tier allowed to use it (default FREE). */
  minTier?: InputMaybe<Tier>;
  /** Unique name, 1..80 letters, digits, spaces, ".", "_" or "-". */
  name: Scalars['String']['input'];
  /** ONNX: the folder in the models folder (a folder only in the artifact store is registered by atelier models push); absent means the folder named like the model. */
  path?: InputMaybe<Scalars['String']['input']>;
  /** OPENAI_IMAGES: the `model` the server expects. */
  remoteModel?: InputMaybe<Scalars['String']['input']>;
  /** COMFYUI: the workflow in ComfyUI's API format, with an image output node and "{{prompt}}" as the value of some input. */
  workflow?: InputMaybe<Scalars['JSONObject']['input']>;
};

/** IMAGE or VIDEO presets. */
export type PresetCategory =
  | 'IMAGE'
  | 'VIDEO';

/** A custom preset: a template with `{prompt}` and optional default parameters. */
export type PresetInput = {
  /** IMAGE (default) or VIDEO. */
  category?: InputMaybe<PresetCategory>;
  /** Video length in seconds (VIDEO presets). */
  durationSeconds?: InputMaybe<Scalars['Float']['input']>;
  /** Frames per second (VIDEO presets). */
  fps?: InputMaybe<Scalars['Int']['input']>;
  /** Default guidance scale, 1..30. */
  guidanceScale?: InputMaybe<Scalars['Float']['input']>;
  /** Default height, 64..2048, multiple of 8. */
  height?: InputMaybe<Scalars['Int']['input']>;
  /** LoRAs with weights the preset applies (at most 5). */
  loras?: InputMaybe<Array<LoraWeightInput>>;
  /** Model the preset uses. */
  modelId?: InputMaybe<Scalars['ID']['input']>;
  /** Name, 1..80 characters. */
  name: Scalars['String']['input'];
  /** Default negative prompt. */
  negativePrompt?: InputMaybe<Scalars['String']['input']>;
  /** Default sampler (absent: the model's own). */
  sampler?: InputMaybe<Sampler>;
  /** Share with this session: its members can see and use the preset. */
  sessionId?: InputMaybe<Scalars['ID']['input']>;
  /** Default steps, 1..150. */
  steps?: InputMaybe<Scalars['Int']['input']>;
  /** Prompt template; must contain `{prompt}`. */
  template: Scalars['String']['input'];
  /** Default width, 64..2048, multiple of 8. */
  width?: InputMaybe<Scalars['Int']['input']>;
};

/** Why a job that had started waits in the queue again: WORKER_LOST (its worker stopped without handing it back: it died, lost its queue lock or lost its database mid-job), HANDED_BACK (its worker gave it back while shutting down), RETRY (its run failed in a way that is tried again). */
export type RequeueReason =
  /** Its worker handed it back (shutting down) before finishing. */
  | 'HANDED_BACK'
  /** Its run failed in a way that is tried again after a short wait. */
  | 'RETRY'
  /** Its worker stopped without handing it back; the job was found stalled and another worker takes it. */
  | 'WORKER_LOST';

/** VIEWER reads and watches; EDITOR also creates; ADMIN manages. */
export type Role =
  | 'ADMIN'
  | 'EDITOR'
  | 'VIEWER';

/** How the image is denoised step by step (docs/generation-parameters.md, "Samplers"). */
export type Sampler =
  | 'DDIM'
  | 'DPMPP_2M'
  | 'EULER'
  | 'EULER_ANCESTRAL'
  | 'LCM';

/** OWNER manages, COLLABORATOR generates, WATCHER watches. */
export type SessionRole =
  | 'COLLABORATOR'
  | 'OWNER'
  | 'WATCHER';

/** ACTIVE, or ARCHIVED after being idle. */
export type SessionStatus =
  | 'ACTIVE'
  | 'ARCHIVED';

/** The seven kinds of prompt suggestions. */
export type SuggestionCategory =
  | 'CAMERA'
  | 'COLORS'
  | 'LIGHTING'
  | 'MOOD'
  | 'QUALITY'
  | 'STYLES'
  | 'SUBJECTS';

/** Service tier; sets the limits. */
export type Tier =
  | 'ENTERPRISE'
  | 'FREE'
  | 'PRO';

/** New limits for a tier; omitted fields keep their value. A value outside its bounds is refused with BAD_USER_INPUT and the field, and nothing changes. */
export type TierPolicyInput = {
  /** Batches per rolling hour (0 to 100,000). */
  batchesPerHour?: InputMaybe<Scalars['Int']['input']>;
  /** Generation requests per minute (1 to 100,000). */
  generationsPerMinute?: InputMaybe<Scalars['Int']['input']>;
  /** Images per UTC day (0 to 1,000,000, or -1 for unlimited). */
  imagesPerDay?: InputMaybe<Scalars['Int']['input']>;
  /** Training runs one user may have queued or running at once (0 to 1,000). */
  maxConcurrentTrainingRuns?: InputMaybe<Scalars['Int']['input']>;
  /** Most images per job (1 to 8). */
  maxCount?: InputMaybe<Scalars['Int']['input']>;
  /** Most images per training dataset (1 to 1,000). */
  maxDatasetImages?: InputMaybe<Scalars['Int']['input']>;
  /** Largest height (64 to 2,048). */
  maxHeight?: InputMaybe<Scalars['Int']['input']>;
  /** Most LoRAs per job (0 to 16). */
  maxLoras?: InputMaybe<Scalars['Int']['input']>;
  /** Jobs running or queued at once (1 to 10,000). */
  maxOpenJobs?: InputMaybe<Scalars['Int']['input']>;
  /** Query complexity budget (10 to 1,000,000). */
  maxQueryComplexity?: InputMaybe<Scalars['Int']['input']>;
  /** Members per session owned (1 to 10,000). */
  maxSessionMembers?: InputMaybe<Scalars['Int']['input']>;
  /** Most steps (1 to 150). */
  maxSteps?: InputMaybe<Scalars['Int']['input']>;
  /** Most steps per training run (0 to 100,000). */
  maxTrainingSteps?: InputMaybe<Scalars['Int']['input']>;
  /** Most frames per second of a clip (1 to 60). */
  maxVideoFps?: InputMaybe<Scalars['Int']['input']>;
  /** Longest video clip in seconds (1 to 60). */
  maxVideoSeconds?: InputMaybe<Scalars['Int']['input']>;
  /** Largest width or height of a clip (64 to 2,048). */
  maxVideoSide?: InputMaybe<Scalars['Int']['input']>;
  /** Largest width (64 to 2,048). */
  maxWidth?: InputMaybe<Scalars['Int']['input']>;
  /** Megabytes of uploads not yet registered one user may hold (1 to 1,048,576). */
  pendingUploadMb?: InputMaybe<Scalars['Int']['input']>;
  /** All requests per minute (1 to 1,000,000). */
  requestsPerMinute?: InputMaybe<Scalars['Int']['input']>;
  /** Days images and finished jobs are kept (1 to 36,500, or -1 for unlimited). */
  retentionDays?: InputMaybe<Scalars['Int']['input']>;
  /** LoRA training runs per user per UTC day; 0 switches training off (0 to 100,000). */
  trainingRunsPerDay?: InputMaybe<Scalars['Int']['input']>;
  /** Seconds of video per UTC day (0 to 1,000,000, or -1 for unlimited). */
  videoSecondsPerDay?: InputMaybe<Scalars['Int']['input']>;
};

/** What happened in a training run. */
export type TrainingEventType =
  | 'CANCELLED'
  | 'CHECKPOINT'
  | 'COMPLETED'
  | 'EVALUATION'
  | 'FAILED'
  | 'PROGRESS'
  | 'QUEUED'
  | 'SAMPLE'
  | 'STARTED';

/** A LoRA training run. Omitted hyperparameters take the defaults of docs/training.md; each is checked against docs/limits.md. */
export type TrainingInput = {
  /** LoRA alpha; updates scale by alpha / rank (0.001 to 1024). */
  alpha?: InputMaybe<Scalars['Float']['input']>;
  /** Base model (default: the default model). */
  baseModelId?: InputMaybe<Scalars['ID']['input']>;
  /** Images per step (1 to 64). */
  batchSize?: InputMaybe<Scalars['Int']['input']>;
  /** The dataset to train on (yours or shared with your session). */
  datasetId: Scalars['ID']['input'];
  /** Learning rate (1e-7 to 1). Omitted: the base model's default (atelier-tiny: 0.03), else 0.01. */
  learningRate?: InputMaybe<Scalars['Float']['input']>;
  /** The LoRA's name: the run registers the next version of it. */
  loraName: Scalars['String']['input'];
  /** Min-SNR-gamma loss weighting (0.001 to 1000; kohya's --min_snr_gamma). Omitted: unweighted. */
  minSnrGamma?: InputMaybe<Scalars['Float']['input']>;
  /** Lowest noise timestep trained on (0 to 999; kohya's --min_timestep). Omitted: the base model's default (atelier-tiny: 900, so colour is learnt), else all timesteps. */
  minTimestep?: InputMaybe<Scalars['Int']['input']>;
  /** LoRA rank (1 to 128). */
  rank?: InputMaybe<Scalars['Int']['input']>;
  /** Square training resolution (64 to 2048, multiple of 8). */
  resolution?: InputMaybe<Scalars['Int']['input']>;
  /** Prompts rendered at each save point (up to 8). */
  samplePrompts?: InputMaybe<Array<Scalars['String']['input']>>;
  /** Checkpoint and render samples every N steps (at most steps). */
  saveEvery?: InputMaybe<Scalars['Int']['input']>;
  /** Seed (random when omitted): the same seed, data and settings train the same LoRA. */
  seed?: InputMaybe<Scalars['Int']['input']>;
  /** Optimizer steps (1 to the tier's maxTrainingSteps). */
  steps?: InputMaybe<Scalars['Int']['input']>;
};

/** Lifecycle of a LoRA training run. */
export type TrainingStatus =
  | 'CANCELLED'
  | 'COMPLETED'
  | 'FAILED'
  | 'QUEUED'
  | 'RUNNING';

/** A video clip to make (docs/video.md). A VIDEO preset or the defaults supply what is left out; explicit fields win. */
export type VideoInput = {
  /** Fail with DEADLINE_EXCEEDED instead of starting later than this many seconds from now (1..604800, a week). A job still waiting at its deadline fails within ATELIER_RECONCILE_SECONDS of it. */
  deadlineSeconds?: InputMaybe<Scalars['Int']['input']>;
  /** Clip length in seconds, 0.5..60 (default 3), capped by tier. */
  durationSeconds?: InputMaybe<Scalars['Float']['input']>;
  /** Frames per second, 1..60 (default 24), capped by tier. */
  fps?: InputMaybe<Scalars['Int']['input']>;
  /** Image-to-video: the clip starts from this image's prompt, seed and settings. */
  fromImageId?: InputMaybe<Scalars['ID']['input']>;
  /** 1..30. */
  guidanceScale?: InputMaybe<Scalars['Float']['input']>;
  /** 64..2048, multiple of 8; default 512 (or the image's) fitted to the tier's largest video side. */
  height?: InputMaybe<Scalars['Int']['input']>;
  /** LoRAs with weights; count capped by tier. */
  loras?: InputMaybe<Array<LoraWeightInput>>;
  /** Model to use (default: the default model, or the image's). */
  modelId?: InputMaybe<Scalars['ID']['input']>;
  /** What to avoid. */
  negativePrompt?: InputMaybe<Scalars['String']['input']>;
  /** A VIDEO preset whose template, duration and fps apply (fitted to your tier). */
  presetId?: InputMaybe<Scalars['ID']['input']>;
  /** The prompt (1..2000 characters). Required unless fromImageId is given; with it, the prompt the clip moves toward. */
  prompt?: InputMaybe<Scalars['String']['input']>;
  /** Sampler (default: the one the model's scheduler config names). */
  sampler?: InputMaybe<Sampler>;
  /** 0..2147483647: keyframe k uses seed + k; chosen and recorded when absent (the image's with fromImageId). */
  seed?: InputMaybe<Scalars['Int']['input']>;
  /** Session the job appears in live (OWNER or COLLABORATOR). */
  sessionId?: InputMaybe<Scalars['ID']['input']>;
  /** Denoising steps per frame, 1..150 (default 12, or the image's). */
  steps?: InputMaybe<Scalars['Int']['input']>;
  /** 64..2048, multiple of 8; default 512 (or the image's) fitted to the tier's largest video side. */
  width?: InputMaybe<Scalars['Int']['input']>;
};
