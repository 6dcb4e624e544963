import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { OperationTypeNode, type GraphQLFormattedError } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { map } from 'rxjs';
import { SESSION_ENDED_EXTENSION } from './errors';
import { resumeLink } from './resume-link';

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
}

/** graphql-ws close codes for a credential the server no longer accepts (refused at connect, or expired or revoked later). */
const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_FORBIDDEN = 4403;

const isUnauthenticated = (error: GraphQLFormattedError) => error.extensions?.code === 'UNAUTHENTICATED';

interface PageOfEdges {
  edges?: { cursor?: string }[];
  pageInfo?: unknown;
}

/**
 * A batch's jobs, fetched a page at a time: a page after a cursor replaces
 * the edges that follow that cursor, the first page (no `after`) the first
 * edges, and the pages already fetched beyond it stay (a batch's jobs never
 * move: their cursors are their batch positions). A refetch of the first page
 * thus keeps the rest; pageInfo is the furthest page's.
 */
function mergeJobPages(existing: PageOfEdges | undefined, incoming: PageOfEdges, { args }: { args: Record<string, unknown> | null }): PageOfEdges {
  const had = existing?.edges ?? [];
  const added = incoming.edges ?? [];
  if (had.length === 0) return incoming;
  const after = typeof args?.after === 'string' ? args.after : null;
  let start = after ? had.findIndex((e) => e.cursor === after) + 1 : 0;
  // A cursor we do not hold: append what is new.
  if (after && start === 0) start = had.length;
  const end = start + added.length;
  const edges = [...had.slice(0, start), ...added, ...had.slice(end)];
  return { ...incoming, edges, pageInfo: end >= had.length ? incoming.pageInfo : existing?.pageInfo };
}

/**
 * Apollo Client with HTTP for queries and mutations and graphql-ws for
 * subscriptions; both carry `Bearer <token>` read at call time, so a token
 * change needs only a new WebSocket (done by building a new client on sign-in).
 * `onSessionEnded` runs when a request made with a token is refused for it.
 */
export function createApollo(getToken: () => string | null, onSessionEnded: () => void): AtelierApollo {
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
  ws.on('closed', (event) => {
    const code = (event as { code?: number } | null)?.code;
    if ((code === CLOSE_UNAUTHORIZED || code === CLOSE_FORBIDDEN) && getToken()) onSessionEnded();
  });
  const auth = new SetContextLink((prev) => {
    const token = getToken();
    return { headers: { ...prev.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } };
  });
  // UNAUTHENTICATED for a request that carried a token: the session ended (expired, revoked by a
  // password change). Marked so it reads as such; without a token (a wrong password) it is left alone.
  const sessions = new ApolloLink((operation, forward) => forward(operation).pipe(map((result) => {
    if (!result.errors?.some(isUnauthenticated) || !operation.getContext().headers?.authorization) return result;
    onSessionEnded();
    const errors = result.errors.map((e) => (isUnauthenticated(e) ? { ...e, extensions: { ...e.extensions, [SESSION_ENDED_EXTENSION]: true } } : e));
    return { ...result, errors };
  })));
  const http = ApolloLink.from([auth, sessions, new HttpLink({ uri: graphqlUrl('http') })]);
  const link = ApolloLink.split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === 'OperationDefinition' && definition.operation === OperationTypeNode.SUBSCRIPTION;
    },
    // A stream graphql-ws subscribes again after a dropped socket resumes after its last event (resume-link.ts).
    ApolloLink.from([resumeLink, new GraphQLWsLink(ws)]),
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
            // Fetched a page at a time (operations/batches.ts): one list, each page written over its own place.
            jobs: { keyArgs: false, merge: mergeJobPages },
          },
        },
        Query: { fields: { jobs: { keyArgs: ['sessionId', 'status'], merge: false } } },
      },
    }),
    defaultOptions: { watchQuery: { fetchPolicy: 'cache-and-network' } },
  });
  return { client, ws };
}
