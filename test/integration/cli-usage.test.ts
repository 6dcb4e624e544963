import { spawn } from 'node:child_process';
import http, { type IncomingMessage } from 'node:http';
import net from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/cli/exit-codes';
import { startTestApp, type TestApp } from '../support/app';
import { gqlData, signUp, waitFor } from '../support/graphql';
import { runCli, type CliRun } from '../support/cli';
import * as factory from '../support/factories';

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

/** The built binary, for runs on a terminal. */
const CLI = path.resolve(__dirname, '../../dist/src/cli/main.js');

/**
 * Runs `atelier …` on a pseudo-terminal (util-linux's `script`, in Debian's essential bsdutils); `onOutput` sees everything written
 * to it so far and may type keys (`type('\x03')` is Ctrl-C). Resolves with
 * the exit status and the raw terminal output.
 */
function onTerminal(args: string[], env: Record<string, string>, onOutput: (text: string, type: (keys: string) => void) => void): Promise<{ code: number | null; output: string }> {
  const quoted = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const proc = spawn('script', ['-qec', quoted, '/dev/null'], {
    env: { PATH: process.env.PATH ?? '', HOME: scratch, ATELIER_CONFIG_DIR: configDir, ATELIER_URL: app.url, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const type = (keys: string) => proc.stdin.write(keys);
  const seen = (d: Buffer) => {
    output += d.toString();
    onOutput(output, type);
  };
  proc.stdout.on('data', seen);
  proc.stderr.on('data', seen);
  return new Promise((resolve) => proc.once('close', (code) => {
    proc.stdin.destroy();
    resolve({ code, output });
  }));
}

/**
 * The test server behind a proxy (HTTP and the live feed's WebSocket) that holds back one answer: the
 * first request `hold` picks gets its headers and half its body, then `onHeld` runs; the rest
 * comes 3 s later, so a client that went on instead of stopping finishes, just late. Answers name
 * the proxy where they name the server (the signed file URLs), as behind a public URL.
 */
async function holdingProxy(target: string, hold: (req: IncomingMessage, body: string) => boolean, onHeld: () => void): Promise<{ url: string; close: () => Promise<void> }> {
  const upstream = new URL(target);
  let held = false;
  let self = '';
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const holdThis = !held && hold(req, body.toString());
      if (holdThis) held = true;
      const headers = { ...req.headers, 'accept-encoding': 'identity' };
      const forward = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers }, (answer) => {
        const parts: Buffer[] = [];
        answer.on('data', (c: Buffer) => parts.push(c));
        answer.on('end', () => {
          let whole = Buffer.concat(parts);
          if (/json/.test(answer.headers['content-type'] ?? '')) whole = Buffer.from(whole.toString().split(target).join(self));
          res.writeHead(answer.statusCode ?? 502, { ...answer.headers, 'content-length': String(whole.length) });
          if (!holdThis) return res.end(whole);
          res.write(whole.subarray(0, whole.length >> 1));
          onHeld();
          setTimeout(() => res.end(whole.subarray(whole.length >> 1)), 3000).unref();
        });
      });
      forward.on('error', () => res.destroy());
      forward.end(body);
    });
  });
  server.on('upgrade', (req: IncomingMessage, client: net.Socket, head: Buffer) => {
    const to = net.connect(Number(upstream.port), upstream.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      to.write(`${lines.join('\r\n')}\r\n\r\n`);
      to.write(head);
      to.pipe(client).pipe(to);
    });
    to.on('error', () => client.destroy());
    client.on('error', () => to.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  self = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    url: self,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

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
  it('reports a refused credential on the live feed at once (no reconnect loop), exit 3', async () => {
    const { createSession } = await gqlData(app.url, 'mutation { createSession(name: "cli refused") { id } }', {}, token);
    const { createApiKey } = await gqlData(app.url, 'mutation { createApiKey(name: "soon revoked") { secret apiKey { id } } }', {}, token);
    await gqlData(app.url, 'mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }', { id: createApiKey.apiKey.id }, token);
    for (const key of ['atl_bogus', createApiKey.secret]) {
      const started = Date.now();
      const run = await atelier(['--json', 'watch', createSession.id], { ATELIER_API_KEY: key });
      expect(run.code, run.stderr).toBe(EXIT_CODES.UNAUTHENTICATED);
      expect(JSON.parse(run.stdout).error.code).toBe('UNAUTHENTICATED');
      // graphql-ws's default retries took about 40 s (1 + 2 + 4 + 8 + 16 s of backoff) before giving up.
      expect(Date.now() - started).toBeLessThan(5000);
    }
  });

  it('reports local failures as one-line BAD_USER_INPUT naming the file or flag, never INTERNAL with a stack', async () => {
    const numeric = path.join(scratch, 'url-number');
    mkdirSync(numeric);
    writeFileSync(path.join(numeric, 'config.json'), '{"url":123}');
    const folder = path.join(scratch, 'config-is-folder');
    mkdirSync(path.join(folder, 'config.json'), { recursive: true });
    const file = path.join(scratch, 'config-is-file');
    writeFileSync(file, 'x');
    const cases: Array<[string[], Record<string, string>, string, string]> = [
      [['jobs'], { ATELIER_CONFIG_DIR: numeric, ATELIER_URL: '' }, 'config', path.join(numeric, 'config.json')],
      [['jobs'], { ATELIER_CONFIG_DIR: folder }, 'config', path.join(folder, 'config.json')],
      [['login', '--email', 'x@example.com', '--password', 'y'], { ATELIER_CONFIG_DIR: folder }, 'config', path.join(folder, 'config.json')],
      [['login', '--email', 'x@example.com', '--password', 'y'], { ATELIER_CONFIG_DIR: file }, 'config', file],
      [['export', file], { ATELIER_DATA_DIR: path.join(scratch, 'export-data') }, 'dir', file],
    ];
    for (const [args, env, field, named] of cases) {
      for (const json of [true, false]) {
        const run = await atelier(json ? ['--json', ...args] : args, env);
        expect(run.code, `${args.join(' ')}: ${run.stdout}${run.stderr}`).toBe(EXIT_CODES.BAD_USER_INPUT);
        const message = json ? JSON.parse(run.stdout).error.message : run.stderr;
        if (json) expect(JSON.parse(run.stdout).error).toMatchObject({ code: 'BAD_USER_INPUT', field });
        else expect(run.stderr).toContain(`(field: ${field})`);
        expect(message).toContain(named);
        expect(message.trim()).not.toContain('\n');
        expect(message).not.toMatch(/INTERNAL|\bat .+:\d+:\d+/);
      }
    }
    expect(existsSync(path.join(scratch, 'export-data'))).toBe(false);
  });

  it('says what is wrong with a damaged config file: not an object, or its url', async () => {
    const dir = path.join(scratch, 'damaged-kinds');
    mkdirSync(dir);
    const file = path.join(dir, 'config.json');
    for (const text of ['[]', 'null', '"text"']) {
      writeFileSync(file, text);
      const run = await atelier(['jobs'], { ATELIER_CONFIG_DIR: dir });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`${file} is not a JSON object`);
    }
    writeFileSync(file, '{"url":"nonsense"}');
    const run = await atelier(['jobs'], { ATELIER_CONFIG_DIR: dir, ATELIER_URL: '' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`"url" in ${file}`);
    expect(run.stderr).not.toContain('--url or ATELIER_URL');
    const flag = await atelier(['--url', 'nonsense', 'jobs'], { ATELIER_CONFIG_DIR: path.join(scratch, 'nobody') });
    expect(flag.stderr).toContain("'nonsense' is not an http(s) URL (--url)");
  });

  it('with no credential at all, says to run atelier login (or set ATELIER_API_KEY)', async () => {
    const run = await atelier(['jobs'], { ATELIER_CONFIG_DIR: path.join(scratch, 'nobody') });
    expect(run.code).toBe(EXIT_CODES.UNAUTHENTICATED);
    expect(run.stderr).toContain('run `atelier login` (or set ATELIER_API_KEY)');
    expect(run.stderr).not.toContain('Authorization: Bearer');
  });

  it('reports a --url with a wrong path as a URL problem (BAD_USER_INPUT, field url), not INTERNAL', async () => {
    const run = await atelier(['--url', `${app.url}/api`, 'jobs', '--json']);
    expect(run.code).toBe(EXIT_CODES.BAD_USER_INPUT);
    const { error } = JSON.parse(run.stdout);
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
    expect(error.message).toContain(`no Atelier GraphQL endpoint at ${app.url}/api/graphql`);
    expect(error.message).toContain('--url');
  });

  it('refuses login --api-key "" as bad input, without falling back to the prompts', async () => {
    const dir = path.join(scratch, 'empty-key');
    const run = await atelier(['login', '--api-key', ''], { ATELIER_CONFIG_DIR: dir }, 'x@example.com\npassword\n');
    expect(run.code).toBe(EXIT_CODES.BAD_USER_INPUT);
    expect(run.stderr).toContain('--api-key');
    expect(run.stderr).toContain('field: apiKey');
    expect(run.stderr).not.toContain('Email:');
    expect(existsSync(dir)).toBe(false);
  });

  it('treats Ctrl-C at a login prompt on a terminal as cancelled (exit 130), not as stdin ending', async () => {
    const dir = path.join(scratch, 'interrupted-login');
    for (const [args, prompt] of [[['login'], 'Email:'], [['login', '--email', 'x@example.com'], 'Password:']] as const) {
      let typed = false;
      const run = await onTerminal([...args], { ATELIER_CONFIG_DIR: dir }, (text, type) => {
        if (!typed && text.includes(prompt)) {
          typed = true;
          type('par\x03');
        }
      });
      expect(run.code, run.output).toBe(130);
      expect(run.output).toContain('CANCELLED');
      expect(run.output).not.toContain('stdin ended');
      expect(existsSync(dir)).toBe(false);
    }
  });

  it('names the flag typed (--preset, --session), not the GraphQL argument', async () => {
    const preset = await atelier(['generate', 'x', '--preset', 'nope', '--json']);
    expect(preset.code).toBe(2);
    const presetError = JSON.parse(preset.stdout).error;
    expect(presetError).toMatchObject({ code: 'BAD_USER_INPUT', field: 'preset' });
    expect(presetError.message).toMatch(/^--preset /);
    const session = await atelier(['generate', 'x', '--session', 'nope']);
    expect(session.code).toBe(2);
    expect(session.stderr).toContain('--session');
    expect(session.stderr).toContain('(field: session)');
    expect(session.stderr).not.toContain('sessionId');
    const jobs = await atelier(['jobs', '--session', 'nope', '--json']);
    expect(jobs.code).toBe(2);
    expect(JSON.parse(jobs.stdout).error).toMatchObject({ field: 'session' });
  });

  it('makes no --out folder when the request is refused or the server cannot be reached', async () => {
    const refused = path.join(scratch, 'never', 'made', 'here');
    const run = await atelier(['generate', 'x', '--steps', '100000', '--out', refused]);
    expect(run.code).toBe(2);
    const unreachable = path.join(scratch, 'never2', 'deep');
    const down = await atelier(['--url', 'http://127.0.0.1:9', 'generate', 'x', '--out', unreachable], { ATELIER_API_KEY: 'atl_x' });
    expect(down.code).toBe(EXIT_CODES.SERVICE_UNAVAILABLE);
    expect(existsSync(path.join(scratch, 'never'))).toBe(false);
    expect(existsSync(path.join(scratch, 'never2'))).toBe(false);
  });

  it('saves the MP4 of a VIDEO preset and says so, with no "1 image"', async () => {
    const admin = await factory.user(app, { role: 'ADMIN' });
    // Small clips for a CPU test run: the tiny model at 64 px a side.
    await gqlData(app.url, 'mutation { updateTierPolicy(tier: FREE, input: { maxVideoSide: 64 }) { maxVideoSide } }', {}, admin.token);
    const { presets } = await gqlData<any>(app.url, '{ presets(category: VIDEO) { id name } }', {}, token);
    const vlog = presets.find((p: any) => p.name === 'Vlog Style');
    const user = await factory.user(app);
    const dir = path.join(scratch, 'video-user');
    expect((await atelier(['login', '--email', user.email, '--password', 'correct horse battery'], { ATELIER_CONFIG_DIR: dir })).code).toBe(0);
    const out = path.join(scratch, 'clips');
    const run = await atelier(['generate', 'a walk along the beach', '--preset', vlog.id, '--steps', '1', '--out', out], { ATELIER_CONFIG_DIR: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toContain('1 image');
    expect(run.stdout).toMatch(/submitted \(seed \d+, a 90-frame clip at 30 fps\)/);
    // Its progress counts frames (stdout is a pipe here: a line per change).
    expect(run.stdout).toMatch(/^frame 90\/90 \(ETA /m);
    expect(run.stdout).not.toMatch(/^step /m);
    const saved = run.stdout.match(/^saved (.+\.mp4)$/m)![1];
    expect(path.dirname(saved)).toBe(out);
    expect(readFileSync(saved).subarray(4, 8).toString('latin1')).toBe('ftyp');
    expect(readdirSync(out)).toEqual([path.basename(saved)]);
  }, 180_000);

  it('cancels the job on Ctrl-C and exits 130 (SIGINT to a generate run by a script)', async () => {
    const { me } = await gqlData<any>(app.url, '{ me { id } }', {}, token);
    await factory.updateUser(app, me.id, { tier: 'ENTERPRISE' });
    const proc = spawn(process.execPath, [CLI, '--json', 'generate', 'interrupted by a script', '--width', '2048', '--height', '2048', '--steps', '150', '--out', path.join(scratch, 'interrupted')], {
      env: { PATH: process.env.PATH ?? '', HOME: scratch, ATELIER_CONFIG_DIR: configDir, ATELIER_URL: app.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    proc.stdout.on('data', (d) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once('close', resolve));
    const job = await waitFor(async () => {
      const { jobs } = await gqlData<any>(app.url, 'query { jobs(first: 5) { edges { node { id prompt status } } } }', {}, token);
      return jobs.edges.map((e: any) => e.node).find((n: any) => n.prompt === 'interrupted by a script' && n.status === 'PROCESSING');
    }, 60_000, 250);
    proc.kill('SIGINT');
    expect(await exited).toBe(130);
    const out = JSON.parse(stdout);
    expect(out.error).toMatchObject({ code: 'CANCELLED', field: null });
    expect(out.job.id).toBe(job.id);
    const { job: after } = await gqlData<any>(app.url, 'query($id: ID!) { job(id: $id) { status } }', { id: job.id }, token);
    expect(after.status).toBe('CANCELLED');
    expect(existsSync(path.join(scratch, 'interrupted'))).toBe(false);
  }, 90_000);

  it('stops on a signal after the job ended (the final query, the download): exit 130/143, CANCELLED, nothing cancelled, no file', async () => {
    const { createApiKey } = await gqlData(app.url, 'mutation { createApiKey(name: "late signal") { secret } }', {}, token);
    const cases = [
      { signal: 'SIGTERM', exit: 143, during: 'the download', hold: (req: IncomingMessage) => req.method === 'GET' && req.url!.startsWith('/files/') },
      { signal: 'SIGINT', exit: 130, during: 'the final query', hold: (_req: IncomingMessage, body: string) => body.includes('CliJob') },
    ] as const;
    for (const { signal, exit, during, hold } of cases) {
      let proc: ReturnType<typeof spawn> | null = null;
      let sent = false;
      const proxy = await holdingProxy(app.url, hold, () => {
        sent = true;
        proc!.kill(signal);
      });
      try {
        const out = path.join(scratch, `late-${signal}`);
        proc = spawn(process.execPath, [CLI, '--json', 'generate', `late ${signal}`, '--steps', '1', '--out', out], {
          env: { PATH: process.env.PATH ?? '', HOME: scratch, ATELIER_CONFIG_DIR: path.join(scratch, 'nobody'), ATELIER_URL: proxy.url, ATELIER_API_KEY: createApiKey.secret },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        proc.stdout!.on('data', (d) => (stdout += d.toString()));
        proc.stderr!.on('data', (d) => (stderr += d.toString()));
        const code = await new Promise<number | null>((resolve) => proc!.once('close', resolve));
        expect(sent, `${during}: ${stdout}${stderr}`).toBe(true);
        // Before: the signal was swallowed, the files saved, exit 0.
        expect(code, `${during}: ${stdout}${stderr}`).toBe(exit);
        const result = JSON.parse(stdout);
        expect(result.error).toMatchObject({ code: 'CANCELLED', field: null });
        expect(result.error.message).toContain('had already ended COMPLETED, so nothing was cancelled');
        expect(result.error.message).toContain(signal === 'SIGINT' ? '(Ctrl-C)' : '(SIGTERM)');
        expect(result.files).toEqual([]);
        const { job } = await gqlData<any>(app.url, 'query($id: ID!) { job(id: $id) { status } }', { id: result.job.id }, token);
        expect(job.status).toBe('COMPLETED');
        // Nothing half-written, and --out not even made.
        expect(existsSync(out), `${during}: ${existsSync(out) ? readdirSync(out).join(', ') : ''}`).toBe(false);
      } finally {
        await proxy.close();
      }
    }
  }, 120_000);

  it('on a terminal, Ctrl-C during generate restores the cursor and line wrap and cancels the job', async () => {
    const { me } = await gqlData<any>(app.url, '{ me { id } }', {}, token);
    await factory.updateUser(app, me.id, { tier: 'ENTERPRISE' });
    let typed = false;
    const run = await onTerminal(['generate', 'interrupted on a terminal', '--width', '2048', '--height', '2048', '--steps', '150', '--out', path.join(scratch, 'tty')], {}, (text, type) => {
      // The bar is drawn (cursor hidden) and the job has started: Ctrl-C.
      if (!typed && text.includes('\x1b[?25l') && /running/.test(text)) {
        typed = true;
        type('\x03');
      }
    });
    expect(typed, run.output).toBe(true);
    expect(run.code, run.output).toBe(130);
    const hidden = run.output.indexOf('\x1b[?25l');
    expect(run.output.indexOf('\x1b[?25h', hidden)).toBeGreaterThan(hidden);
    if (run.output.includes('\x1b[?7l')) expect(run.output.lastIndexOf('\x1b[?7h')).toBeGreaterThan(run.output.lastIndexOf('\x1b[?7l'));
    const id = /job (\S+) submitted/.exec(run.output)![1];
    expect(run.output).toContain(`CANCELLED: job ${id} cancelled (Ctrl-C)`);
    const { job } = await gqlData<any>(app.url, 'query($id: ID!) { job(id: $id) { status } }', { id }, token);
    expect(job.status).toBe('CANCELLED');
  }, 90_000);
});
