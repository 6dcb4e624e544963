/**
 * The GraphQL documents the MCP tools send: the same public API every other
 * client uses (src/schema/schema.graphql), nothing private.
 */

const JOB_FIELDS = `
  id kind status prompt negativePrompt width height steps seed count progress step totalSteps queuePosition
  createdAt completedAt error { code message } images { id index seed width height sha256 url }
  videoFps videoFrames video { url posterUrl mimeType bytes durationSeconds fps frames width height }
`;

export const CREATE_GENERATION = `mutation McpCreateGeneration($input: GenerationInput!, $idempotencyKey: String) {
  createGeneration(input: $input, idempotencyKey: $idempotencyKey) { ${JOB_FIELDS} }
}`;

export const JOB_UPDATED = `subscription McpJobUpdated($jobId: ID!, $after: String) {
  jobUpdated(jobId: $jobId, after: $after) { eventId type step totalSteps progress queuePosition etaSeconds error { code message } }
}`;

export const CANCEL_JOB = `mutation McpCancelJob($id: ID!) { cancelJob(id: $id) { id status } }`;

export const GET_JOB = `query McpJob($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`;

export const LIST_JOBS = `query McpJobs($first: Int, $after: String, $status: JobStatus, $sessionId: ID) {
  jobs(first: $first, after: $after, status: $status, sessionId: $sessionId) {
    edges { node { ${JOB_FIELDS} } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const LIST_FAVORITES = `query McpFavorites($first: Int, $after: String) {
  favorites(first: $first, after: $after) {
    edges { node { id index seed width height sha256 url job { id prompt } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const APPLY_PRESET = `mutation McpApplyPreset($id: ID!, $prompt: String!) {
  applyPreset(id: $id, prompt: $prompt) {
    prompt negativePrompt width height steps guidanceScale sampler modelId
    loras { loraId weight lora { name } } preset { id name }
  }
}`;

export const SUGGESTIONS = `query McpSuggestions($query: String!, $limit: Int) {
  suggestions(query: $query, limit: $limit) { category text }
}`;

export const RANDOM_PROMPTS = `query McpRandomPrompts($count: Int) { randomPrompts(count: $count) }`;
