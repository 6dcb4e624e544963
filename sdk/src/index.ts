export {
  createAtelierClient, type AtelierClient, type Album, type Batch, type Generation, type Image, type Job, type JobFilter, type JobVideo, type Session,
  type TrainingRun, type Viewer,
} from './client';
export { AtelierError } from './errors';
export {
  FINAL_EVENT_TYPES, FINAL_TRAINING_EVENT_TYPES, isFinalBatchEvent, type BatchEvent, type JobEvent, type JobEventOptions, type SessionEvent,
  type TrainingEvent,
} from './job-events';
export type { PageOptions } from './paging';
export type { AtelierClientOptions } from './transport';
export type { RetryOptions } from './retries';
export type { ErrorCode } from './generated/enums';
export type {
  BatchInput, BatchStatus, EventType, GenerationInput, JobKind, JobStatus, SessionRole, SessionStatus, TrainingEventType, TrainingInput, TrainingStatus,
} from './generated/graphql';
