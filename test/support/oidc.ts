import { generateKeyPairSync } from 'node:crypto';
import type { Server } from 'node:http';
import Provider from 'oidc-provider';
import { freePort } from '../../src/redis/local-server';

/** What the test identity provider knows about a person. */
export interface TestIdentity {
  email: string;
  email_verified: boolean;
  name: string;
}

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Login name (typed on the provider's sign-in page) → identity; tests may add people. */
  identities: Map<string, TestIdentity>;
  /** Settings that point an Atelier at this provider. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** A port for the provider, chosen before Atelier starts so that Atelier's config can name the issuer. */
export async function providerIssuer(): Promise<string> {
  // 127.0.0.1, not localhost: the provider is another site than the Atelier under test, as in life.
  return `http://127.0.0.1:${await freePort()}`;
}

/**
 * A real OpenID Connect provider (oidc-provider) with one confidential client
 * whose redirect URI is the Atelier's callback. Its development interaction
 * pages take any login name (looked up in `identities`) and any password.
 */
export async function startTestProvider(issuer: string, redirectUri: string, identities: Record<string, TestIdentity>): Promise<TestProvider> {
  const people = new Map(Object.entries(identities));
  const clientId = 'atelier-test';
  const clientSecret = 'atelier-test-secret-0123456789';
  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri] }],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    findAccount: (_ctx: unknown, sub: string) => {
      const person = people.get(sub);
      return person ? { accountId: sub, claims: () => ({ sub, ...person }) } : undefined;
    },
    cookies: { keys: ['test-provider-cookie-key'] },
    jwks: { keys: [{ ...signingKey, use: 'sig', alg: 'RS256', kid: 'test' }] },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
  });
  const server: Server = await new Promise((resolve) => {
    const listening = provider.listen(Number(new URL(issuer).port), () => resolve(listening));
  });
  return {
    issuer, clientId, clientSecret, identities: people,
    env: { ATELIER_OIDC_ISSUER: issuer, ATELIER_OIDC_CLIENT_ID: clientId, ATELIER_OIDC_CLIENT_SECRET: clientSecret, ATELIER_OIDC_NAME: 'Test ID' },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Cookies per origin, enough for a redirect dance between two servers. */
class CookieJar {
  readonly byOrigin = new Map<string, Map<string, string>>();

  header(url: string): string {
    return [...(this.byOrigin.get(new URL(url).origin) ?? new Map<string, string>())].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  store(url: string, res: Response): void {
    const origin = new URL(url).origin;
    const cookies = this.byOrigin.get(origin) ?? new Map<string, string>();
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      const [name, value] = [pair.slice(0, at).trim(), pair.slice(at + 1)];
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') cookies.delete(name);
      else cookies.set(name, value);
    }
    this.byOrigin.set(origin, cookies);
  }
}

/** A scripted browser: follows redirects by hand, keeps cookies, fills the provider's forms. */
export class TestBrowser {
  readonly jar = new CookieJar();

  /** Another browser holding a copy of this one's cookies (what someone who captured a request would have). */
  copy(): TestBrowser {
    const other = new TestBrowser();
    for (const [origin, cookies] of this.jar.byOrigin) other.jar.byOrigin.set(origin, new Map(cookies));
    return other;
  }

  async get(url: string): Promise<Response> {
    return this.request(url, { method: 'GET' });
  }

  async request(url: string, init: RequestInit): Promise<Response> {
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: this.jar.header(url) } });
    this.jar.store(url, res);
    return res;
  }

  /**
   * From Atelier's start URL through the provider's sign-in and consent pages
   * (as `login`), up to the redirect back to Atelier; returns that callback
   * URL without visiting it. `cancel` presses the provider's Cancel instead.
   */
  async signInAtProvider(startUrl: string, login: string, options: { cancel?: boolean } = {}): Promise<string> {
    const callbackPrefix = new URL('/auth/oidc/callback', startUrl).href;
    let url = startUrl;
    let res = await this.get(url);
    for (let hop = 0; hop < 15; hop += 1) {
      if (res.status >= 300 && res.status < 400) {
        url = new URL(res.headers.get('location')!, url).href;
        if (url.startsWith(callbackPrefix)) return url;
        res = await this.get(url);
        continue;
      }
      const html = await res.text();
      if (res.status !== 200) throw new Error(`provider answered ${res.status}: ${html.slice(0, 300)}`);
      if (options.cancel) {
        res = await this.get(new URL(html.match(/href="([^"]*\/abort)"/)![1], url).href);
        continue;
      }
      const action = new URL(html.match(/action="([^"]+)"/)![1], url).href;
      const prompt = html.match(/name="prompt" value="(\w+)"/)![1];
      res = await this.request(action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ prompt, login, password: 'any password' }).toString(),
      });
    }
    throw new Error('too many redirects');
  }

  /** Delivers a callback URL to Atelier; returns the SPA landing's fragment (`code` and `next`, or `error`). */
  async land(callbackUrl: string): Promise<URLSearchParams> {
    const res = await this.get(callbackUrl);
    const location = res.headers.get('location') ?? '';
    if (res.status !== 303 || !location.includes('/signin/sso#')) throw new Error(`callback answered ${res.status} ${location}`);
    return new URLSearchParams(new URL(location).hash.slice(1));
  }
}
