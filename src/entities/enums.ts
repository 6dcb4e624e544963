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
/** A member's role inside a shared session. */
export enum SessionRole { OWNER = 'OWNER', COLLABORATOR = 'COLLABORATOR', WATCHER = 'WATCHER' }
export enum SessionStatus { ACTIVE = 'ACTIVE', ARCHIVED = 'ARCHIVED' }
export enum PresetCategory { IMAGE = 'IMAGE', VIDEO = 'VIDEO' }
export enum AlbumRole { VIEWER = 'VIEWER', EDITOR = 'EDITOR' }

export const OPEN_JOB_STATUSES = [JobStatus.PENDING, JobStatus.PROCESSING] as const;
export const FINAL_JOB_STATUSES = [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED] as const;

/** Order of tiers, for "at least this tier" checks. */
export const TIER_RANK: Record<Tier, number> = { FREE: 0, PRO: 1, ENTERPRISE: 2 };
