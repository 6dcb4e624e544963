import { graphql } from '../gql';

export const SessionFieldsFragment = graphql(`
  fragment SessionFields on Session {
    id
    name
    status
    myRole
    createdAt
    lastActivityAt
    onlineUserIds
    owner {
      id
      displayName
      email
    }
    members {
      role
      joinedAt
      user {
        id
        displayName
        email
      }
    }
  }
`);

export const SessionsQuery = graphql(`
  query Sessions {
    sessions {
      ...SessionFields
    }
  }
`);

export const SessionQuery = graphql(`
  query Session($id: ID!) {
    session(id: $id) {
      ...SessionFields
      lastEventId
    }
  }
`);

export const CreateSessionMutation = graphql(`
  mutation CreateSession($name: String!) {
    createSession(name: $name) {
      ...SessionFields
    }
  }
`);

export const CreateSessionInviteMutation = graphql(`
  mutation CreateSessionInvite($sessionId: ID!, $role: SessionRole!, $maxUses: Int, $expiresInSeconds: Int) {
    createSessionInvite(sessionId: $sessionId, role: $role, maxUses: $maxUses, expiresInSeconds: $expiresInSeconds) {
      token
      invite {
        id
        role
        expiresAt
        maxUses
        uses
      }
    }
  }
`);

export const JoinSessionMutation = graphql(`
  mutation JoinSession($token: String!) {
    joinSession(token: $token) {
      ...SessionFields
    }
  }
`);

export const LeaveSessionMutation = graphql(`
  mutation LeaveSession($sessionId: ID!) {
    leaveSession(sessionId: $sessionId)
  }
`);

export const RemoveSessionMemberMutation = graphql(`
  mutation RemoveSessionMember($sessionId: ID!, $userId: ID!) {
    removeSessionMember(sessionId: $sessionId, userId: $userId) {
      ...SessionFields
    }
  }
`);

export const SessionEventsSubscription = graphql(`
  subscription SessionEvents($sessionId: ID!, $after: String) {
    sessionEvents(sessionId: $sessionId, after: $after) {
      eventId
      type
      at
      sessionId
      jobId
      actorId
      step
      totalSteps
      progress
      queuePosition
      requeueReason
      etaSeconds
      onlineUserIds
      batchId
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
