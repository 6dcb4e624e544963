import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * .ci/audit.cjs runs the real `npm audit` against a stand-in registry whose
 * bulk advisory endpoint answers what each case needs, so the gate is checked
 * on npm's own report format.
 */
type Answer = { status: number; advisories?: Record<string, object[]> };
let answer: Answer = { status: 405 };
let server: Server;
let registry: string;

function advisory(severity: string): object[] {
  return [{ id: 1, url: 'https://advisories.test/1', title: `made-up ${severity} advisory`, severity, vulnerable_versions: '>=0.0.0', cwe: [], cvss: { score: 7.5, vectorString: null } }];
}

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume().on('end', () => {
      const bulk = req.method === 'POST' && req.url?.endsWith('/-/npm/v1/security/advisories/bulk');
      res.statusCode = bulk ? answer.status : 404;
      if (bulk && answer.advisories) res.setHeader('content-type', 'application/json');
      res.end(bulk && answer.advisories ? JSON.stringify(answer.advisories) : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise((resolve) => server?.close(resolve)));

/** Runs the gate with an empty npm cache: npm caches advisory answers. */
async function runGate(env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const cache = mkdtempSync(path.join(os.tmpdir(), 'atelier-npm-cache-'));
  const child = spawn(process.execPath, [path.resolve(__dirname, '../../.ci/audit.cjs')], {
    env: { ...process.env, npm_config_registry: registry, npm_config_cache: cache, ATELIER_AUDIT_REQUIRED: '', ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  rmSync(cache, { recursive: true, force: true });
  return { code, output };
}

describe('the npm audit CI gate', () => {
  it('fails on a high advisory against a production dependency, naming it', async () => {
    answer = { status: 200, advisories: { ws: advisory('high') } };
    const { code, output } = await runGate();
    expect(output).toContain('made-up high advisory');
    expect(output).toContain('2 production packages with a high or critical advisory'); // ws and graphql-ws, which needs it
    expect(code).toBe(1);
  });

  it('passes a moderate advisory, and a critical one against a dev-only dependency', async () => {
    answer = { status: 200, advisories: { ws: advisory('moderate'), vitest: advisory('critical') } };
    const { code, output } = await runGate();
    expect(output).toContain('no production package with a high or critical advisory (2 with lower ones)');
    expect(code).toBe(0);
  });

  it('says loudly that nothing was checked when the audit endpoint refuses, and passes unless required', async () => {
    answer = { status: 405 };
    const lenient = await runGate();
    expect(lenient.output).toContain("WARNING: the registry's audit endpoint did not answer (405");
    expect(lenient.output).toContain('NOT checked');
    expect(lenient.code).toBe(0);
    const required = await runGate({ ATELIER_AUDIT_REQUIRED: '1' });
    expect(required.output).toContain('failing (ATELIER_AUDIT_REQUIRED=1)');
    expect(required.code).toBe(1);
  });
});
