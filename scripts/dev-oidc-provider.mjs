// A local OpenID Connect provider for trying single sign-on (`npm run oidc:dev`;
// docs/single-sign-on.md, "Trying it locally"). Development only: the
// `oidc-provider` package (a devDependency, ESM-only, hence a .mjs script) with
// its built-in sign-in and consent pages, which take any name and password.
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_DEV_PORT ?? 4001);
// 127.0.0.1 rather than localhost: another site than the Atelier at localhost, as a real provider is.
const issuer = `http://127.0.0.1:${port}`;
const client = { id: 'atelier-dev', secret: 'atelier-dev-secret', name: 'Dev ID' };
// Where Atelier says its callback is: the same variables and default as Atelier's own config, plus the Vite dev server.
const atelierUrl = (process.env.ATELIER_PUBLIC_URL ?? `http://localhost:${process.env.PORT ?? 4000}`).replace(/\/$/, '');
const redirectUris = [...new Set([`${atelierUrl}/auth/oidc/callback`, 'http://localhost:5173/auth/oidc/callback'])];

/** Any login name is a person: `<name>@example.com`, verified unless the name starts with "unverified". */
function identity(login) {
  return {
    sub: login,
    email: `${login.toLowerCase()}@example.com`,
    email_verified: !login.startsWith('unverified'),
    name: login.charAt(0).toUpperCase() + login.slice(1),
  };
}

const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
const provider = new Provider(issuer, {
  clients: [{ client_id: client.id, client_secret: client.secret, redirect_uris: redirectUris }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => identity(sub) }),
  cookies: { keys: ['atelier-dev-oidc-cookie-key'] },
  jwks: { keys: [{ ...signingKey, use: 'sig', alg: 'RS256', kid: 'dev' }] },
});

const server = http.createServer(provider.callback());
server.listen(port, '127.0.0.1', () => {
  const env = `ATELIER_OIDC_ISSUER=${issuer} ATELIER_OIDC_CLIENT_ID=${client.id} ATELIER_OIDC_CLIENT_SECRET=${client.secret} ATELIER_OIDC_NAME="${client.name}"`;
  console.log(`Development OpenID provider at ${issuer}
  discovery:     ${issuer}/.well-known/openid-configuration
  client:        ${client.id} / ${client.secret}
  redirect URIs: ${redirectUris.join(', ')}

Start Atelier against it in another terminal:

  ${env} npm start

Then open ${atelierUrl}/signin and choose "Sign in with ${client.name}". Test accounts: any name
and any password; "alice" signs in as alice@example.com (verified email), a name starting
with "unverified" (e.g. unverified-bob) has an unverified email, which Atelier refuses.
Stop with Ctrl-C.`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
