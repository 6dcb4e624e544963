import { useMutation } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { Link, Navigate, useSearchParams } from 'react-router';
import { describedBy, firstInvalid, focusField } from '../components/FormField';
import { ErrorNotice } from '../components/Notice';
import { SignInProviders } from '../components/SignInProviders';
import { useAuth } from '../lib/auth';
import { explainError, SESSION_ENDED } from '../lib/errors';
import { ACCOUNT_LIMITS as A, EMAIL_PATTERN } from '../lib/limits';
import { LoginMutation, RegisterMutation } from '../operations/auth';

type Mode = 'signin' | 'signup';

/** The form's fields in its order: the first with a message is focused. */
const FIELDS = ['displayName', 'email', 'password'] as const;
type Field = (typeof FIELDS)[number];

/**
 * The server's rules for an account (src/services/auth.ts), checked before
 * anything is sent: a message for each bad field. Signing in needs an
 * address and a password; whether they match is the server's to say.
 */
function check(mode: Mode, { email, password, displayName }: Record<Field, string>): Partial<Record<Field, string>> {
  const problems: Partial<Record<Field, string>> = {};
  const name = displayName.trim();
  if (mode === 'signup' && name.length > A.displayNameChars) {
    problems.displayName = `Use at most ${A.displayNameChars} characters for your display name (this has ${name.length}).`;
  }
  const address = email.trim();
  if (!address) problems.email = 'Enter your email address.';
  else if (address.length > A.emailChars || !EMAIL_PATTERN.test(address)) problems.email = 'Enter a valid email address, like name@example.com.';
  if (mode === 'signin') {
    if (!password) problems.password = 'Enter your password.';
  } else if (password.length < A.passwordMinChars) {
    problems.password = password ? `Use at least ${A.passwordMinChars} characters (this has ${password.length}).` : `Choose a password of at least ${A.passwordMinChars} characters.`;
  } else if (password.length > A.passwordMaxChars) {
    problems.password = `Use at most ${A.passwordMaxChars} characters (this has ${password.length}).`;
  }
  return problems;
}

/**
 * Sign up and sign in: one form, two modes; returns to `?next=` afterwards.
 * Every field is checked first, each bad one flagged at once and the first
 * focused; nothing is sent until all are right.
 */
export function AuthPage({ mode }: { mode: Mode }) {
  const { viewer, sessionEnded, signIn } = useAuth();
  const [params] = useSearchParams();
  const next = params.get('next')?.startsWith('/') ? params.get('next')! : '/';
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [register, registerState] = useMutation(RegisterMutation);
  const [login, loginState] = useMutation(LoginMutation);
  const state = mode === 'signup' ? registerState : loginState;
  const problem = explainError(state.error);
  // Both routes render this one component: messages found in one mode are not shown in the other.
  const [checked, setChecked] = useState<{ mode: Mode; problems: Partial<Record<Field, string>> }>({ mode, problems: {} });

  if (viewer) return <Navigate to={next} replace />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problems = check(mode, { email, password, displayName });
    setChecked({ mode, problems });
    const first = firstInvalid(FIELDS, problems);
    if (first) {
      state.reset(); // the server's last refusal is about values no longer there
      focusField(first);
      return;
    }
    try {
      const token = mode === 'signup'
        ? (await register({ variables: { email, password, displayName: displayName.trim() || null } })).data?.register.token
        : (await login({ variables: { email, password } })).data?.login.token;
      if (token) signIn(token);
    } catch {
      // Shown from state.error below.
    }
  };
  const other = mode === 'signup' ? 'signin' : 'signup';
  const fieldError = (field: Field): string | undefined =>
    (checked.mode === mode ? checked.problems[field] : undefined) ?? (problem?.field === field ? problem.message : undefined);
  const errorText = (field: Field) => fieldError(field) && <p id={`${field}-error`} className="field-error" role="status">{fieldError(field)}</p>;
  return (
    <section className="auth card narrow" aria-labelledby="auth-title">
      <h1 id="auth-title">{mode === 'signup' ? 'Create your Atelier account' : 'Sign in to Atelier'}</h1>
      <p className="muted">
        {mode === 'signup' ? 'Generate images, watch them form step by step, and share sessions with your team.' : 'Welcome back.'}
      </p>
      {mode === 'signin' && sessionEnded && !state.error && <p className="notice info" role="status" id="session-ended">{SESSION_ENDED}</p>}
      <form onSubmit={submit} noValidate>
        {mode === 'signup' && (
          <div className={`field${fieldError('displayName') ? ' invalid' : ''}`}>
            <label htmlFor="displayName">Display name <span className="muted">(optional, shown to teammates)</span></label>
            <input id="displayName" name="displayName" autoComplete="nickname" value={displayName} onChange={(e) => setDisplayName(e.target.value)}
              aria-invalid={Boolean(fieldError('displayName'))} aria-describedby={describedBy('displayName', undefined, fieldError('displayName'))} />
            {errorText('displayName')}
          </div>
        )}
        <div className={`field${fieldError('email') ? ' invalid' : ''}`}>
          <label htmlFor="email">Email</label>
          <input id="email" name="email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)}
            aria-invalid={Boolean(fieldError('email'))} aria-describedby={describedBy('email', undefined, fieldError('email'))} />
          {errorText('email')}
        </div>
        <div className={`field${fieldError('password') ? ' invalid' : ''}`}>
          <label htmlFor="password">Password</label>
          <input id="password" name="password" type="password" required minLength={mode === 'signup' ? A.passwordMinChars : undefined}
            autoComplete={mode === 'signup' ? 'new-password' : 'current-password'} value={password} onChange={(e) => setPassword(e.target.value)}
            aria-invalid={Boolean(fieldError('password'))} aria-describedby={describedBy('password', mode === 'signup' ? 'hint' : undefined, fieldError('password'))} />
          {mode === 'signup' && <p id="password-hint" className="hint">At least {A.passwordMinChars} characters.</p>}
          {errorText('password')}
        </div>
        {problem && !problem.field && <ErrorNotice error={state.error} />}
        <button type="submit" className="button primary wide" disabled={state.loading}>
          {state.loading ? 'Please wait…' : mode === 'signup' ? 'Create account' : 'Sign in'}
        </button>
      </form>
      <SignInProviders next={next} />
      <p className="muted">
        {mode === 'signup' ? 'Already have an account? ' : 'New to Atelier? '}
        <Link to={`/${other}${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`}>{mode === 'signup' ? 'Sign in' : 'Create an account'}</Link>
      </p>
    </section>
  );
}
