import { ApolloLink } from '@apollo/client';
import { getMainDefinition } from '@apollo/client/utilities';
import { OperationTypeNode } from 'graphql';
import { tap } from 'rxjs';

/** Whether `operation` is a subscription that declares an `after` variable (a resumable stream). */
function takesAfter(operation: ApolloLink.Operation): boolean {
  const definition = getMainDefinition(operation.query);
  return definition.kind === 'OperationDefinition' && definition.operation === OperationTypeNode.SUBSCRIPTION
    && (definition.variableDefinitions ?? []).some((v) => v.variable.name.value === 'after');
}

/** The eventId of a delivered event: the root field's `eventId`, as every resumable stream has it. */
function eventIdOf(data: unknown): string | null {
  const root = data && typeof data === 'object' ? Object.values(data)[0] : null;
  const eventId = root && typeof root === 'object' ? (root as { eventId?: unknown }).eventId : null;
  return typeof eventId === 'string' ? eventId : null;
}

/**
 * Lets graphql-ws's own retry pick a stream up where it stopped. After a
 * dropped WebSocket, graphql-ws subscribes again on the next one with the
 * payload it was first given (it serialises that payload again for each
 * try). For a stream that takes `after` (`jobUpdated`, `batchUpdated`,
 * `trainingUpdated`, `sessionEvents`), this link makes the payload's `after`
 * read, when it is sent, the eventId of the last event the operation
 * delivered (or the `after` it started with, before any): the retry asks
 * only for what the page missed, never for the stream again from its first
 * event (docs/errors.md, "Subscriptions"). Goes before GraphQLWsLink.
 */
export const resumeLink = new ApolloLink((operation, forward) => {
  if (!takesAfter(operation)) return forward(operation);
  const startedAfter = (operation.variables.after as string | null | undefined) ?? null;
  let last: string | null = null;
  const variables = { ...operation.variables };
  Object.defineProperty(variables, 'after', { enumerable: true, get: () => last ?? startedAfter });
  operation.variables = variables;
  return forward(operation).pipe(tap((result) => {
    last = eventIdOf(result.data) ?? last;
  }));
});
