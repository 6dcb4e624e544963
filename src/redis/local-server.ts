import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const INSTALL_HINT =
  'Atelier needs Redis. Either set REDIS_URL=redis://host:6379 to use a server you run, ' +
  'or install redis-server: `sudo apt-get install -y redis-server` (Debian/Ubuntu), ' +
  '`brew install redis` (macOS), `sudo dnf install -y redis` (Fedora).';

export function which(binary: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, binary);
    if (existsSync(candidate)) return candidate;
  }
  for (const dir of ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/opt/homebrew/bin']) {
    if (existsSync(path.join(dir, binary))) return path.join(dir, binary);
  }
  return null;
}

/**
 * Finds `binary`, or installs Debian's `aptPackage` with apt-get when we are
 * root on Debian/Ubuntu; otherwise throws with `hint` (how to install it).
 * `npm start` gets redis-server and ffmpeg this way.
 */
export function ensureDebianBinary(binary: string, aptPackage: string, hint: string, log: (msg: string) => void = console.log): string {
  const found = which(binary);
  if (found) return found;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && which('apt-get')) {
    log(`${binary} not found: installing it with apt-get (Debian package ${aptPackage})…`);
    try {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
      execFileSync('apt-get', ['install', '-y', '-qq', aptPackage], {
        stdio: 'ignore',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    } catch {
      throw new Error(`Installing ${aptPackage} with apt-get failed. ${hint}`);
    }
    const installed = which(binary);
    if (installed) return installed;
  }
  throw new Error(`${binary} was not found. ${hint}`);
}

/** Installs redis-server with apt-get when we are root on Debian/Ubuntu; otherwise explains how. */
export function ensureRedisServerBinary(log: (msg: string) => void = console.log): string {
  return ensureDebianBinary('redis-server', 'redis-server', INSTALL_HINT, log);
}

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not listen on port ${port} within ${timeoutMs} ms`);
}

/** A redis-server child process owned by this process, stopped with it. */
export interface LocalRedis {
  url: string;
  stop(): Promise<void>;
}

/** The file a local redis-server writes its process id to, in its folder. */
export const LOCAL_REDIS_PID_FILE = 'redis-server.pid';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * A redis-server an earlier process started in `dir` and did not stop: its
 * parent was killed (SIGKILL, the OOM killer) and it lives on, orphaned, on
 * the same append-only files the new one is about to open. Stopped with
 * SIGTERM, which has it write out what it holds first. Only a process whose
 * working directory is `dir` is touched (redis-server changes into `--dir`),
 * so a process id reused by something else is left alone; where `/proc` is
 * missing (not Linux), nothing is checked or stopped. Callers hold the data
 * folder (database/data-folder-lock.ts), so no live service owns it.
 */
async function stopOrphan(dir: string): Promise<void> {
  const pidFile = path.join(dir, LOCAL_REDIS_PID_FILE);
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(pidFile, 'utf8'), 10);
  } catch {
    return; // none: the last one stopped cleanly (redis-server removes its file)
  }
  let cwd: string | null = null;
  try {
    cwd = readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    cwd = null;
  }
  // /proc names the real folder: compare it with ours, symbolic links resolved.
  if (Number.isInteger(pid) && pid > 0 && cwd === realpathSync(dir) && alive(pid)) {
    console.log(`stopping redis-server ${pid}, left running in ${dir} by a process that was killed`);
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(pidFile, { force: true });
}

/**
 * Starts redis-server on a free loopback port (or `port`, to restart one on
 * the port its clients know) with its files under `dir` (append-only file on,
 * so queued jobs survive a restart of `npm start`). One left running there by
 * a process that was killed is stopped first.
 */
export async function startLocalRedis(dir: string, options: { persist?: boolean; port?: number } = {}): Promise<LocalRedis> {
  const binary = ensureRedisServerBinary();
  mkdirSync(dir, { recursive: true });
  await stopOrphan(dir);
  const port = options.port ?? (await freePort());
  const persist = options.persist ?? true;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--protected-mode', 'yes'];
  args.push('--pidfile', path.resolve(dir, LOCAL_REDIS_PID_FILE));
  args.push('--appendonly', persist ? 'yes' : 'no');
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  await waitForPort(port, child, 10_000);
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        process.removeListener('exit', killOnExit);
        // Killed by a signal (an operator's kill -9, the OOM killer), it has exited with no exit code.
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
