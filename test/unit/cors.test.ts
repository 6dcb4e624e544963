import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cors } from '../../src/server/cors';

// The CORS middleware as ATELIER_CORS_ORIGINS configures it: any origin, or a list.
const servers: Server[] = [];

async function serve(origins: string[] | '*'): Promise<string> {
  const app = express();
  app.use(cors(origins));
  app.post('/graphql', (_req, res) => void res.json({ ok: true }));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

const preflight = (url: string, origin: string) => fetch(url, {
  method: 'OPTIONS',
  headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
});
const post = (url: string, origin: string) => fetch(url, { method: 'POST', headers: { origin } });
const list = (header: string | null) => header?.split(/,\s*/);

let anyOrigin: string;
let listed: string;
beforeAll(async () => {
  anyOrigin = await serve('*');
  listed = await serve(['https://a.example.com', 'http://localhost:5173']);
});
afterAll(() => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))));

describe('CORS', () => {
  it('by default answers any origin with *, the allowed methods and headers, and exposes the request id', async () => {
    const res = await preflight(anyOrigin, 'https://studio.example.com');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(list(res.headers.get('access-control-allow-methods'))).toEqual(['GET', 'POST', 'DELETE', 'OPTIONS']);
    expect(list(res.headers.get('access-control-allow-headers'))).toEqual(['Authorization', 'Content-Type', 'X-Request-ID', 'Apollo-Require-Preflight', 'Traceparent']);
    expect(res.headers.get('access-control-max-age')).toBe('600');
    const simple = await post(anyOrigin, 'https://studio.example.com');
    expect(simple.headers.get('access-control-allow-origin')).toBe('*');
    expect(simple.headers.get('access-control-expose-headers')).toBe('X-Request-ID');
  });

  it('with a list, echoes a listed origin (Vary: Origin) and gives any other none', async () => {
    const res = await preflight(listed, 'http://localhost:5173');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(res.headers.get('vary')).toMatch(/Origin/);
    expect((await post(listed, 'https://a.example.com')).headers.get('access-control-allow-origin')).toBe('https://a.example.com');
    expect((await preflight(listed, 'https://evil.example.com')).headers.get('access-control-allow-origin')).toBeNull();
    const other = await post(listed, 'https://evil.example.com');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(await other.json()).toEqual({ ok: true });
  });
});
