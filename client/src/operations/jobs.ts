import { graphql } from '../gql';

export const JobFieldsFragment = graphql(`
  fragment JobFields on Job {
    id
    status
    sampler
    prompt
    negativePrompt
    width
    height
    steps
    guidanceScale
    seed
    count
    step
    totalSteps
    progress
    queuePosition
    etaSeconds
    waitingFor
    createdAt
    startedAt
    completedAt
    executionProvider
    error {
      code
      message
    }
    owner {
      id
      displayName
      email
    }
    session {
      id
      name
    }
    model {
      id
      name
    }
    loras {
      loraId
      weight
      lora {
        id
        name
      }
    }
    images {
      id
      url
      width
      height
      seed
      index
      favorited
    }
    kind
    videoFrames
    videoFps
    video {
      url
      posterUrl
      mimeType
      durationSeconds
      fps
      frames
      width
      height
      bytes
    }
  }
`);

export const JobQuery = graphql(`
  query Job($id: ID!) {
    job(id: $id) {
      ...JobFields
    }
  }
`);

export const JobsQuery = graphql(`
  query Jobs($first: Int, $after: String, $sessionId: ID, $status: JobStatus) {
    jobs(first: $first, after: $after, sessionId: $sessionId, status: $status) {
      edges {
        cursor
        node {
          ...JobFields
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const CreateGenerationMutation = graphql(`
  mutation CreateGeneration($input: GenerationInput!, $idempotencyKey: String) {
    createGeneration(input: $input, idempotencyKey: $idempotencyKey) {
      ...JobFields
    }
  }
`);

export const CancelJobMutation = graphql(`
  mutation CancelJob($id: ID!) {
    cancelJob(id: $id) {
      id
      status
    }
  }
`);

export const RetryJobMutation = graphql(`
  mutation RetryJob($id: ID!) {
    retryJob(id: $id) {
      ...JobFields
    }
  }
`);

export const JobUpdatedSubscription = graphql(`
  subscription JobUpdated($jobId: ID!, $after: String) {
    jobUpdated(jobId: $jobId, after: $after) {
      eventId
      type
      at
      jobId
      step
      totalSteps
      progress
      preview
      imageIds
      queuePosition
      requeueReason
      etaSeconds
      error {
        code
        message
      }
    }
  }
`);

export const UsageQuery = graphql(`
  query Usage {
    usage {
      tier
      openJobs
      imagesToday
      imagesRemainingToday
      videoSecondsToday
      resetsAt
      limits {
        tier
        maxWidth
        maxHeight
        maxSteps
        maxCount
        maxLoras
        maxOpenJobs
        imagesPerDay
        videoSecondsPerDay
        maxVideoSeconds
        maxVideoFps
      }
    }
  }
`);

export const ModelsQuery = graphql(`
  query Models {
    models {
      id
      name
      description
      isDefault
      enabled
      minTier
      backend
      waitingForBackend
    }
  }
`);
