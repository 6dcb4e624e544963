export { createAtelierClient, type AtelierClient, type Album, type Generation, type Image, type Job, type JobFilter, type JobVideo, type Session, type Viewer } from './client';
export { AtelierError } from './errors';
export { FINAL_EVENT_TYPES, type JobEvent, type JobEventOptions, type SessionEvent } from './job-events';
export type { PageOptions } from './paging';
export type { AtelierClientOptions } from './transport';
export type { RetryOptions } from './retries';
export type { ErrorCode } from './generated/enums';
export type { EventType, GenerationInput, JobKind, JobStatus, SessionRole, SessionStatus } from './generated/graphql';
