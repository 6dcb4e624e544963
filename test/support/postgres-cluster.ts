import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/redis/local-server';

/** Finds Debian's PostgreSQL binaries (postgresql-NN package). */
function postgresBinDir(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).filter((v) => existsSync(path.join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(base, versions[0], 'bin') : null;
}


/** A PostgreSQL server of the test's own. */
export interface TemporaryPostgres {
  url: string;
  /** Stops the server and deletes its files. */
  stop: () => void;
  /** Kills the server as a crash would (`-m immediate`), keeping its files: an outage. */
  halt: () => void;
  /** Starts a halted server again on the same port. */
  resume: () => void;
}

/**
 * A throwaway PostgreSQL cluster for the tests that need several processes on
 * one database (scale-out, worker crash recovery), when no DATABASE_URL is
 * given, or a server a test may stop and start (outages). Uses the machine's
 * PostgreSQL binaries; as root it runs them as the `postgres` user, as initdb
 * requires.
 */
export async function startTemporaryPostgres(): Promise<TemporaryPostgres | null> {
  let bin = postgresBinDir();
  if (!bin && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    // Same policy as redis-server for `npm start`: as root on Debian, install what is missing.
    console.log('PostgreSQL binaries not found: installing Debian\'s postgresql package for the multi-process tests…');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
    spawnSync('apt-get', ['install', '-y', '-qq', 'postgresql'], { stdio: 'ignore', env });
    bin = postgresBinDir();
  }
  if (!bin) return null;
  const isRoot = process.getuid?.() === 0;
  if (isRoot && spawnSync('id', ['postgres']).status !== 0) return null;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'atelier-pg-'));
  const port = await freePort();
  const run = (cmd: string, args: string[]) => {
    const full = path.join(bin, cmd);
    if (isRoot) execFileSync('runuser', ['-u', 'postgres', '--', full, ...args], { stdio: 'ignore' });
    else execFileSync(full, args, { stdio: 'ignore' });
  };
  if (isRoot) execFileSync('chown', ['postgres', dir]);
  run('initdb', ['-D', dir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const start = () => run('pg_ctl', ['-D', dir, '-w', '-l', path.join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300`, 'start']);
  const halt = () => run('pg_ctl', ['-D', dir, '-m', 'immediate', 'stop']);
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: () => {
      try {
        halt();
      } catch {
        // already halted by the test
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    halt,
    resume: start,
  };
}

