import { useQuery } from '@apollo/client/react';
import { AuthProvidersQuery } from '../operations/auth';

/** "Sign in with <provider>" for each single sign-on provider the server offers; nothing when there is none. */
export function SignInProviders({ next }: { next: string }) {
  const { data } = useQuery(AuthProvidersQuery, { fetchPolicy: 'cache-first' });
  const providers = data?.authProviders ?? [];
  if (providers.length === 0) return null;
  const suffix = next !== '/' ? `?next=${encodeURIComponent(next)}` : '';
  return (
    <div className="sign-in-providers">
      <p className="divider muted">or</p>
      {providers.map((provider) => (
        // A full page load: the provider's sign-in page is another site.
        <a key={provider.id} className="button wide" href={`${provider.startUrl}${suffix}`}>
          Sign in with {provider.name}
        </a>
      ))}
    </div>
  );
}
