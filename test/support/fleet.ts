import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { inject } from 'vitest';
import { connectToDatabase, createScratchDatabase, testEnv } from './app';
import * as factory from './factories';
import { waitFor } from './graphql';
import { spawnAtelier, type AtelierProcess } from './processes';

/** What a job's row says of its run. */
export interface JobRun { status: string; step: number; attempts: number }

/**
 * Atelier as separate processes (`node dist/src/main.js api|worker`) on one
 * scratch database of the suite's PostgreSQL server: an API process, an
 * ENTERPRISE user (long jobs), and workers started as a test needs them.
 */
export interface Fleet {
  env: Record<string, string>;
  api: AtelierProcess;
  db: DataSource;
  pg: Client;
  user: factory.TestUser;
  /** Starts a process with the fleet's settings and `overrides`; it is killed at `close`. */
  spawn(role: 'api' | 'worker', overrides?: Record<string, string>): Promise<AtelierProcess>;
  jobRow(id: string): Promise<JobRun>;
  /** Waits until the job runs (PROCESSING, past its third step). */
  running(id: string, timeoutMs?: number): Promise<void>;
  /** Waits until the job is COMPLETED and gives its row. */
  completed(id: string, timeoutMs?: number): Promise<JobRun>;
  close(): Promise<void>;
}

export async function startFleet(overrides: Record<string, string> = {}): Promise<Fleet> {
  const serverUrl = inject('sharedDatabaseUrl');
  if (!serverUrl) throw new Error('No PostgreSQL server: set DATABASE_URL or install PostgreSQL (apt-get install postgresql)');
  const scratch = await createScratchDatabase(serverUrl);
  const env = testEnv({ DATABASE_URL: scratch.url, ...overrides });
  const procs: AtelierProcess[] = [];
  const spawn = async (role: 'api' | 'worker', more: Record<string, string> = {}) => {
    const proc = await spawnAtelier(role, { ...env, ...more });
    procs.push(proc);
    return proc;
  };
  const api = await spawn('api');
  const pg = new Client({ connectionString: env.DATABASE_URL });
  await pg.connect();
  const db = await connectToDatabase(env.DATABASE_URL!);
  const user = await factory.user({ url: api.url!, db }, { tier: 'ENTERPRISE' });
  const jobRow = async (id: string): Promise<JobRun> => (await pg.query('SELECT status, step, attempts FROM jobs WHERE id = $1', [id])).rows[0];
  return {
    env, api, db, pg, user, spawn, jobRow,
    running: async (id, timeoutMs = 30_000) => {
      await waitFor(async () => {
        const row = await jobRow(id);
        return row.status === 'PROCESSING' && row.step >= 3;
      }, timeoutMs, 20);
    },
    completed: (id, timeoutMs = 60_000) => waitFor(async () => {
      const row = await jobRow(id);
      return row.status === 'COMPLETED' ? row : null;
    }, timeoutMs, 100),
    close: async () => {
      await Promise.all(procs.map((p) => p.kill('SIGKILL')));
      await pg.end();
      await db.destroy();
      await scratch.drop();
    },
  };
}
