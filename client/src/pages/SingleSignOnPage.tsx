import { CombinedGraphQLErrors } from '@apollo/client/errors';
import { useMutation, useQuery } from '@apollo/client/react';
import { useEffect, useRef, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useAuth } from '../lib/auth';
import { AuthProvidersQuery, CompleteSignInMutation } from '../operations/auth';

/** The reasons the server's callback can land with (docs/single-sign-on.md), worded for people. */
function refusalMessage(reason: string, provider: string): string {
  switch (reason) {
    case 'email_unverified':
      return `Your email address at ${provider} is not verified. Verify it there, then sign in again.`;
    case 'email_missing':
      return `${provider} did not share an email address with Atelier, so no account can be matched.`;
    case 'invalid_state':
      return 'This sign-in expired or was started in another browser. Start again from the sign-in page.';
    case 'code_rejected':
      return 'This sign-in link expired or was already used. Start again from the sign-in page.';
    case 'offline':
      return 'Cannot reach the Atelier server. Check your connection and try again.';
    case 'provider_refused':
      return `${provider} did not complete the sign-in. Try again.`;
    case 'rate_limited':
      return 'Too many sign-in attempts from your network. Wait a minute, then try again.';
    default:
      return `${provider} cannot be reached right now. Try again later, or sign in with your password.`;
  }
}

/** Reads and then erases the fragment, so the one-time code never stays in history. */
function takeFragment(): URLSearchParams {
  const params = new URLSearchParams(window.location.hash.slice(1));
  window.history.replaceState(null, '', window.location.pathname);
  return params;
}

/** Where single sign-on lands (`/signin/sso#code=…&next=…` or `#error=<reason>`): redeems the code, then moves on. */
export function SingleSignOnPage() {
  const { signIn } = useAuth();
  const navigate = useNavigate();
  const [complete] = useMutation(CompleteSignInMutation);
  const { data, loading } = useQuery(AuthProvidersQuery, { fetchPolicy: 'cache-first' });
  // After the provider's redirect the cache is empty: a refusal waits for the provider's name (a generic one if that fails).
  const provider = data?.authProviders[0]?.name ?? 'Your sign-in provider';
  const [problem, setProblem] = useState<string | null>(null);
  // A code works once: React may run effects twice in development, the redemption must not.
  const started = useRef(false);

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    const params = takeFragment();
    const code = params.get('code');
    const next = params.get('next')?.startsWith('/') ? params.get('next')! : '/';
    if (!code) {
      setProblem(params.get('error') ?? 'unavailable');
      return;
    }
    complete({ variables: { code } })
      .then(({ data: result }) => {
        if (!result) throw new Error('no result');
        signIn(result.completeSignIn.token);
        navigate(next, { replace: true });
      })
      .catch((error: unknown) => setProblem(CombinedGraphQLErrors.is(error) ? 'code_rejected' : 'offline'));
  }, [complete, navigate, signIn]);

  return (
    <section className="auth card narrow" aria-labelledby="sso-title">
      <h1 id="sso-title">{problem && !loading ? 'Sign-in did not work' : 'Signing you in…'}</h1>
      {problem && !loading ? (
        <>
          <div className="notice error" role="alert">{refusalMessage(problem, provider)}</div>
          <p><Link to="/signin">Back to sign in</Link></p>
        </>
      ) : (
        <p className="loading" role="status">Finishing the sign-in…</p>
      )}
    </section>
  );
}
