import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as factory from '../support/factories';
import { startFleet, type Fleet } from '../support/fleet';
import { waitFor } from '../support/graphql';
import type { AtelierProcess } from '../support/processes';

/*
 * SIGTERM on real processes (`node dist/src/main.js api|worker`) sharing one
 * PostgreSQL database: a worker out of grace hands its job back and another
 * worker completes it once; a worker within grace finishes its job before it
 * exits; the API closes WebSockets with 1001 so clients reconnect elsewhere.
 */
let fleet: Fleet;
let api: AtelierProcess;
let user: factory.TestUser;

beforeAll(async () => {
  fleet = await startFleet({ LOG_LEVEL: 'info', ATELIER_SHUTDOWN_GRACE_SECONDS: '1', ATELIER_WORKER_LOCK_SECONDS: '30' });
  ({ api, user } = fleet);
});

afterAll(async () => {
  await fleet?.close();
});

const jobRow = (id: string) => fleet.jobRow(id);
const running = (id: string) => fleet.running(id);

/** JSON log lines of a process's output. */
function logLines(proc: AtelierProcess): Record<string, any>[] {
  return proc.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

describe('graceful shutdown on SIGTERM', () => {
  it('a worker out of grace hands its job back; another worker completes it exactly once; request id in every log', async () => {
    const first = await fleet.spawn('worker');
    const { id: jobId, requestId } = await factory.job({ url: api.url! }, user, { prompt: 'survive a restart', width: 1024, height: 1024, steps: 150, count: 2, seed: 7 }, { requestId: 'req-sigterm-1' });
    expect(requestId).toBe('req-sigterm-1');
    await running(jobId);

    const stoppedAt = Date.now();
    expect(await first.kill('SIGTERM')).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    // Handed back at once (not left to the 30 s stalled-job recovery), with nothing written.
    expect((await jobRow(jobId)).status).toBe('PENDING');
    expect((await fleet.pg.query('SELECT count(*)::int AS n FROM images WHERE job_id = $1', [jobId])).rows[0].n).toBe(0);
    expect(logLines(first).map((l) => l.msg)).toEqual(expect.arrayContaining(['job started', 'worker shutting down: job handed back to the queue', 'shutdown complete']));

    const second = await fleet.spawn('worker');
    const done = await fleet.completed(jobId);
    expect(done.attempts).toBe(2);
    const { rows: images } = await fleet.pg.query('SELECT index, seed FROM images WHERE job_id = $1 ORDER BY index', [jobId]);
    expect(images).toEqual([{ index: 0, seed: 7 }, { index: 1, seed: 8 }]);
    const { rows: usage } = await fleet.pg.query('SELECT images FROM usage_records WHERE job_id = $1', [jobId]);
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
    const worker = await fleet.spawn('worker', { ATELIER_SHUTDOWN_GRACE_SECONDS: '120' });
    const { id: jobId, requestId } = await factory.job({ url: api.url! }, user, { prompt: 'finish me', width: 1024, height: 1024, steps: 150, seed: 11 }, { requestId: 'req-sigterm-2' });
    expect(requestId).toBe('req-sigterm-2');
    await running(jobId);
    const signalledAt = new Date();
    expect(await worker.kill('SIGTERM')).toBe(0);
    expect(await jobRow(jobId)).toMatchObject({ status: 'COMPLETED', attempts: 1 });
    const { rows: [{ completed_at: completedAt }] } = await fleet.pg.query('SELECT completed_at FROM jobs WHERE id = $1', [jobId]);
    expect(completedAt.getTime()).toBeGreaterThan(signalledAt.getTime());
    expect((await fleet.pg.query('SELECT count(*)::int AS n FROM images WHERE job_id = $1', [jobId])).rows[0].n).toBe(1);
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
