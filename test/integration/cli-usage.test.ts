import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/cli/exit-codes';
import { startTestApp, type TestApp } from '../support/app';
import { gqlData, signUp, waitFor } from '../support/graphql';
import { runCli, type CliRun } from '../support/cli';

/** Usage mistakes, damaged state and the edges of `atelier`'s commands (the built binary, via runCli). */

let app: TestApp;
let scratch: string;
let configDir: string;
let token: string;

function atelier(args: string[], env: Record<string, string> = {}, input?: string): Promise<CliRun> {
  return runCli(args, { HOME: scratch, ATELIER_CONFIG_DIR: configDir, ATELIER_URL: app.url, ...env }, input);
}

const json = (run: CliRun): any => {
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout);
};

/** The same server under another name: a stored login is not sent there. */
const otherName = (url: string): string => {
  const u = new URL(url);
  u.hostname = u.hostname === 'localhost' ? '127.0.0.1' : 'localhost';
  return u.toString().replace(/\/$/, '');
};

async function jobCount(): Promise<number> {
  return (await gqlData(app.url, 'query { jobs(first: 100) { edges { cursor } } }', {}, token)).jobs.edges.length;
}

beforeAll(async () => {
  app = await startTestApp();
  scratch = mkdtempSync(path.join(os.tmpdir(), 'atelier-cli-usage-'));
  configDir = path.join(scratch, 'config');
  const user = await signUp(app.url, 'cli-usage');
  const run = await atelier(['login', '--email', user.email, '--password', 'correct horse battery']);
  expect(run.code, run.stderr).toBe(0);
  token = JSON.parse(readFileSync(path.join(configDir, 'config.json'), 'utf8')).credential.value;
});
afterAll(async () => {
  await app?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('atelier CLI: usage mistakes and edge cases', () => {
  it('refuses a --out that is a file before submitting anything', async () => {
    const file = path.join(scratch, 'a-file');
    writeFileSync(file, 'x');
    const before = await jobCount();
    for (const out of [file, path.join(file, 'below')]) {
      const run = await atelier(['generate', 'never submitted', '--steps', '1', '--out', out, '--json']);
      expect(run.code).toBe(EXIT_CODES.BAD_USER_INPUT);
      const { error } = JSON.parse(run.stdout);
      expect(error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'out' });
      expect(error.message).not.toContain('\n');
      const text = await atelier(['generate', 'never submitted', '--out', out]);
      expect(text.code).toBe(2);
      expect(text.stderr).toContain('field: out');
      expect(text.stderr).not.toMatch(/^\s+at /m);
    }
    expect(await jobCount()).toBe(before);
  });

  it('lets login replace a damaged config file, and an API key with a URL ignore it', async () => {
    const dir = path.join(scratch, 'damaged');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'config.json'), '{bad');
    const env = { ATELIER_CONFIG_DIR: dir };
    const broken = await atelier(['jobs'], env);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('field: config');

    const { createApiKey } = await gqlData(app.url, 'mutation { createApiKey(name: "damaged") { secret } }', {}, token);
    const withKey = await atelier(['jobs', '--json'], { ...env, ATELIER_API_KEY: createApiKey.secret });
    expect(withKey.code, withKey.stderr).toBe(0);

    const login = await atelier(['login', '--api-key', createApiKey.secret], env);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain('damaged');
    expect(JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')).credential.kind).toBe('apiKey');
    expect((await atelier(['jobs'], env)).code).toBe(0);
  });

  it('prints usage mistakes as the JSON error document with --json', async () => {
    const bad = await atelier(['generate', 'x', '--steps', 'many', '--json']);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'steps' });
    const missing = await atelier(['--json', 'generate']);
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout).error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'prompt' });
    const unknown = await atelier(['jobs', '--bogus', '--json']);
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout).error.code).toBe('BAD_USER_INPUT');
    const command = await atelier(['--json', 'nonsense']);
    expect(command.code).toBe(2);
    expect(JSON.parse(command.stdout).error.code).toBe('BAD_USER_INPUT');
  });

  it('starts mcp with --url and a stored API key, and says in one line what is missing', async () => {
    const noKey = await atelier(['mcp'], { ATELIER_CONFIG_DIR: path.join(scratch, 'nobody') }, '');
    expect(noKey.code).toBe(EXIT_CODES.UNAUTHENTICATED);
    expect(noKey.stderr.trim().split('\n')).toHaveLength(1);
    expect(noKey.stderr).toContain('ATELIER_API_KEY');

    const badUrl = await atelier(['--url', 'notaurl', 'mcp'], { ATELIER_API_KEY: 'atl_x' }, '');
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain('field: url');
    expect(badUrl.stderr).not.toMatch(/^\s+at /m);

    const { createApiKey } = await gqlData(app.url, 'mutation { createApiKey(name: "mcp") { secret } }', {}, token);
    const dir = path.join(scratch, 'mcp-key');
    expect((await atelier(['login', '--api-key', createApiKey.secret], { ATELIER_CONFIG_DIR: dir })).code).toBe(0);
    // stdin ends at once: the server starts with the stored key and the --url given, then closes.
    const stored = await runCli(['--url', app.url, 'mcp'], { HOME: scratch, ATELIER_CONFIG_DIR: dir }, '');
    expect(stored.code, stored.stderr).toBe(0);
  });

  it('keeps --session and --first in the paging hint of jobs', async () => {
    const { createSession } = await gqlData(app.url, 'mutation { createSession(name: "cli paging") { id } }', {}, token);
    for (const prompt of ['first page', 'second page']) {
      json(await atelier(['generate', prompt, '--steps', '1', '--session', createSession.id, '--out', path.join(scratch, 'paging'), '--json']));
    }
    const run = await atelier(['jobs', '--session', createSession.id, '--first', '1']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`more: atelier jobs --session ${createSession.id} --first 1 --after \\S+`));
  });

  it('refuses a malformed --url as bad input, before any request', async () => {
    const started = Date.now();
    const run = await atelier(['--url', 'notaurl', 'jobs', '--json']);
    expect(run.code).toBe(EXIT_CODES.BAD_USER_INPUT);
    expect(JSON.parse(run.stdout).error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('says which server the stored login is for when --url names another', async () => {
    const other = otherName(app.url);
    const run = await atelier(['--url', other, 'jobs']);
    expect(run.code).toBe(EXIT_CODES.UNAUTHENTICATED);
    expect(run.stderr).toContain(`the stored login is for ${app.url}, not ${other}`);
    expect(run.stderr).toContain(`atelier login --url ${other}`);
  });

  it('validates an import folder before touching the data folder', async () => {
    const data = path.join(scratch, 'fresh-data');
    const run = await runCli(['import', path.join(scratch, 'nope'), '--json'], { HOME: scratch, ATELIER_DATA_DIR: data });
    expect(run.code).toBe(EXIT_CODES.BAD_USER_INPUT);
    expect(JSON.parse(run.stdout).error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'dir' });
    expect(existsSync(data)).toBe(false);
  });

  it('honours a global --json for train and makes no --output_dir for bad arguments', async () => {
    const out = path.join(scratch, 'train-out');
    const run = await atelier(['--json', 'train', '--pretrained_model_name_or_path', scratch, '--train_data_dir', scratch, '--output_dir', out, '--network_module', 'networks.other']);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout).error).toMatchObject({ field: 'network_module' });
    expect(existsSync(out)).toBe(false);
  });
  it('a generate whose job is cancelled ends with JOB_CANCELLED in the documented --json error shape, exit 1', async () => {
    // A long render (ENTERPRISE's limits) to cancel while it runs.
    const { me } = await gqlData<any>(app.url, '{ me { id } }', {}, token);
    await app.db.query(`UPDATE users SET tier = 'ENTERPRISE' WHERE id = $1`, [me.id]);
    await app.services.principalStamps.bump(me.id);
    const running = atelier(['generate', 'to be cancelled', '--width', '2048', '--height', '2048', '--steps', '150', '--json']);
    const job = await waitFor(async () => {
      const { jobs } = await gqlData<any>(app.url, 'query { jobs(first: 5) { edges { node { id prompt status } } } }', {}, token);
      return jobs.edges.map((e: any) => e.node).find((n: any) => n.prompt === 'to be cancelled' && n.status === 'PROCESSING');
    }, 60_000, 250);
    await gqlData(app.url, 'mutation($id: ID!) { cancelJob(id: $id) { status } }', { id: job.id }, token);
    const run = await running;
    expect(run.code).toBe(1);
    const out = JSON.parse(run.stdout);
    expect(out.error).toMatchObject({ code: 'JOB_CANCELLED', field: null });
    expect(out.job).toMatchObject({ id: job.id, status: 'CANCELLED' });
  }, 90_000);
});
