import { graphql } from '../gql';

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
    axes {
      rowLabels
      columnLabels
    }
    grid {
      url
      width
      height
    }
    jobs(first: 100) {
      edges {
        node {
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
      }
    }
  }
`);

export const BatchQuery = graphql(`
  query Batch($id: ID!) {
    batch(id: $id) {
      ...BatchFields
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
      ...BatchFields
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
  subscription BatchUpdated($batchId: ID!) {
    batchUpdated(batchId: $batchId) {
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
