import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectToDatabase, createScratchDatabase, testEnv } from '../support/app';
import * as factory from '../support/factories';
import { waitFor } from '../support/graphql';
import { spawnAtelier, type AtelierProcess } from '../support/processes';

/*
 * SIGTERM on real processes (`node dist/src/main.js api|worker`) sharing one
 * PostgreSQL database: a worker out of grace hands its job back and another
 * worker completes it once; a worker within grace finishes its job before it
 * exits; the API closes WebSockets with 1001 so clients reconnect elsewhere.
 */
const serverUrl = inject('sharedDatabaseUrl');
const procs: AtelierProcess[] = [];
let env: Record<string, string>;
let drop: () => Promise<void>;
let api: AtelierProcess;
let pg: Client;
let db: DataSource;
let user: factory.TestUser;

beforeAll(async () => {
  if (!serverUrl) throw new Error('No PostgreSQL server: set DATABASE_URL or install PostgreSQL (apt-get install postgresql)');
  const scratch = await createScratchDatabase(serverUrl);
  drop = scratch.drop;
  env = testEnv({ DATABASE_URL: scratch.url, LOG_LEVEL: 'info', ATELIER_SHUTDOWN_GRACE_SECONDS: '1', ATELIER_WORKER_LOCK_SECONDS: '30' });
  api = await spawnAtelier('api', env);
  procs.push(api);
  pg = new Client({ connectionString: env.DATABASE_URL });
  await pg.connect();
  db = await connectToDatabase(env.DATABASE_URL);
  user = await factory.user({ url: api.url!, db }, { tier: 'ENTERPRISE' });
});

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await pg?.end();
  await db?.destroy();
  await drop?.();
});

async function jobRow(id: string): Promise<{ status: string; step: number; attempts: number }> {
  return (await pg.query('SELECT status, step, attempts FROM jobs WHERE id = $1', [id])).rows[0];
}

async function running(id: string): Promise<void> {
  await waitFor(async () => {
    const row = await jobRow(id);
    return row.status === 'PROCESSING' && row.step >= 3;
  }, 30_000, 20);
}

/** JSON log lines of a process's output. */
function logLines(proc: AtelierProcess): Record<string, any>[] {
  return proc.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

describe('graceful shutdown on SIGTERM', () => {
  it('a worker out of grace hands its job back; another worker completes it exactly once; request id in every log', async () => {
    const first = await spawnAtelier('worker', env);
    procs.push(first);
    const { id: jobId, requestId } = await factory.job({ url: api.url! }, user, { prompt: 'survive a restart', width: 1024, height: 1024, steps: 150, count: 2, seed: 7 }, { requestId: 'req-sigterm-1' });
    expect(requestId).toBe('req-sigterm-1');
    await running(jobId);

    const stoppedAt = Date.now();
    expect(await first.kill('SIGTERM')).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    // Handed back at once (not left to the 30 s stalled-job recovery), with nothing written.
    expect((await jobRow(jobId)).status).toBe('PENDING');
    expect((await pg.query('SELECT count(*)::int AS n FROM images WHERE job_id = $1', [jobId])).rows[0].n).toBe(0);
    expect(logLines(first).map((l) => l.msg)).toEqual(expect.arrayContaining(['job started', 'worker shutting down: job handed back to the queue', 'shutdown complete']));

    const second = await spawnAtelier('worker', env);
    procs.push(second);
    const done = await waitFor(async () => {
      const row = await jobRow(jobId);
      return row.status === 'COMPLETED' ? row : null;
    }, 60_000, 100);
    expect(done.attempts).toBe(2);
    const { rows: images } = await pg.query('SELECT index, seed FROM images WHERE job_id = $1 ORDER BY index', [jobId]);
    expect(images).toEqual([{ index: 0, seed: 7 }, { index: 1, seed: 8 }]);
    const { rows: usage } = await pg.query('SELECT images FROM usage_records WHERE job_id = $1', [jobId]);
    expect(usage).toEqual([{ images: 2 }]);

    // One request id from the API's log line through both workers' lines for this job.
    expect(logLines(api).find((l) => l.requestId === 'req-sigterm-1' && l.msg === 'graphql operation')).toMatchObject({ operation: 'CreateGeneration', outcome: 'ok', userId: user.id });
    await waitFor(async () => logLines(second).some((l) => l.msg === 'job completed' && l.jobId === jobId));
    for (const worker of [first, second]) {
      const mine = logLines(worker).filter((l) => l.jobId === jobId);
      expect(mine.length).toBeGreaterThan(0);
      for (const line of mine) expect(line.requestId).toBe('req-sigterm-1');
    }
    await second.kill('SIGTERM');
  });

  it('a worker within its grace period finishes the running job before it exits', async () => {
    const worker = await spawnAtelier('worker', { ...env, ATELIER_SHUTDOWN_GRACE_SECONDS: '120' });
    procs.push(worker);
    const { id: jobId, requestId } = await factory.job({ url: api.url! }, user, { prompt: 'finish me', width: 1024, height: 1024, steps: 150, seed: 11 }, { requestId: 'req-sigterm-2' });
    expect(requestId).toBe('req-sigterm-2');
    await running(jobId);
    const signalledAt = new Date();
    expect(await worker.kill('SIGTERM')).toBe(0);
    expect(await jobRow(jobId)).toMatchObject({ status: 'COMPLETED', attempts: 1 });
    const { rows: [{ completed_at: completedAt }] } = await pg.query('SELECT completed_at FROM jobs WHERE id = $1', [jobId]);
    expect(completedAt.getTime()).toBeGreaterThan(signalledAt.getTime());
    expect((await pg.query('SELECT count(*)::int AS n FROM images WHERE job_id = $1', [jobId])).rows[0].n).toBe(1);
  });

  it('the API closes WebSockets with 1001 (going away) and exits cleanly', async () => {
    const socket = new WebSocket(`${api.url!.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${user.token}` } })));
      socket.on('message', (data) => JSON.parse(data.toString()).type === 'connection_ack' && resolve());
      socket.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    const exit = api.kill('SIGTERM');
    expect(await closed).toBe(1001);
    expect(await exit).toBe(0);
    await expect(fetch(`${api.url}/healthz`)).rejects.toThrow();
  });
});
