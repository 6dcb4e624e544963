import { graphql } from '../gql';

/**
 * What a batch page shows of the batch itself. Its jobs are fetched in pages
 * (BatchQuery's `$first`, `BATCH_JOBS_PAGE`): every operation of the client has
 * to fit the smallest tier's query cost budget (FREE: 5000), and a job with its
 * images costs about 60, so a batch of 100 at once does not.
 */
export const BatchFieldsFragment = graphql(`
  fragment BatchFields on Batch {
    id
    name
    kind
    total
    completed
    failed
    cancelled
    progress
    status
    createdAt
    completedAt
    owner {
      id
    }
    session {
      id
      myRole
    }
    axes {
      rowLabels
      columnLabels
    }
    grid {
      url
      width
      height
    }
  }
`);

export const BatchJobFieldsFragment = graphql(`
  fragment BatchJobFields on Job {
    id
    status
    prompt
    seed
    steps
    guidanceScale
    batchIndex
    images {
      id
      url
      width
      height
    }
  }
`);

/** Jobs per page of BatchQuery: about 25 × 63 of FREE's budget of 5000 (src/schema/query-cost.ts). */
export const BATCH_JOBS_PAGE = 25;

export const BatchQuery = graphql(`
  query Batch($id: ID!, $first: Int!, $after: String) {
    batch(id: $id) {
      ...BatchFields
      jobs(first: $first, after: $after) {
        edges {
          cursor
          node {
            ...BatchJobFields
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

export const BatchesQuery = graphql(`
  query Batches($first: Int, $after: String) {
    batches(first: $first, after: $after) {
      edges {
        cursor
        node {
          id
          name
          kind
          total
          progress
          status
          createdAt
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const CreateBatchMutation = graphql(`
  mutation CreateBatch($input: BatchInput!, $idempotencyKey: String) {
    createBatch(input: $input, idempotencyKey: $idempotencyKey) {
      id
      name
      total
      status
    }
  }
`);

export const CancelBatchMutation = graphql(`
  mutation CancelBatch($id: ID!) {
    cancelBatch(id: $id) {
      id
      status
      cancelled
      progress
    }
  }
`);

export const BatchUpdatedSubscription = graphql(`
  subscription BatchUpdated($batchId: ID!, $after: String) {
    batchUpdated(batchId: $batchId, after: $after) {
      eventId
      type
      jobId
      preview
      counts {
        total
        completed
        failed
        cancelled
        progress
        status
      }
    }
  }
`);
