import { GENERATION_LIMITS as L, VIDEO_LIMITS as V } from '../kernel/generation-parameters';
import { badInput } from '../kernel/errors';
import { TRAINING_LIMITS as T } from '../kernel/training-parameters';

/** The tier-policy fields an admin edits with updateTierPolicy. */
export type EditablePolicyField =
  | 'maxOpenJobs' | 'imagesPerDay' | 'maxWidth' | 'maxHeight' | 'maxSteps' | 'maxCount' | 'maxLoras'
  | 'generationsPerMinute' | 'requestsPerMinute' | 'maxSessionMembers' | 'maxQueryComplexity' | 'pendingUploadMb' | 'retentionDays'
  | 'batchesPerHour'
  | 'trainingRunsPerDay' | 'maxConcurrentTrainingRuns' | 'maxTrainingSteps' | 'maxDatasetImages'
  | 'videoSecondsPerDay' | 'maxVideoSeconds' | 'maxVideoFps' | 'maxVideoSide';

/**
 * What each tier-policy field may be set to (docs/request-limits.md, "Tier
 * policies"). A tier narrows the generation limits table and cannot widen
 * it; the other maxima are far above any real tier and keep a typo (or
 * 2^31 − 1) from switching a limit off. `imagesPerDay`, `videoSecondsPerDay` and
 * `retentionDays` also take -1, unlimited.
 */
export const TIER_POLICY_BOUNDS: Record<EditablePolicyField, { min: number; max: number }> = {
  maxOpenJobs: { min: 1, max: 10_000 },
  imagesPerDay: { min: 0, max: 1_000_000 },
  maxWidth: { min: L.width.min, max: L.width.max },
  maxHeight: { min: L.height.min, max: L.height.max },
  maxSteps: { min: L.steps.min, max: L.steps.max },
  maxCount: { min: L.count.min, max: L.count.max },
  maxLoras: { min: L.loraCount.min, max: L.loraCount.max },
  generationsPerMinute: { min: 1, max: 100_000 },
  requestsPerMinute: { min: 1, max: 1_000_000 },
  maxSessionMembers: { min: 1, max: 10_000 },
  maxQueryComplexity: { min: 10, max: 1_000_000 },
  pendingUploadMb: { min: 1, max: 1_048_576 },
  retentionDays: { min: 1, max: 36_500 },
  videoSecondsPerDay: { min: 0, max: 1_000_000 },
  maxVideoSeconds: { min: 1, max: V.durationSeconds.max },
  maxVideoFps: { min: V.fps.min, max: V.fps.max },
  maxVideoSide: { min: L.width.min, max: L.width.max },
  batchesPerHour: { min: 0, max: 100_000 },
  // 0 runs per day (or at once) switches training off for the tier (docs/training.md, "Limits").
  trainingRunsPerDay: { min: 0, max: 100_000 },
  maxConcurrentTrainingRuns: { min: 0, max: 1000 },
  // A run and a trainer take at most these (the kernel's one table).
  maxTrainingSteps: { min: 0, max: T.steps.max },
  maxDatasetImages: { min: T.images.min, max: T.images.max },
};

/** `-1` in an update of one of these fields: no limit (stored as null). */
export const UNLIMITED = -1;
export const UNLIMITED_FIELDS: ReadonlySet<EditablePolicyField> = new Set<EditablePolicyField>(['imagesPerDay', 'videoSecondsPerDay', 'retentionDays']);

/** "1 to 10,000" (and "or -1 for unlimited"), for messages and the GraphQL input's descriptions. */
export function boundsText(field: EditablePolicyField): string {
  const { min, max } = TIER_POLICY_BOUNDS[field];
  const range = `${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}`;
  return UNLIMITED_FIELDS.has(field) ? `${range}, or ${UNLIMITED} for unlimited` : range;
}

/** Refuses a value outside the field's bounds with BAD_USER_INPUT and the field. */
export function checkPolicyValue(field: EditablePolicyField, value: number): void {
  const { min, max } = TIER_POLICY_BOUNDS[field];
  const allowed = Number.isInteger(value) && ((value >= min && value <= max) || (UNLIMITED_FIELDS.has(field) && value === UNLIMITED));
  if (!allowed) throw badInput(field, `${field} must be an integer from ${boundsText(field)}`);
}
