import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { launchChromium } from './browser';

// Two other web origins, as a third-party SPA would be: one on the allowlist, one not.
let app: TestApp;
let browser: Browser;
const origins: http.Server[] = [];

async function serveOrigin(): Promise<string> {
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>another app</title>'));
  origins.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let allowed: string;
let foreign: string;
beforeAll(async () => {
  [allowed, foreign] = [await serveOrigin(), await serveOrigin()];
  app = await startTestApp({ ATELIER_ROLE: 'api', ATELIER_CORS_ORIGINS: allowed });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
  for (const server of origins) server.close();
});

/** Runs fetch() to the API from a page of `origin`, as that origin's scripts would. */
async function fetchFrom(origin: string): Promise<string> {
  const page = await browser.newPage();
  try {
    await page.goto(origin);
    return await page.evaluate(async (api) => {
      try {
        const res = await fetch(`${api}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
        return JSON.stringify(await res.json());
      } catch (error) {
        return `refused: ${(error as Error).message}`;
      }
    }, app.url);
  } finally {
    await page.close();
  }
}

describe('CORS allowlist in a real browser', () => {
  it('lets an allowed origin call the API and refuses any other', async () => {
    expect(await fetchFrom(allowed)).toBe('{"data":{"__typename":"Query"}}');
    expect(await fetchFrom(foreign)).toMatch(/^refused: Failed to fetch/);
  });
});
