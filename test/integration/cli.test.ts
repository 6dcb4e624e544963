import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/cli/exit-codes';
import { startTestApp, type TestApp } from '../support/app';
import { gqlData, signUp, waitFor } from '../support/graphql';
import { runCli, type CliRun } from '../support/cli';

/** The built binary (`npm test` builds dist/ first), run as a user would. */
const CLI = path.resolve(__dirname, '../../dist/src/cli/main.js');
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let app: TestApp;
let scratch: string;
let configDir: string;
let token: string;

type Run = CliRun;

/** Runs `atelier …` against the test app with its own config folder. */
function atelier(args: string[], env: Record<string, string> = {}, input?: string): Promise<Run> {
  return runCli(args, { HOME: scratch, ATELIER_CONFIG_DIR: configDir, ATELIER_URL: app.url, ...env }, input);
}

const json = (run: Run): any => {
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout);
};

beforeAll(async () => {
  app = await startTestApp();
  scratch = mkdtempSync(path.join(os.tmpdir(), 'atelier-cli-'));
  configDir = path.join(scratch, 'config');
});
afterAll(async () => {
  await app?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('atelier CLI (the built binary)', () => {
  it('refuses a signed-out call with the UNAUTHENTICATED exit code', async () => {
    const run = await atelier(['jobs']);
    expect(run.code).toBe(EXIT_CODES.UNAUTHENTICATED);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('UNAUTHENTICATED');
  });

  it('logs in with email and password and stores the credential readable by its owner only', async () => {
    const user = await signUp(app.url, 'cli');
    const run = await atelier(['login', '--email', user.email, '--password', 'correct horse battery']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`as ${user.email}`);
    const file = path.join(configDir, 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    expect(stored).toMatchObject({ url: app.url, credential: { kind: 'token', email: user.email } });
    expect(stored.credential.value).toMatch(/^ey/);
    token = stored.credential.value;

    const wrong = await atelier(['login', '--email', user.email, '--password', 'not the password']);
    expect(wrong.code).toBe(EXIT_CODES.UNAUTHENTICATED);
  });

  it('asks for email and password, reading both lines from piped stdin', async () => {
    const user = await signUp(app.url, 'cli-asked');
    const asked = await atelier(['login'], { ATELIER_CONFIG_DIR: path.join(scratch, 'asked') }, `${user.email}\ncorrect horse battery\n`);
    expect(asked.code, asked.stderr).toBe(0);
    expect(asked.stderr).toContain('Password:');
    expect(asked.stderr).not.toContain('correct horse battery');
    expect(JSON.parse(readFileSync(path.join(scratch, 'asked', 'config.json'), 'utf8')).credential.email).toBe(user.email);

    const cut = await atelier(['login'], { ATELIER_CONFIG_DIR: path.join(scratch, 'cut') }, `${user.email}\n`);
    expect(cut.code).toBe(EXIT_CODES.BAD_USER_INPUT);
    expect(cut.stderr).toContain('field: password');
  });

  it('generates, follows the job live and saves valid PNGs into --out; jobs lists it', async () => {
    const out = path.join(scratch, 'shots');
    const result = json(await atelier(['generate', 'a lighthouse at dusk', '--steps', '2', '--count', '2', '--seed', '7', '--out', out, '--json']));
    expect(result.job).toMatchObject({ status: 'COMPLETED', seed: 7 });
    expect(result.files).toHaveLength(2);
    for (const file of result.files) {
      expect(path.dirname(file)).toBe(out);
      expect(readFileSync(file).subarray(0, 8)).toEqual(PNG_SIGNATURE);
    }

    const listed = json(await atelier(['jobs', '--json', '--first', '5']));
    expect(listed.jobs.map((job: any) => job.id)).toContain(result.job.id);
    const page = json(await atelier(['jobs', '--json', '--first', '1', '--after', listed.pageInfo.endCursor ?? '']));
    expect(page.jobs).toEqual([]);
  });

  it('prints progress as plain lines when stdout is not a terminal', async () => {
    const out = path.join(scratch, 'plain');
    const run = await atelier(['generate', 'a quiet harbour', '--steps', '3', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^job \S+ submitted/m);
    expect(run.stdout).toMatch(/^step 3\/3 \(ETA /m);
    expect(run.stdout).not.toContain('\r');
    const saved = run.stdout.match(/^saved (.+\.png)$/m)![1];
    expect(readFileSync(saved).subarray(0, 8)).toEqual(PNG_SIGNATURE);
  });

  it('exits with the BAD_USER_INPUT code and names the field for bad input', async () => {
    const run = await atelier(['generate', 'too many steps', '--steps', '100000', '--out', path.join(scratch, 'never')]);
    expect(run.code).toBe(EXIT_CODES.BAD_USER_INPUT);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('BAD_USER_INPUT');
    expect(run.stderr).toContain('field: steps');

    const scripted = await atelier(['generate', 'too many steps', '--steps', '100000', '--json']);
    expect(scripted.code).toBe(2);
    expect(JSON.parse(scripted.stdout).error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'steps' });

    const notANumber = await atelier(['generate', 'x', '--steps', 'many']);
    expect(notANumber.code).toBe(2);
  });

  it('watches a session live until Ctrl-C, then exits 0', async () => {
    const { createSession } = await gqlData(app.url, 'mutation { createSession(name: "cli watch") { id } }', {}, token);
    const proc = spawn(process.execPath, [CLI, 'watch', createSession.id], {
      env: { PATH: process.env.PATH ?? '', HOME: scratch, ATELIER_CONFIG_DIR: configDir, ATELIER_URL: app.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    proc.stdout.on('data', (d) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once('close', resolve));
    // Said once the session's position is read: every event after it is printed, also one that comes before the
    // subscription is registered (the job is submitted at once).
    await waitFor(async () => stdout.includes('watching session'));
    const generated = json(await atelier(['generate', 'a watched job', '--steps', '2', '--session', createSession.id, '--out', path.join(scratch, 'watched'), '--json']));
    await waitFor(async () => stdout.includes(`COMPLETED     job ${generated.job.id}`));
    expect(stdout).toMatch(new RegExp(`QUEUED +job ${generated.job.id}`));
    expect(stdout).toMatch(new RegExp(`PROGRESS +job ${generated.job.id} step 2/2`));
    proc.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  it('creates, lists and revokes API keys; a revoked key is refused', async () => {
    const created = json(await atelier(['keys', 'create', 'ci', '--json']));
    expect(created.secret).toBeTruthy();
    const withKey = await atelier(['models', '--json'], { ATELIER_API_KEY: created.secret });
    expect(withKey.code, withKey.stderr).toBe(0);
    expect(JSON.parse(withKey.stdout).some((model: any) => model.isDefault)).toBe(true);

    const listed = json(await atelier(['keys', 'list', '--json']));
    expect(listed.find((key: any) => key.id === created.apiKey.id)).toMatchObject({ name: 'ci', revokedAt: null });

    const revoked = json(await atelier(['keys', 'revoke', created.apiKey.id, '--json']));
    expect(revoked.revokedAt).toBeTruthy();
    const refused = await atelier(['jobs'], { ATELIER_API_KEY: created.secret });
    expect(refused.code).toBe(EXIT_CODES.UNAUTHENTICATED);

    const missing = await atelier(['keys', 'revoke', '00000000-0000-4000-8000-000000000000']);
    expect(missing.code).toBe(EXIT_CODES.NOT_FOUND);
  });
});
