import { GraphQLError } from 'graphql';
import { QueryFailedError } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { OutageGate } from '../../src/gpu-worker/outage-gate';
import { createLogger } from '../../src/observability/logger';
import { AppError, badInput, isServiceOutage, serviceUnavailable } from '../../src/kernel/errors';

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('isServiceOutage', () => {
  it('recognises PostgreSQL and Redis being unreachable, however wrapped', () => {
    for (const error of [
      refused(),
      new AggregateError([refused(), refused()], ''),
      pgError('57P01', 'terminating connection due to administrator command'),
      pgError('08006', 'connection failure'),
      pgError('57P03', 'the database system is starting up'),
      new QueryFailedError('SELECT 1', [], new Error('Connection terminated unexpectedly')),
      Object.assign(new Error('Reached the max retries per request limit (which is 3).'), { name: 'MaxRetriesPerRequestError' }),
      new Error('Connection is closed.'),
      // ioredis's commandTimeout: a Redis that is reachable but does not answer.
      new Error('Command timed out'),
      // ioredis's socketTimeout: a connection that got nothing while a command waited, destroyed.
      new Error("Socket timeout. Expecting data, but didn't receive any in 6000ms."),
      new GraphQLError('wrapped', { originalError: refused() }),
      serviceUnavailable(),
      // A compose service's host name while its container is recreated.
      Object.assign(new Error('getaddrinfo ENOTFOUND redis'), { code: 'ENOTFOUND', syscall: 'getaddrinfo' }),
    ]) {
      expect(isServiceOutage(error)).toBe(true);
    }
  });

  it('leaves every other error alone', () => {
    for (const error of [
      new Error('boom'),
      pgError('23505', 'duplicate key value violates unique constraint'),
      new QueryFailedError('INSERT', [], pgError('22P02', 'invalid input syntax for type uuid')),
      badInput('prompt', 'Prompt is empty'),
      new AppError('INTERNAL', 'Connection terminated'),
      new Error('Render step timed out'),
      null,
      'ECONNREFUSED',
    ]) {
      expect(isServiceOutage(error)).toBe(false);
    }
  });
});

describe('OutageGate', () => {
  function gate(probe: () => Promise<void>) {
    const calls: string[] = [];
    const g = new OutageGate({
      probe, logger: createLogger({ level: 'silent' }), maxRetryMs: 200, backoffMs: 5, maxBackoffMs: 20,
      pause: async () => void calls.push('pause'),
      resume: async () => void calls.push('resume'),
    });
    return { g, calls };
  }

  it('retries bookkeeping through an outage, pausing the worker once and resuming it when the probe passes', async () => {
    let down = true;
    const { g, calls } = gate(async () => { if (down) throw refused(); });
    let tries = 0;
    const result = g.durable(async () => {
      tries += 1;
      if (down) throw refused();
      return 'recorded';
    });
    await new Promise((r) => setTimeout(r, 40));
    expect(g.down).toBe(true);
    down = false;
    expect(await result).toBe('recorded');
    expect(tries).toBeGreaterThan(1);
    while (g.down) await new Promise((r) => setTimeout(r, 5));
    expect(calls).toEqual(['pause', 'resume']);
    await g.stop();
  });

  it('throws other errors at once, and an outage once it outlasts maxRetryMs', async () => {
    const { g } = gate(async () => { throw refused(); });
    let tries = 0;
    await expect(g.durable(async () => { tries += 1; throw new Error('bad input'); })).rejects.toThrow('bad input');
    expect(tries).toBe(1);
    const started = Date.now();
    await expect(g.durable(async () => { throw refused(); })).rejects.toThrow('ECONNREFUSED');
    expect(Date.now() - started).toBeLessThan(400);
    await g.stop();
  });
});
