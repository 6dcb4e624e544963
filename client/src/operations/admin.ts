import { graphql } from '../gql';

export const AdminUsersQuery = graphql(`
  query AdminUsers($first: Int!, $offset: Int!) {
    users(first: $first, offset: $offset) {
      id
      email
      displayName
      role
      tier
      createdAt
    }
  }
`);

export const SetUserTierMutation = graphql(`
  mutation SetUserTier($userId: ID!, $tier: Tier!) {
    setUserTier(userId: $userId, tier: $tier) {
      id
      tier
    }
  }
`);

export const SetUserRoleMutation = graphql(`
  mutation SetUserRole($userId: ID!, $role: Role!) {
    setUserRole(userId: $userId, role: $role) {
      id
      role
    }
  }
`);

export const SystemStatsQuery = graphql(`
  query SystemStats($windowHours: Int, $errorLimit: Int) {
    systemStats(windowHours: $windowHours, errorLimit: $errorLimit) {
      startedAt
      uptimeSeconds
      windowHours
      queue {
        waiting
        active
        delayed
        failed
      }
      jobsByStatus {
        status
        count
      }
      generationTime {
        completedJobs
        averageSeconds
        p50Seconds
        p95Seconds
        averageQueueWaitSeconds
      }
      workers {
        id
        hostname
        pid
        activeJobs
        concurrency
        executionProvider
        loadedModels
        lastSeenAt
      }
      recentErrors {
        at
        code
        message
        source
        operation
        jobId
      }
      usage {
        imagesGenerated
      }
    }
  }
`);

export const AuditEventsQuery = graphql(`
  query AuditEvents($filter: AuditEventFilter, $first: Int, $after: String) {
    auditEvents(filter: $filter, first: $first, after: $after) {
      edges {
        cursor
        node {
          id
          at
          kind
          address
          userAgent
          reason
          details
          actor {
            id
            email
            displayName
          }
          targetUser {
            id
            email
            displayName
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);
