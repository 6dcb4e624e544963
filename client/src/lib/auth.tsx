import { ApolloProvider, useQuery } from '@apollo/client/react';
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { ViewerFieldsFragment } from '../gql/graphql';
import { MeQuery } from '../operations/auth';
import { createApollo } from './apollo';

const TOKEN_KEY = 'atelier.token';

export interface AuthState {
  token: string | null;
  /** The signed-in user; undefined while loading, null when signed out. */
  viewer: ViewerFieldsFragment | null | undefined;
  /** True after the stored token stopped working (expired, revoked) until the next sign-in. */
  sessionEnded: boolean;
  signIn(token: string): void;
  signOut(): void;
}

const AuthContext = createContext<AuthState | null>(null);

/** The signed-in user and the sign-in/out actions. */
export function useAuth(): AuthState {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error('useAuth outside <AuthProvider>');
  return auth;
}

/**
 * Holds the token (localStorage, so a reload keeps you signed in) and one
 * Apollo Client per token: signing in or out builds a fresh client, which
 * drops the old cache and reconnects the WebSocket with the new credentials.
 */
export function AuthProvider({ children }: { children: ReactNode }) {
  const [token, setToken] = useState<string | null>(() => localStorage.getItem(TOKEN_KEY));
  const [sessionEnded, setSessionEnded] = useState(false);
  // The token now, for refusals that arrive late (a request of the client before the last sign-in).
  const current = useRef(token);
  const setSession = useCallback((next: string | null, ended: boolean) => {
    if (next) localStorage.setItem(TOKEN_KEY, next);
    else localStorage.removeItem(TOKEN_KEY);
    current.current = next;
    setToken(next);
    setSessionEnded(ended);
  }, []);
  const signIn = useCallback((next: string) => setSession(next, false), [setSession]);
  const signOut = useCallback(() => setSession(null, false), [setSession]);
  const apollo = useMemo(() => createApollo(() => token, () => {
    if (token && current.current === token) setSession(null, true);
  }), [token, setSession]);
  useEffect(() => () => void apollo.ws.dispose(), [apollo]);
  return (
    <ApolloProvider client={apollo.client}>
      <ViewerLoader token={token} sessionEnded={sessionEnded} signIn={signIn} signOut={signOut}>
        {children}
      </ViewerLoader>
    </ApolloProvider>
  );
}

function ViewerLoader({ token, sessionEnded, signIn, signOut, children }: Omit<AuthState, 'viewer'> & { children: ReactNode }) {
  const { data, loading } = useQuery(MeQuery, { skip: !token, fetchPolicy: 'cache-first' });
  const viewer = !token ? null : loading && !data ? undefined : (data?.me ?? null);
  const value = useMemo(() => ({ token, viewer, sessionEnded, signIn, signOut }), [token, viewer, sessionEnded, signIn, signOut]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
