/**
 * One process per data folder (docs/operations.md, "One process per data
 * folder"): the embedded database and the local redis-server have no lock of
 * their own, so a second service, a migration, an export or an import on a
 * folder the service holds is refused (`models push` too, pointing at what to
 * do instead); a service killed without exiting
 * leaves a lock that lapses, and a redis-server that is stopped at the next
 * start.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { DATA_FOLDER_LOCK, DataFolderInUseError, lockDataFolder, STALE_MS } from '../../src/database/data-folder-lock';
import { LOCAL_REDIS_PID_FILE, startLocalRedis, type LocalRedis } from '../../src/redis/local-server';
import { testEnv } from '../support/app';
import { runCli } from '../support/cli';
import { gqlData } from '../support/graphql';
import { spawnAtelier, type AtelierProcess } from '../support/processes';

const scratch: string[] = [];
const processes: AtelierProcess[] = [];
const servers: LocalRedis[] = [];
afterAll(async () => {
  // SIGTERM first, so a service a failed test left running stops its local redis-server with it; SIGKILL if it hangs.
  for (const proc of processes) {
    const stopped = await Promise.race([proc.kill('SIGTERM').then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 15_000))]);
    if (!stopped) await proc.kill('SIGKILL');
  }
  for (const server of servers) await server.stop();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

const tempDir = (prefix: string) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  scratch.push(dir);
  return dir;
};

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('one process per data folder', () => {
  // The first three run side by side, each on a data folder of its own: most of their time is spent waiting on a
  // lock (a refresh, or a killed holder's lapse), not working. Each uses its own `expect` (vitest's concurrent tests).
  it.concurrent('refuses a second service and an export while the service runs, and lets a restart after a kill -9 in', async ({ expect }) => {
    // The embedded database and a local redis-server: nothing from the test's servers.
    const env = testEnv({ DATABASE_URL: '', REDIS_URL: '' });
    scratch.push(env.ATELIER_DATA_DIR);
    const first = await spawnAtelier('all', env);
    processes.push(first);
    const email = `lock-${Date.now()}@example.com`;
    await gqlData(first.url!, 'mutation($e:String!){ register(email:$e, password:"a long password 1") { token } }', { e: email });

    // The holder refreshes its lock every 2 s: a second service sees it alive and gives up without waiting 13 s.
    // An export, started at the same time, is refused the same way.
    const target = path.join(env.ATELIER_DATA_DIR, '..', `${path.basename(env.ATELIER_DATA_DIR)}-export`);
    scratch.push(target);
    const started = Date.now();
    const [second, exported] = await Promise.all([
      spawnAtelier('all', env).then(
        (proc) => { processes.push(proc); return null; },
        (error: Error) => { expect(Date.now() - started).toBeLessThan(10_000); return error.message; },
      ),
      runCli(['export', target, '--json'], env),
    ]);
    expect(second).toMatch(/exited with 2/);
    expect(second).toContain(`The data folder ${env.ATELIER_DATA_DIR} is in use by another Atelier process`);

    expect(exported.code).toBe(2);
    expect(JSON.parse(exported.stdout).error.message).toContain('is in use by another Atelier process');
    expect(existsSync(target)).toBe(false);

    // Killed without exiting: its lock stays behind, and so does its redis-server, orphaned.
    const orphan = Number(readFileSync(path.join(env.ATELIER_DATA_DIR, 'redis', LOCAL_REDIS_PID_FILE), 'utf8'));
    await first.kill('SIGKILL');
    expect(alive(orphan)).toBe(true);
    expect(existsSync(path.join(env.ATELIER_DATA_DIR, DATA_FOLDER_LOCK))).toBe(true);

    // The next start waits for the lock to lapse, stops the orphan and opens the same data.
    const restarted = await spawnAtelier('all', env, 90_000);
    processes.push(restarted);
    expect(restarted.output()).toContain('lapses within 13 s');
    expect(restarted.output()).toContain(`stopping redis-server ${orphan}`);
    expect(alive(orphan)).toBe(false);
    const { login } = await gqlData<{ login: { token: string } }>(restarted.url!, 'mutation($e:String!){ login(email:$e, password:"a long password 1") { token } }', { e: email });
    expect(login.token).toBeTruthy();
    await restarted.kill('SIGTERM');
    // A service that stops cleanly leaves neither behind.
    expect(existsSync(path.join(env.ATELIER_DATA_DIR, DATA_FOLDER_LOCK))).toBe(false);
    expect(existsSync(path.join(env.ATELIER_DATA_DIR, 'redis', LOCAL_REDIS_PID_FILE))).toBe(false);
  }, 180_000);

  it.concurrent('refuses `models push` beside the running service, writing nothing and saying what to do instead; once it stops, the push works', async ({ expect }) => {
    // A models folder of its own: the advice below copies a model into it.
    const models = tempDir('atelier-lock-models-');
    const tiny = path.join(inject('modelsDir'), 'atelier-tiny');
    cpSync(tiny, path.join(models, 'atelier-tiny'), { recursive: true });
    const admin = { email: `lock-admin-${Date.now()}@example.com`, password: 'a long password 1' };
    const env = testEnv({
      DATABASE_URL: '', REDIS_URL: '', ATELIER_MODELS_DIR: models, ATELIER_ADMIN_EMAIL: admin.email, ATELIER_ADMIN_PASSWORD: admin.password,
    });
    scratch.push(env.ATELIER_DATA_DIR);
    const folder = path.join(tempDir('atelier-lock-push-'), 'pushed-tiny');
    cpSync(tiny, folder, { recursive: true });
    const pushedFiles = path.join(env.ATELIER_DATA_DIR, 'artifacts', 'models');

    let service = await spawnAtelier('all', env);
    processes.push(service);
    const { login } = await gqlData<{ login: { token: string } }>(service.url!, 'mutation($e:String!,$p:String!){ login(email:$e, password:$p) { token } }', { e: admin.email, p: admin.password });
    const modelNames = async (url: string) => (await gqlData<{ models: { name: string }[] }>(url, '{ models { name } }', {}, login.token)).models.map((m) => m.name).sort();

    // Plain and --json side by side: each waits for the holder's next refresh.
    const [refused, refusedJson] = await Promise.all([runCli(['models', 'push', folder], env), runCli(['--json', 'models', 'push', folder], env)]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`The data folder ${env.ATELIER_DATA_DIR} is in use by another Atelier process`);
    expect(refused.stderr).toContain(`To add the model to the running service instead, copy the folder to ${path.join(models, 'pushed-tiny')}`);
    expect(refused.stderr).toContain('registerModel(input: { name: "pushed-tiny", backend: ONNX })');
    expect(refusedJson.code).toBe(2);
    expect(JSON.parse(refusedJson.stdout).error).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('is in use by another Atelier process') });
    // Nothing written: no files in the store, no row the service sees.
    expect(existsSync(pushedFiles)).toBe(false);
    expect(await modelNames(service.url!)).toEqual(['atelier-tiny']);

    // What the refusal advises, on the running service: the folder into its models folder, registered by an admin.
    cpSync(folder, path.join(models, 'beside-tiny'), { recursive: true });
    const { registerModel } = await gqlData<any>(service.url!, 'mutation { registerModel(input: { name: "beside-tiny", backend: ONNX }) { name enabled sha256 } }', {}, login.token);
    expect(registerModel).toMatchObject({ name: 'beside-tiny', enabled: true, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });

    expect(await service.kill('SIGTERM')).toBe(0);
    const pushed = await runCli(['--json', 'models', 'push', folder], env);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(JSON.parse(pushed.stdout)).toMatchObject({ name: 'pushed-tiny', files: expect.any(Number) });
    expect(existsSync(path.join(pushedFiles, 'pushed-tiny', 'model_index.json'))).toBe(true);
    expect(existsSync(path.join(env.ATELIER_DATA_DIR, DATA_FOLDER_LOCK))).toBe(false);
    // The row is there for the next start, beside the one registered while it ran.
    service = await spawnAtelier('all', env);
    processes.push(service);
    expect(await modelNames(service.url!)).toEqual(['atelier-tiny', 'beside-tiny', 'pushed-tiny']);
    await service.kill('SIGTERM');
  }, 180_000);

  it.concurrent('prints one JSON document for `--json migrate` and `--json seed`, and keeps stdout JSON while waiting on a held folder', async ({ expect }) => {
    const env = testEnv({ DATABASE_URL: '', REDIS_URL: '' });
    scratch.push(env.ATELIER_DATA_DIR);
    // Held (and refreshed) by this process: the CLI waits, says so on stderr, then gives the refusal as JSON.
    const release = await lockDataFolder(env.ATELIER_DATA_DIR);
    const held = await runCli(['--json', 'migrate'], env);
    await release();
    expect(held.code).toBe(2);
    expect(JSON.parse(held.stdout).error).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('is in use by another Atelier process') });
    expect(held.stderr).toContain('is locked: checking whether the process that holds it is still running');

    const migrated = await runCli(['--json', 'migrate'], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    const first = JSON.parse(migrated.stdout);
    expect(first).toMatchObject({ database: 'pglite', migrations: { applied: expect.any(Array), latest: expect.any(String) } });
    expect(first.migrations.applied.length).toBeGreaterThan(0);
    expect(first.migrations.latest).toBe(first.migrations.applied.at(-1));
    const seeded = await runCli(['--json', 'seed'], env);
    expect(seeded.code, seeded.stderr).toBe(0);
    expect(JSON.parse(seeded.stdout)).toEqual({
      database: 'pglite', migrations: { applied: [], latest: first.migrations.latest }, seeded: ['tier policies', 'built-in presets'],
    });
    // Without --json, the plain lines as before.
    expect(await runCli(['migrate'], env)).toMatchObject({ code: 0, stdout: 'migrations applied\n' });
    expect(await runCli(['seed'], env)).toMatchObject({ code: 0, stdout: 'reference data seeded\n' });
  }, 120_000);

  it('takes over a lock its holder stopped refreshing, once it has lapsed', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'atelier-lock-'));
    scratch.push(dir);
    // A lock a killed process left 9 s ago: it lapses in about a second.
    mkdirSync(path.join(dir, DATA_FOLDER_LOCK));
    const then = new Date(Date.now() - (STALE_MS - 1_000));
    utimesSync(path.join(dir, DATA_FOLDER_LOCK), then, then);
    const waits: string[] = [];
    const started = Date.now();
    const release = await lockDataFolder(dir, { onWait: (message) => waits.push(message) });
    expect(waits).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(5_000);
    // Held here now: another taker is refused once it sees the refresh.
    await expect(lockDataFolder(dir)).rejects.toBeInstanceOf(DataFolderInUseError);
    await release();
    await (await lockDataFolder(dir))();
  }, 30_000);

  it('stops a redis-server left running by a killed parent, keeping what it held (its folder named through a symbolic link)', async () => {
    const real = mkdtempSync(path.join(os.tmpdir(), 'atelier-orphan-redis-'));
    const dir = `${real}-link`;
    symlinkSync(real, dir);
    scratch.push(real, dir);
    const module = path.resolve(__dirname, '../../dist/src/redis/local-server.js');
    const parent = spawn(process.execPath, ['-e', `require(${JSON.stringify(module)}).startLocalRedis(${JSON.stringify(dir)}).then((r) => console.log(r.url))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const url = await new Promise<string>((resolve) => parent.stdout!.on('data', (d) => resolve(String(d).trim())));
    const before = new Redis(url);
    await before.set('kept', 'yes');
    await before.quit();
    const orphan = Number(readFileSync(path.join(dir, LOCAL_REDIS_PID_FILE), 'utf8'));
    parent.kill('SIGKILL');
    await new Promise((resolve) => parent.once('exit', resolve));
    expect(alive(orphan)).toBe(true);

    const server = await startLocalRedis(dir);
    servers.push(server);
    expect(alive(orphan)).toBe(false);
    const after = new Redis(server.url);
    expect(await after.get('kept')).toBe('yes');
    await after.quit();
  }, 30_000);
});
