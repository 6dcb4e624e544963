import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { ErrorLink } from '@apollo/client/link/error';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { CombinedGraphQLErrors } from '@apollo/client/errors';
import { getMainDefinition } from '@apollo/client/utilities';
import { OperationTypeNode } from 'graphql';
import { createClient, type Client } from 'graphql-ws';

/** Where the API lives: the same origin that served the SPA (Vite proxies it in dev). */
function graphqlUrl(protocol: 'http' | 'ws'): string {
  const { location } = window;
  const scheme = protocol === 'ws' ? (location.protocol === 'https:' ? 'wss:' : 'ws:') : location.protocol;
  return `${scheme}//${location.host}/graphql`;
}

export interface AtelierApollo {
  client: ApolloClient;
  /** The WebSocket client, closed on sign-out so the next one carries the new token. */
  ws: Client;
  /** Calls `listener` each time the WebSocket comes back after a drop; returns an unsubscribe. */
  onReconnect(listener: () => void): () => void;
}

/**
 * Apollo Client with HTTP for queries and mutations and graphql-ws for
 * subscriptions; both carry `Bearer <token>` read at call time, so a token
 * change needs only a new WebSocket (done by building a new client on sign-in).
 */
export function createApollo(getToken: () => string | null, onUnauthenticated: () => void): AtelierApollo {
  const ws = createClient({
    url: graphqlUrl('ws'),
    lazy: true,
    retryAttempts: Infinity,
    // Reconnect quickly at first, then back off (graphql-ws's default is similar but slower).
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** retries, 10_000))),
    shouldRetry: () => true,
    connectionParams: () => {
      const token = getToken();
      return token ? { authorization: `Bearer ${token}` } : {};
    },
  });
  const reconnectListeners = new Set<() => void>();
  ws.on('connected', (_socket, _payload, wasRetry) => {
    if (wasRetry) for (const listener of reconnectListeners) listener();
  });
  const auth = new SetContextLink((prev) => {
    const token = getToken();
    return { headers: { ...prev.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } };
  });
  const errors = new ErrorLink(({ error }) => {
    if (CombinedGraphQLErrors.is(error) && error.errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) onUnauthenticated();
  });
  const http = ApolloLink.from([errors, auth, new HttpLink({ uri: graphqlUrl('http') })]);
  const link = ApolloLink.split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === 'OperationDefinition' && definition.operation === OperationTypeNode.SUBSCRIPTION;
    },
    new GraphQLWsLink(ws),
    http,
  );
  const grows = (existing: number | undefined, incoming: number) => Math.max(existing ?? 0, incoming);
  const client = new ApolloClient({
    link,
    cache: new InMemoryCache({
      typePolicies: {
        // Session members and invites have no id of their own; they belong to their parent.
        SessionMember: { keyFields: false },
        Usage: { keyFields: [] },
        // A job only moves forward; a refetch that raced a live event must not pull the bar back.
        Job: {
          fields: {
            progress: { merge: grows },
            step: { merge: grows },
          },
        },
        // A batch's counts only grow and a final status stays (docs/batches.md): the same for its refetches.
        Batch: {
          fields: {
            completed: { merge: grows },
            failed: { merge: grows },
            cancelled: { merge: grows },
            progress: { merge: grows },
            status: { merge: (existing: string | undefined, incoming: string) => (existing && existing !== 'RUNNING' ? existing : incoming) },
          },
        },
        Query: { fields: { jobs: { keyArgs: ['sessionId', 'status'], merge: false } } },
      },
    }),
    defaultOptions: { watchQuery: { fetchPolicy: 'cache-and-network' } },
  });
  return {
    client,
    ws,
    onReconnect: (listener) => {
      reconnectListeners.add(listener);
      return () => void reconnectListeners.delete(listener);
    },
  };
}
