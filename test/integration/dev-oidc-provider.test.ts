import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/redis/local-server';
import { startTestApp, type TestApp } from '../support/app';
import { gqlData } from '../support/graphql';
import { TestBrowser } from '../support/oidc';

// `npm run oidc:dev` as docs/single-sign-on.md ("Trying it locally") tells a new user to run it:
// the script starts, serves its discovery document, and the settings it prints sign a person in.
const SCRIPT = path.resolve(__dirname, '../../scripts/dev-oidc-provider.mjs');
let script: ChildProcess;
let printed = '';
let app: TestApp | undefined;

/** Starts the script as `npm run oidc:dev` does; resolves with what it printed once it is listening. */
function startScript(env: Record<string, string>): Promise<string> {
  script = spawn(process.execPath, [SCRIPT], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the dev provider did not start:\n${printed}`)), 20_000);
    const read = (chunk: Buffer) => {
      printed += chunk.toString();
      if (printed.includes('Stop with Ctrl-C')) {
        clearTimeout(timer);
        resolve(printed);
      }
    };
    script.stdout!.on('data', read);
    script.stderr!.on('data', read);
    script.once('exit', (code) => reject(new Error(`the dev provider exited with ${code}:\n${printed}`)));
  });
}

/** The ATELIER_OIDC_* settings from the printed `… npm start` line. */
function printedSettings(output: string): Record<string, string> {
  const line = output.split('\n').find((l) => l.trim().endsWith('npm start')) ?? '';
  return Object.fromEntries([...line.matchAll(/(ATELIER_OIDC_\w+)=("[^"]*"|\S+)/g)].map(([, name, value]) => [name, value.replace(/^"|"$/g, '')]));
}

let providerPort: number;
let atelierPort: number;

beforeAll(async () => {
  [providerPort, atelierPort] = [await freePort(), await freePort()];
  // PORT is Atelier's own variable: the script registers the callback of an Atelier on that port.
  await startScript({ OIDC_DEV_PORT: String(providerPort), PORT: String(atelierPort) });
}, 30_000);
afterAll(async () => {
  await app?.close();
  if (script && script.exitCode === null) {
    const exited = new Promise((resolve) => script.once('exit', resolve));
    script.kill('SIGTERM');
    await exited;
  }
});

describe('npm run oidc:dev', () => {
  it('serves its discovery document and prints settings that match it', async () => {
    const issuer = `http://127.0.0.1:${providerPort}`;
    const discovery = await fetch(`${issuer}/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    const document = await discovery.json() as Record<string, unknown>;
    expect(document).toMatchObject({ issuer, code_challenge_methods_supported: ['S256'] });
    expect(document.authorization_endpoint).toBe(`${issuer}/auth`);
    expect(printedSettings(printed)).toEqual({
      ATELIER_OIDC_ISSUER: issuer, ATELIER_OIDC_CLIENT_ID: 'atelier-dev', ATELIER_OIDC_CLIENT_SECRET: 'atelier-dev-secret', ATELIER_OIDC_NAME: 'Dev ID',
    });
    expect(printed).toContain(`http://localhost:${atelierPort}/auth/oidc/callback`);
  });

  it('an Atelier started with the printed settings signs "alice" in, and refuses an unverified email', async () => {
    app = await startTestApp({ ATELIER_ROLE: 'api', PORT: String(atelierPort), ...printedSettings(printed) });
    const startUrl = `http://localhost:${atelierPort}/auth/oidc/start`;
    expect((await gqlData<any>(app.url, '{ authProviders { name startUrl } }')).authProviders).toEqual([{ name: 'Dev ID', startUrl }]);

    const browser = new TestBrowser();
    const landing = await browser.land(await browser.signInAtProvider(startUrl, 'alice'));
    expect(landing.get('error')).toBeNull();
    const signedIn = await gqlData<any>(app.url, 'mutation($c: String!) { completeSignIn(code: $c) { token user { email tier } } }', { c: landing.get('code') });
    expect(signedIn.completeSignIn.user).toEqual({ email: 'alice@example.com', tier: 'FREE' });

    const refused = new TestBrowser();
    expect((await refused.land(await refused.signInAtProvider(startUrl, 'unverified-bob'))).get('error')).toBe('email_unverified');
  });
});
