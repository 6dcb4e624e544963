import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { connectToDatabase, createScratchDatabase, testEnv } from '../support/app';
import * as factory from '../support/factories';
import { gqlData, waitFor } from '../support/graphql';
import { spawnAtelier, type AtelierProcess } from '../support/processes';

/*
 * Several OS processes on one database: needs a PostgreSQL server (PGlite is
 * one process only). The suite provides one: DATABASE_URL in CI, otherwise a
 * throwaway cluster from the machine's PostgreSQL binaries.
 */
const serverUrl = inject('sharedDatabaseUrl');
const procs: AtelierProcess[] = [];
let env: Record<string, string>;
let drop: () => Promise<void>;
let api: AtelierProcess;
let db: DataSource;

beforeAll(async () => {
  if (!serverUrl) throw new Error('No PostgreSQL server: set DATABASE_URL or install PostgreSQL (apt-get install postgresql)');
  const scratch = await createScratchDatabase(serverUrl);
  drop = scratch.drop;
  env = testEnv({ DATABASE_URL: scratch.url, ATELIER_WORKER_LOCK_SECONDS: '2' });
  api = await spawnAtelier('api', env);
  procs.push(api);
  db = await connectToDatabase(env.DATABASE_URL);
});

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await db?.destroy();
  await drop?.();
});

describe('worker crash recovery', () => {
  it('a worker killed with SIGKILL mid-job: another finishes it, exactly one set of images', async () => {
    // ENTERPRISE for a long job (2048², 150 steps, 2 images).
    const user = await factory.user({ url: api.url!, db }, { tier: 'ENTERPRISE' });
    const admin = await gqlData<any>(api.url!, '{ me { id } }', {}, user.token);
    expect(admin.me.id).toBe(user.id);
    const { Client } = await import('pg');
    const pg = new Client({ connectionString: env.DATABASE_URL });
    await pg.connect();

    const first = await spawnAtelier('worker', env);
    procs.push(first);
    const { createGeneration: job } = await gqlData<any>(api.url!, 'mutation { createGeneration(input: { prompt: "survive a crash", width: 1024, height: 1024, steps: 150, count: 2, seed: 42 }) { id } }', {}, user.token);
    await waitFor(async () => {
      const { rows } = await pg.query('SELECT status, step FROM jobs WHERE id = $1', [job.id]);
      return rows[0].status === 'PROCESSING' && rows[0].step >= 3;
    }, 30_000, 20);
    await first.kill('SIGKILL');
    const { rows: mid } = await pg.query('SELECT status FROM jobs WHERE id = $1', [job.id]);
    expect(mid[0].status).toBe('PROCESSING');

    const second = await spawnAtelier('worker', env);
    procs.push(second);
    const done = await waitFor(async () => {
      const { rows } = await pg.query('SELECT status, attempts FROM jobs WHERE id = $1', [job.id]);
      return rows[0].status === 'COMPLETED' ? rows[0] : null;
    }, 60_000, 100);
    expect(done.attempts).toBeGreaterThanOrEqual(2);
    const { rows: images } = await pg.query('SELECT index, seed FROM images WHERE job_id = $1 ORDER BY index', [job.id]);
    expect(images).toEqual([{ index: 0, seed: 42 }, { index: 1, seed: 43 }]);
    await pg.end();
  });
});
