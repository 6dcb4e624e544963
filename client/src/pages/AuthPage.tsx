import { useMutation } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { Link, Navigate, useSearchParams } from 'react-router';
import { ErrorNotice } from '../components/Notice';
import { SignInProviders } from '../components/SignInProviders';
import { useAuth } from '../lib/auth';
import { explainError, SESSION_ENDED } from '../lib/errors';
import { LoginMutation, RegisterMutation } from '../operations/auth';

/** Sign up and sign in: one form, two modes; returns to `?next=` afterwards. */
export function AuthPage({ mode }: { mode: 'signin' | 'signup' }) {
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

  if (viewer) return <Navigate to={next} replace />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
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
  const fieldError = (field: string) => (problem?.field === field ? problem.message : null);
  return (
    <section className="auth card narrow" aria-labelledby="auth-title">
      <h1 id="auth-title">{mode === 'signup' ? 'Create your Atelier account' : 'Sign in to Atelier'}</h1>
      <p className="muted">
        {mode === 'signup' ? 'Generate images, watch them form step by step, and share sessions with your team.' : 'Welcome back.'}
      </p>
      {mode === 'signin' && sessionEnded && !state.error && <p className="notice info" role="status" id="session-ended">{SESSION_ENDED}</p>}
      <form onSubmit={submit} noValidate>
        {mode === 'signup' && (
          <div className="field">
            <label htmlFor="displayName">Display name <span className="muted">(optional, shown to teammates)</span></label>
            <input id="displayName" name="displayName" autoComplete="nickname" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
          </div>
        )}
        <div className="field">
          <label htmlFor="email">Email</label>
          <input id="email" name="email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)}
            aria-invalid={Boolean(fieldError('email'))} aria-describedby={fieldError('email') ? 'email-error' : undefined} />
          {fieldError('email') && <p id="email-error" className="field-error">{fieldError('email')}</p>}
        </div>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input id="password" name="password" type="password" required minLength={mode === 'signup' ? 8 : undefined}
            autoComplete={mode === 'signup' ? 'new-password' : 'current-password'} value={password} onChange={(e) => setPassword(e.target.value)}
            aria-invalid={Boolean(fieldError('password'))} aria-describedby={mode === 'signup' ? 'password-hint' : undefined} />
          {mode === 'signup' && <p id="password-hint" className="hint">At least 8 characters.</p>}
          {fieldError('password') && <p className="field-error">{fieldError('password')}</p>}
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
