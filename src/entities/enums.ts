/** Service tier; limits per tier live in the tier_policies table. */
export enum Tier { FREE = 'FREE', PRO = 'PRO', ENTERPRISE = 'ENTERPRISE' }
/** What a user may do across the service. */
export enum Role { VIEWER = 'VIEWER', EDITOR = 'EDITOR', ADMIN = 'ADMIN' }
/** Lifecycle of a generation job. */
export enum JobStatus {
  PENDING = 'PENDING',
  PROCESSING = 'PROCESSING',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}
/** Where a batch of jobs stands: RUNNING while any job is open; FAILED when none completed (docs/batches.md). */
export enum BatchStatus { RUNNING = 'RUNNING', COMPLETED = 'COMPLETED', FAILED = 'FAILED', CANCELLED = 'CANCELLED' }
/** A list of prompts, or a matrix whose images tile into a labelled grid. */
export enum BatchKind { PROMPTS = 'PROMPTS', MATRIX = 'MATRIX' }
/** A member's role inside a shared session. */
export enum SessionRole { OWNER = 'OWNER', COLLABORATOR = 'COLLABORATOR', WATCHER = 'WATCHER' }
export enum SessionStatus { ACTIVE = 'ACTIVE', ARCHIVED = 'ARCHIVED' }
export enum PresetCategory { IMAGE = 'IMAGE', VIDEO = 'VIDEO' }
/** What a job makes: images, or one video clip (docs/video.md). */
export enum JobKind { IMAGE = 'IMAGE', VIDEO = 'VIDEO' }
export enum AlbumRole { VIEWER = 'VIEWER', EDITOR = 'EDITOR' }
/** Who a LoRA is for: its owner (and admins, who see but do not use it), or everyone its tier allows (docs/security.md, "Private LoRAs"). */
export enum LoraVisibility { PRIVATE = 'PRIVATE', PUBLIC = 'PUBLIC' }

export const OPEN_JOB_STATUSES = [JobStatus.PENDING, JobStatus.PROCESSING] as const;
export const FINAL_JOB_STATUSES = [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED] as const;

/** Order of tiers, for "at least this tier" checks. */
export const TIER_RANK: Record<Tier, number> = { FREE: 0, PRO: 1, ENTERPRISE: 2 };
/** What a security audit event records (see docs/security.md). */
export enum AuditEventKind {
  SIGN_IN_SUCCEEDED = 'SIGN_IN_SUCCEEDED',
  SIGN_IN_FAILED = 'SIGN_IN_FAILED',
  ACCOUNT_CREATED = 'ACCOUNT_CREATED',
  AUTH_FAILED = 'AUTH_FAILED',
  API_KEY_CREATED = 'API_KEY_CREATED',
  API_KEY_REVOKED = 'API_KEY_REVOKED',
  API_KEY_NEW_ADDRESS = 'API_KEY_NEW_ADDRESS',
  ROLE_CHANGED = 'ROLE_CHANGED',
  TIER_CHANGED = 'TIER_CHANGED',
  SESSION_MEMBER_JOINED = 'SESSION_MEMBER_JOINED',
  SESSION_MEMBER_LEFT = 'SESSION_MEMBER_LEFT',
  SESSION_MEMBER_REMOVED = 'SESSION_MEMBER_REMOVED',
  ADMIN_ACTION = 'ADMIN_ACTION',
  PASSWORD_CHANGED = 'PASSWORD_CHANGED',
  PASSWORD_CHANGE_FAILED = 'PASSWORD_CHANGE_FAILED',
  ACCOUNT_DELETED = 'ACCOUNT_DELETED',
}
/** What runs a model's generations (docs/backends.md). */
export enum InferenceBackend {
  /** The ONNX pipeline inside the worker, on files from the models folder. */
  ONNX = 'ONNX',
  /** A pool of ComfyUI servers, driven through ComfyUI's own HTTP and WebSocket API with the model's workflow. */
  COMFYUI = 'COMFYUI',
  /** A server speaking the OpenAI Images API (`POST /v1/images/generations`). */
  OPENAI_IMAGES = 'OPENAI_IMAGES',
}
/** Lifecycle of a LoRA training run (docs/training.md). */
export enum TrainingStatus {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}
export const OPEN_TRAINING_STATUSES = [TrainingStatus.QUEUED, TrainingStatus.RUNNING] as const;
export const FINAL_TRAINING_STATUSES = [TrainingStatus.COMPLETED, TrainingStatus.FAILED, TrainingStatus.CANCELLED] as const;
