import { GraphQLEnumType } from 'graphql';
import { registerEnumType } from 'type-graphql';
import { ErrorCode, JobFailureCode } from '../kernel/errors';
import { Sampler } from '../kernel/generation-parameters';
import { AlbumRole, AuditEventKind, BatchKind, BatchStatus, InferenceBackend, JobKind, JobStatus, LoraVisibility, PresetCategory, Role, SessionRole, SessionStatus, Tier, TrainingStatus } from '../entities';

registerEnumType(Tier, { name: 'Tier', description: 'Service tier; sets the limits.' });
registerEnumType(Role, { name: 'Role', description: 'VIEWER reads and watches; EDITOR also creates; ADMIN manages.' });
registerEnumType(JobStatus, { name: 'JobStatus', description: 'Lifecycle of a job.' });
registerEnumType(JobKind, { name: 'JobKind', description: 'What a job makes: IMAGE or VIDEO.' });
registerEnumType(BatchStatus, { name: 'BatchStatus', description: 'RUNNING while any job of the batch is open; then COMPLETED, FAILED (no job completed) or CANCELLED.' });
registerEnumType(BatchKind, { name: 'BatchKind', description: 'PROMPTS (one job per prompt) or MATRIX (prompts × seeds or values, with a grid image).' });
registerEnumType(SessionRole, { name: 'SessionRole', description: 'OWNER manages, COLLABORATOR generates, WATCHER watches.' });
registerEnumType(SessionStatus, { name: 'SessionStatus', description: 'ACTIVE, or ARCHIVED after being idle.' });
registerEnumType(PresetCategory, { name: 'PresetCategory', description: 'IMAGE or VIDEO presets.' });
registerEnumType(TrainingStatus, { name: 'TrainingStatus', description: 'Lifecycle of a LoRA training run.' });
registerEnumType(LoraVisibility, {
  name: 'LoraVisibility',
  description: 'Who may see and use a LoRA.',
  valuesConfig: {
    PRIVATE: { description: 'Its owner only (admins see it too, but only the owner generates with it).' },
    PUBLIC: { description: 'Everyone whose tier reaches its minTier, while it is active.' },
  },
});
registerEnumType(AlbumRole, { name: 'AlbumRole', description: 'What a user an album is shared with may do.' });
registerEnumType(AuditEventKind, { name: 'AuditEventKind', description: 'What a security audit event records.' });
registerEnumType(Sampler, { name: 'Sampler', description: 'How the image is denoised step by step (docs/generation-parameters.md, "Samplers").' });
registerEnumType(InferenceBackend, {
  name: 'InferenceBackend',
  description: 'What runs a model\'s generations (docs/backends.md).',
  valuesConfig: {
    ONNX: { description: 'The ONNX pipeline inside Atelier\'s workers, on files from the models folder.' },
    COMFYUI: { description: 'A pool of ComfyUI servers driven with the model\'s workflow (API format).' },
    OPENAI_IMAGES: { description: 'A server speaking the OpenAI Images API (POST /v1/images/generations).' },
  },
});
registerEnumType(JobFailureCode, { name: 'JobFailureCode', description: 'Why a job failed (Job.error.code, FAILED events).' });

const ERROR_CODE_MEANINGS: Record<ErrorCode, string> = {
  UNAUTHENTICATED: 'No valid credential: sign in (HTTP 401).',
  FORBIDDEN: 'Signed in, but not allowed to do this (HTTP 403).',
  NOT_FOUND: 'The thing asked for does not exist or is not yours to see (HTTP 404).',
  BAD_USER_INPUT: 'An argument is invalid; extensions.field names it. Nothing was changed.',
  CONFLICT: 'The request conflicts with the current state (a duplicate, a request still in progress).',
  QUOTA_EXCEEDED: 'A tier quota is used up; extensions.limit and retryAfterSeconds say which and when.',
  RATE_LIMITED: 'Too many requests per minute; retry after extensions.retryAfterSeconds (HTTP 429, Retry-After).',
  QUERY_TOO_COMPLEX: 'The document is too deep, too wide or over your tier\'s cost budget.',
  PAYLOAD_TOO_LARGE: 'The request body is larger than allowed (HTTP 413).',
  SERVICE_UNAVAILABLE: 'A backing service (database, Redis, storage) is unreachable right now; retry (HTTP 503, Retry-After).',
  GRAPHQL_PARSE_FAILED: 'The document is not valid GraphQL syntax.',
  GRAPHQL_VALIDATION_FAILED: 'The document does not match the schema.',
  BAD_REQUEST: 'The HTTP request is malformed.',
  PERSISTED_QUERY_NOT_FOUND: 'The persisted query hash is unknown: send the full document.',
  PERSISTED_QUERY_NOT_SUPPORTED: 'Persisted queries are not supported here.',
  OPERATION_RESOLUTION_FAILURE: 'The operation to run could not be determined (operationName).',
  INTERNAL: 'Our fault; the message is never detailed. The request id finds it in the logs.',
};

/**
 * `ErrorCode` is no field's type (it rides in extensions.code), so it is added
 * to the schema by hand: codegen then gives clients the union of codes.
 */
export const errorCodeEnum = new GraphQLEnumType({
  name: 'ErrorCode',
  description: 'Every value of extensions.code on GraphQL errors (and `code` on REST refusals).',
  values: Object.fromEntries(Object.values(ErrorCode).map((code) => [code, { value: code, description: ERROR_CODE_MEANINGS[code] }])),
});
