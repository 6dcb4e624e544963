import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { cors } from '../../src/server/cors';
import { securityHeaders } from '../../src/server/security-headers';
import { loadConfig } from '../../src/config';

const servers: import('node:http').Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

/** A bare Express app with the API's header middleware, as app.ts mounts it. */
async function serve(publicUrl: string, corsOrigins: string[] | '*'): Promise<string> {
  const app = express();
  app.use(...securityHeaders({ publicUrl, corsOrigins }), cors(corsOrigins));
  app.get('/{*any}', (_req, res) => res.send('ok'));
  const server = app.listen(0);
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('security headers', () => {
  it('send nosniff, no framing, no referrer and a CSP; no HSTS on http', async () => {
    const url = await serve('http://localhost:4000', ['http://localhost:4000']);
    const res = await fetch(`${url}/albums`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    expect(res.headers.get('strict-transport-security')).toBeNull();
    const csp = res.headers.get('content-security-policy');
    expect(csp).toBe("default-src 'self';script-src 'self';style-src 'self';img-src 'self' data:;font-src 'self';connect-src 'self';" +
      "object-src 'none';base-uri 'self';form-action 'self';frame-ancestors 'none'");
    // Apollo's landing page on /graphql carries its own CSP; the other headers still apply.
    const graphql = await fetch(`${url}/graphql`);
    expect(graphql.headers.get('content-security-policy')).toBeNull();
    expect(graphql.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('send HSTS and upgrade-insecure-requests only when the public URL is https', async () => {
    const url = await serve('https://atelier.example.com', ['https://atelier.example.com']);
    const res = await fetch(url);
    expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    expect(res.headers.get('content-security-policy')).toMatch(/upgrade-insecure-requests$/);
  });

  it('let resources be read cross-origin only when CORS lets other origins in', async () => {
    const open = await serve('http://localhost:4000', '*');
    expect((await fetch(open)).headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    const listed = await serve('http://localhost:4000', ['http://localhost:4000', 'https://studio.example.com']);
    expect((await fetch(listed)).headers.get('cross-origin-resource-policy')).toBe('cross-origin');
  });
});

describe('CORS', () => {
  it('allows only the service’s own origin by default', async () => {
    const config = loadConfig({ ATELIER_DATA_DIR: '/tmp/atelier-config-test', JWT_SECRET: 'x'.repeat(40), ATELIER_PUBLIC_URL: 'https://atelier.example.com/' });
    expect(config.corsOrigins).toEqual(['https://atelier.example.com']);
    const url = await serve(config.publicUrl, config.corsOrigins);
    const preflight = (origin: string) => fetch(`${url}/graphql`, {
      method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect((await preflight('https://evil.example.net')).headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight('https://atelier.example.com')).headers.get('access-control-allow-origin')).toBe('https://atelier.example.com');
  });
});
